; disk.asm - a log on the primary master ATA disk, if there is one.
;
; Programmed I/O with polling (ATA/ATAPI-6 §9.5 PIO data-in, §9.6 PIO data-out) and the
; device's interrupt disabled (nIEN), so only the shell task touches the drive and no IRQ
; handler is needed. Layout: LBA 0 is the header ("TOYOSLOG", dword record count), record n
; (from 1) is LBA n: dword n, then the command line as a NUL-terminated string.
; The shell appends every command line it runs; `log` reads the last records back.

ATA_DATA        equ 0x1F0
ATA_ERROR       equ 0x1F1
ATA_COUNT       equ 0x1F2
ATA_LBA0        equ 0x1F3
ATA_LBA1        equ 0x1F4
ATA_LBA2        equ 0x1F5
ATA_DEVICE      equ 0x1F6
ATA_STATUS      equ 0x1F7
ATA_CTRL        equ 0x3F6
LOG_SHOWN       equ 8                ; `log` prints at most this many records

section .text
; disk_init: finds the disk and opens (or creates) the log. Boot time, interrupts off.
disk_init:
        pushad
        mov dx, ATA_CTRL
        mov al, 0x02                ; nIEN: no interrupts from the drive
        out dx, al
        mov dx, ATA_DEVICE
        mov al, 0xE0                ; device 0, LBA
        out dx, al
        call ata_delay
        mov dx, ATA_STATUS
        in al, dx
        cmp al, 0xFF                ; floating bus: no controller
        je .none
        test al, 0x40               ; DRDY: a drive answers (no drive reads 00h)
        jz .none
        mov dx, ATA_STATUS
        mov al, 0xEC                ; IDENTIFY DEVICE
        out dx, al
        call ata_wait_drq
        jc .none
        mov edi, dsk_buf
        call ata_read_words
        mov eax, [dsk_buf + 60 * 2] ; words 60-61: LBA28 sectors
        mov [dsk_sectors], eax
        PUTS "disk"
        PDEC eax
        PUTLN " sectors"
        xor eax, eax
        call ata_read_sector        ; the header
        jc .fail
        cmp dword [dsk_buf], 'TOYO'
        jne .new
        cmp dword [dsk_buf + 4], 'SLOG'
        jne .new
        mov eax, [dsk_buf + 8]
        mov [dsk_count], eax
        PUTS "disk log"
        PDEC eax
        PUTLN " records"
        jmp .done
.new:   mov dword [dsk_count], 0
        call dlog_write_header
        jc .fail
        PUTLN "disk log new"
        jmp .done
.fail:  mov dword [dsk_sectors], 0
        PUTLN "disk error"
        jmp .done
.none:  mov dword [dsk_sectors], 0
        PUTLN "disk none"
.done:  popad
        ret

; dlog_append: esi = NUL-terminated text; appends it as the next record (if there is a disk
; and room). Preserves all registers.
dlog_append:
        pushad
        mov eax, [dsk_count]
        inc eax
        cmp eax, [dsk_sectors]
        jae .out                    ; no disk (0 sectors) or full
        mov edi, dsk_buf
        mov ecx, 128
        push eax
        xor eax, eax
        rep stosd
        pop eax
        mov [dsk_buf], eax
        mov edi, dsk_buf + 4
        mov ecx, 500
.copy:  lodsb
        stosb
        test al, al
        jz .copied
        loop .copy
.copied:
        mov eax, [dsk_count]
        inc eax
        call ata_write_sector
        jc .out
        inc dword [dsk_count]
        call dlog_write_header
.out:   popad
        ret

dlog_write_header:
        mov edi, dsk_buf
        mov ecx, 128
        xor eax, eax
        rep stosd
        mov dword [dsk_buf], 'TOYO'
        mov dword [dsk_buf + 4], 'SLOG'
        mov eax, [dsk_count]
        mov [dsk_buf + 8], eax
        xor eax, eax
        jmp ata_write_sector

; `log`: the record count and the last LOG_SHOWN records, read back from the disk.
cmd_log:
        cmp dword [dsk_sectors], 0
        jne .have
        PUTLN "no disk"
        ret
.have:  PUTS "log"
        PDEC [dsk_count]
        PUTLN " records"
        mov ebx, [dsk_count]
        sub ebx, LOG_SHOWN - 1
        jg .from
        mov ebx, 1
.from:  cmp ebx, [dsk_count]
        ja .end
        mov eax, ebx
        call ata_read_sector
        jc .err
        PUTS "  record"
        PDEC [dsk_buf]
        PUTS ": "
        mov esi, dsk_buf + 4
        call con_puts
        call con_nl
        inc ebx
        jmp .from
.err:   PUTLN "disk error"
.end:   ret

; ata_read_sector: eax = LBA -> dsk_buf; CF=1 on error.
ata_read_sector:
        push edi
        mov ch, 0x20                ; READ SECTORS
        call ata_command
        call ata_wait_drq
        jc .out
        mov edi, dsk_buf
        call ata_read_words
        clc
.out:   pop edi
        ret

; ata_write_sector: eax = LBA <- dsk_buf; CF=1 on error.
ata_write_sector:
        push esi
        mov ch, 0x30                ; WRITE SECTORS
        call ata_command
        call ata_wait_drq
        jc .out
        mov esi, dsk_buf
        mov ecx, 256
        mov dx, ATA_DATA
        rep outsw
        call ata_wait_idle          ; the write completes (BSY clears) before anything else
.out:   pop esi
        ret

; ata_command: eax = LBA (28-bit), ch = command; one sector.
ata_command:
        push eax
        call ata_wait_idle
        pop eax
        push eax
        mov dx, ATA_COUNT
        mov al, 1
        out dx, al
        mov eax, [esp]
        mov dx, ATA_LBA0
        out dx, al
        shr eax, 8
        mov dx, ATA_LBA1
        out dx, al
        shr eax, 8
        mov dx, ATA_LBA2
        out dx, al
        shr eax, 8
        and al, 0x0F
        or al, 0xE0
        mov dx, ATA_DEVICE
        out dx, al
        mov al, ch
        mov dx, ATA_STATUS
        out dx, al
        call ata_delay
        pop eax
        ret

; ata_wait_idle: until BSY is clear; CF=1 if ERR.
ata_wait_idle:
        mov dx, ATA_STATUS
.w:     in al, dx
        test al, 0x80
        jnz .w
        test al, 0x01
        jnz .err
        clc
        ret
.err:   stc
        ret

; ata_wait_drq: until BSY is clear, then CF=1 if ERR or no DRQ.
ata_wait_drq:
        call ata_wait_idle
        jc .out
        test al, 0x08
        jnz .out                    ; DRQ: CF is clear
        stc
.out:   ret

; ata_read_words: 256 words from the data port to edi.
ata_read_words:
        push ecx
        mov ecx, 256
        mov dx, ATA_DATA
        rep insw
        pop ecx
        ret

; ata_delay: the 400 ns after a command before Status is valid (§9.6): four alternate status reads.
ata_delay:
        push eax
        mov dx, ATA_CTRL
        in al, dx
        in al, dx
        in al, dx
        in al, dx
        pop eax
        ret

section .bss
        alignb 4
dsk_sectors:    resd 1
dsk_count:      resd 1
dsk_buf:        resb 512
