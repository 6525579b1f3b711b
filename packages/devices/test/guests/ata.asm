; Multiboot guest that exercises the ATA disk on the primary IDE channel with PIO and prints
; what it sees on COM1, one "name value" line per observation, so the transcript can be compared
; with the reference machine's (qemu-system-i386 -drive file=DISK,format=raw,if=ide).
; Expects the disk ata.test.ts / ata-qemu.mjs generate: 4096 sectors, byte i of sector s =
; (s * 7 + i) & 0xFF. Own GDT/IDT; the PICs are reprogrammed with only IRQ14 (and the cascade)
; unmasked; an IRQ14 handler counts interrupts. It starts with a software reset, so whatever the
; firmware did to the drive (QEMU's SeaBIOS) does not show.
bits 32
org 0x100000

%include "flat32.inc"
COM1     equ 0x3F8
ATA      equ 0x1F0
ATA_CTL  equ 0x3F6
SPIN     equ 20000                   ; iterations that outlast any interrupt latency
BUSY_POLLS equ 10000000              ; bound on waiting for BSY to clear

MULTIBOOT_HEADER

%macro PRINT 2                       ; PRINT "label", value (anything mov eax can take)
    mov eax, %2
    mov esi, %%label
    call print_line
    jmp %%after
%%label: db %1, 0
%%after:
%endmacro

%macro OUTB 2
    mov dx, %1
    mov al, %2
    out dx, al
%endmacro

%macro INB 1                         ; result in EAX (zero-extended)
    mov dx, %1
    xor eax, eax
    in al, dx
%endmacro

start:
    FLAT32_ENTER
    IDT_FILL unexpected
    IDT_GATE 0x2E, irq14
    IDT_GATE 0x27, spurious          ; IR7 of either PIC: spurious interrupts
    IDT_GATE 0x2F, spurious
    lidt [idtr]
    PIC_REMAP 0xFB, 0xBF             ; unmask IRQ2 (cascade) and IRQ14 (slave IR6)

    mov esi, hello
    call puts

    ; Whatever the firmware left: select device 0, enable interrupts, acknowledge any pending one.
    OUTB ATA + 6, 0xA0
    OUTB ATA_CTL, 0x00
    INB ATA + 7
    sti
    call spin
    call zero_irqs

    ; ---- software reset (ATA-6 §9.2): SRST on, then off; nIEN clear ----
    OUTB ATA_CTL, 0x04
    call spin
    OUTB ATA_CTL, 0x00
    call settle
    INB ATA_CTL
    PRINT "reset.altstatus", eax
    INB ATA + 1
    PRINT "reset.error", eax
    call print_taskfile
    INB ATA + 7
    PRINT "reset.status", eax
    ; Not compared: QEMU completes the reset while SRST is still set and raises INTRQ for it;
    ; ATA-6 §9.2 has the device busy until SRST is cleared and no interrupt.
    call zero_irqs

    ; ---- registers: write/read back, device 1 absent ----
    OUTB ATA + 2, 0x55
    OUTB ATA + 3, 0xAA
    OUTB ATA + 4, 0x12
    OUTB ATA + 5, 0x34
    call print_taskfile
    OUTB ATA + 6, 0xB0               ; select device 1 (absent)
    INB ATA + 7
    PRINT "dev1.status", eax
    INB ATA_CTL
    PRINT "dev1.altstatus", eax
    INB ATA + 6
    PRINT "dev1.device", eax
    INB ATA + 2
    PRINT "dev1.count", eax
    OUTB ATA + 7, 0xEC               ; IDENTIFY to an absent device: ignored
    call spin
    INB ATA + 7
    PRINT "dev1.identify.status", eax
    PRINT "dev1.identify.irqs", [irqs]
    OUTB ATA + 6, 0xA0
    INB ATA + 7
    PRINT "dev0.status", eax

    ; ---- IDENTIFY DEVICE (§8.15) ----
    call zero_irqs
    OUTB ATA + 7, 0xEC
    call wait_irq
    INB ATA_CTL
    PRINT "identify.status", eax
    PRINT "identify.irqs", [irqs]
    mov edi, buf
    call read_block
    INB ATA + 7
    PRINT "identify.done.status", eax
    movzx eax, word [buf + 0 * 2]
    PRINT "id.w0.config", eax
    movzx eax, word [buf + 1 * 2]
    PRINT "id.w1.cylinders", eax
    movzx eax, word [buf + 3 * 2]
    PRINT "id.w3.heads", eax
    movzx eax, word [buf + 6 * 2]
    PRINT "id.w6.sectors", eax
    movzx eax, word [buf + 47 * 2]
    PRINT "id.w47.maxmultiple", eax
    movzx eax, word [buf + 54 * 2]
    PRINT "id.w54.curcyl", eax
    movzx eax, word [buf + 55 * 2]
    PRINT "id.w55.curheads", eax
    movzx eax, word [buf + 56 * 2]
    PRINT "id.w56.cursectors", eax
    mov eax, [buf + 57 * 2]
    PRINT "id.w57.chscapacity", eax
    movzx eax, word [buf + 59 * 2]
    PRINT "id.w59.multiple", eax
    mov eax, [buf + 60 * 2]
    PRINT "id.w60.lba28sectors", eax
    mov eax, [buf + 100 * 2]
    PRINT "id.w100.lba48sectors", eax
    movzx eax, word [buf + 83 * 2]
    and eax, 0x0400
    PRINT "id.w83.lba48bit", eax

    ; ---- READ SECTORS LBA 0, 2 sectors: DRQ + INTRQ per sector, none at the end (§9.5) ----
    call zero_irqs
    mov ebx, 0
    mov cl, 2
    mov ch, 0x20
    call issue_lba28
    call wait_irq
    PRINT "read.irqs1", [irqs]
    INB ATA + 7
    PRINT "read.status1", eax
    mov edi, buf
    call read_block
    call wait_irq
    PRINT "read.irqs2", [irqs]
    INB ATA + 7
    PRINT "read.status2", eax
    mov edi, buf + 512
    call read_block
    call settle
    PRINT "read.irqs3", [irqs]
    INB ATA + 7
    PRINT "read.status3", eax
    call print_taskfile
    mov esi, buf
    mov ecx, 256
    call checksum
    PRINT "read.sum", eax
    PRINT "read.s0w0", [buf]
    PRINT "read.s1w0", [buf + 512]

    ; ---- WRITE SECTORS LBA 3, 2 sectors: first DRQ without interrupt, INTRQ per sector (§9.6) ----
    call zero_irqs
    mov ebx, 3
    mov cl, 2
    mov ch, 0x30
    call issue_lba28
    call settle
    PRINT "write.irqs0", [irqs]
    INB ATA_CTL
    PRINT "write.status0", eax
    mov esi, pattern
    call write_block
    call wait_irq
    PRINT "write.irqs1", [irqs]
    INB ATA + 7
    PRINT "write.status1", eax
    mov esi, pattern + 512
    call write_block
    call wait_irq
    PRINT "write.irqs2", [irqs]
    INB ATA + 7
    PRINT "write.status2", eax
    call print_taskfile

    ; ---- read them back (2 sectors from LBA 2: one untouched, one written) ----
    mov ebx, 2
    mov cl, 2
    mov ch, 0x20
    call issue_lba28
    call wait_irq
    INB ATA + 7
    mov edi, buf
    call read_block
    call wait_irq
    INB ATA + 7
    mov edi, buf + 512
    call read_block
    mov esi, buf
    mov ecx, 256
    call checksum
    PRINT "reread.sum", eax
    PRINT "reread.s2w0", [buf]
    PRINT "reread.s3w0", [buf + 512]
    PRINT "reread.s3w127", [buf + 512 + 508]

    ; ---- SET MULTIPLE MODE 4 (§8.39), READ MULTIPLE 8 sectors: 2 blocks, 2 interrupts ----
    call zero_irqs
    OUTB ATA + 2, 4
    OUTB ATA + 7, 0xC6
    call wait_irq
    INB ATA + 7
    PRINT "setmult.status", eax
    call zero_irqs
    mov ebx, 0
    mov cl, 8
    mov ch, 0xC4
    call issue_lba28
    call wait_irq
    INB ATA + 7
    PRINT "readmult.status1", eax
    mov edi, buf
    mov ecx, 1024
    mov dx, ATA
    rep insw
    call wait_irq
    INB ATA + 7
    PRINT "readmult.status2", eax
    mov edi, buf + 2048
    mov ecx, 1024
    mov dx, ATA
    rep insw
    call settle
    INB ATA + 7
    PRINT "readmult.status3", eax
    PRINT "readmult.irqs", [irqs]
    mov esi, buf
    mov ecx, 1024
    call checksum
    PRINT "readmult.sum", eax
    ; WRITE MULTIPLE 4 sectors at LBA 8 (one block), then read back with READ SECTORS EXT
    call zero_irqs
    mov ebx, 8
    mov cl, 4
    mov ch, 0xC5
    call issue_lba28
    INB ATA_CTL
    PRINT "writemult.status0", eax
    mov esi, pattern
    mov ecx, 1024
    mov dx, ATA
    rep outsw
    call wait_irq
    INB ATA + 7
    PRINT "writemult.status1", eax
    PRINT "writemult.irqs", [irqs]
    ; bad multiple count: 3 is not a power of two
    OUTB ATA + 2, 3
    OUTB ATA + 7, 0xC6
    call wait_irq
    INB ATA + 7
    PRINT "setmult3.status", eax
    INB ATA + 1
    PRINT "setmult3.error", eax

    ; ---- READ SECTORS EXT (48-bit, §8.28): LBA 9, 1 sector ----
    OUTB ATA + 6, 0x40
    OUTB ATA + 2, 0
    OUTB ATA + 3, 0
    OUTB ATA + 4, 0
    OUTB ATA + 5, 0
    OUTB ATA + 2, 1
    OUTB ATA + 3, 9
    OUTB ATA + 4, 0
    OUTB ATA + 5, 0
    OUTB ATA + 7, 0x24
    call wait_irq
    INB ATA + 7
    PRINT "readext.status", eax
    mov edi, buf
    call read_block
    mov esi, buf
    mov ecx, 128
    call checksum
    PRINT "readext.sum", eax
    PRINT "readext.w0", [buf]

    ; ---- CHS read (§6.2.1): cylinder 0, head 1, sector 2 = LBA 64 with 16 heads x 63 ----
    OUTB ATA + 6, 0xA1
    OUTB ATA + 2, 1
    OUTB ATA + 3, 2
    OUTB ATA + 4, 0
    OUTB ATA + 5, 0
    OUTB ATA + 7, 0x20
    call wait_irq
    INB ATA + 7
    PRINT "chs.status", eax
    mov edi, buf
    call read_block
    PRINT "chs.w0", [buf]
    call print_taskfile

    ; ---- errors: out of range, unknown command ----
    mov ebx, 4096
    mov cl, 1
    mov ch, 0x20
    call issue_lba28
    call wait_irq
    INB ATA + 7
    PRINT "range.status", eax
    INB ATA + 1
    and al, 0x14                     ; ABRT or IDNF (§8.27.6 allows either)
    setnz al
    PRINT "range.error", eax
    OUTB ATA + 7, 0xFF
    call wait_irq
    INB ATA + 7
    PRINT "unknown.status", eax
    INB ATA + 1
    PRINT "unknown.error", eax

    ; ---- nIEN (§7.9): no interrupt while set ----
    call zero_irqs
    OUTB ATA_CTL, 0x02
    OUTB ATA + 7, 0xEC
    call settle
    PRINT "nien.irqs", [irqs]
    INB ATA_CTL
    PRINT "nien.altstatus", eax
    mov edi, buf
    call read_block
    INB ATA + 7                      ; acknowledge before enabling INTRQ again
    OUTB ATA_CTL, 0x00
    call settle
    PRINT "nien.after.irqs", [irqs]

    ; ---- SET FEATURES, FLUSH CACHE, EXECUTE DEVICE DIAGNOSTIC, INITIALIZE DEVICE PARAMETERS ----
    OUTB ATA + 1, 0x03
    OUTB ATA + 2, 0x0C               ; PIO mode 4
    OUTB ATA + 7, 0xEF
    call wait_irq
    INB ATA + 7
    PRINT "setfeatures.status", eax
    OUTB ATA + 7, 0xE7
    call wait_irq
    INB ATA + 7
    PRINT "flush.status", eax
    OUTB ATA + 2, 0x11
    OUTB ATA + 7, 0x90
    call wait_irq
    INB ATA + 7
    PRINT "diag.status", eax
    INB ATA + 1
    PRINT "diag.error", eax
    call print_taskfile
    OUTB ATA + 6, 0xA3               ; 4 heads
    OUTB ATA + 2, 32                 ; 32 sectors per track
    OUTB ATA + 7, 0x91
    call wait_irq
    INB ATA + 7
    PRINT "initparams.status", eax
    ; Not compared: IDENTIFY words 54-58 after it (ATA-5 §8.16: the new translation; QEMU keeps
    ; the default) and word 59 after EXECUTE DEVICE DIAGNOSTIC (QEMU resets the multiple count).

    cli
    mov esi, bye
    call puts
    hlt
    jmp $

; issue_lba28: EBX = LBA, CL = count, CH = command; device 0, LBA mode
issue_lba28:
    mov dx, ATA + 2
    mov al, cl
    out dx, al
    mov eax, ebx
    mov dx, ATA + 3
    out dx, al
    shr eax, 8
    mov dx, ATA + 4
    out dx, al
    shr eax, 8
    mov dx, ATA + 5
    out dx, al
    shr eax, 8
    and al, 0x0F
    or al, 0xE0
    mov dx, ATA + 6
    out dx, al
    mov al, ch
    mov dx, ATA + 7
    out dx, al
    ret

; read_block: 256 words from the data port to EDI
read_block:
    push ecx
    mov ecx, 256
    mov dx, ATA
    rep insw
    pop ecx
    ret

; write_block: 256 words from ESI to the data port
write_block:
    push ecx
    mov ecx, 256
    mov dx, ATA
    rep outsw
    pop ecx
    ret

; print_taskfile: count, LBA low/mid/high, device
print_taskfile:
    INB ATA + 2
    PRINT "  tf.count", eax
    INB ATA + 3
    PRINT "  tf.lbalow", eax
    INB ATA + 4
    PRINT "  tf.lbamid", eax
    INB ATA + 5
    PRINT "  tf.lbahigh", eax
    INB ATA + 6
    PRINT "  tf.device", eax
    ret

; wait_irq: waits (bounded) for one more interrupt than the last wait saw
wait_irq:
    push ebx
    mov ebx, SPIN * 10000
.loop:
    mov eax, [irqs]
    cmp eax, [seen]
    ja .done
    dec ebx
    jnz .loop
    mov esi, timeout
    call puts
.done:
    call settle                        ; let any further (wrong) interrupt arrive too
    mov eax, [irqs]
    mov [seen], eax
    pop ebx
    ret

zero_irqs:
    mov dword [irqs], 0
    mov dword [seen], 0
    ret

; settle: wait until the device is not busy (alternate status, no side effects), then spin.
; ATA-6 §9.2/§9.6: a host polls BSY before reading the outcome of a reset or command; QEMU
; finishes some of them asynchronously, later when its host is loaded. ferry86 never shows BSY
; outside SRST, so there this is the spin alone.
settle:
    push ecx
    push edx
    push eax
    mov ecx, BUSY_POLLS
    mov dx, ATA_CTL
.poll:
    in al, dx
    test al, 0x80
    jz .ready
    dec ecx
    jnz .poll
.ready:
    pop eax
    pop edx
    pop ecx
    jmp spin

spin:
    push ecx
    mov ecx, SPIN
.s: dec ecx
    jnz .s
    pop ecx
    ret

; checksum: ESI = words, ECX = word count -> EAX (rotate-add)
checksum:
    push ebx
    xor eax, eax
.c: movzx ebx, word [esi]
    rol eax, 5
    add eax, ebx
    add esi, 2
    loop .c
    pop ebx
    ret

irq14:
    push eax
    inc dword [irqs]
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop eax
    iret

spurious:
    iret

unexpected:
    mov esi, oops
    call puts
    cli
    hlt

; print_line: ESI = label, EAX = value -> "label 0000abcd\n"
print_line:
    push eax
    call puts
    mov al, ' '
    call putc
    pop eax
    call put_hex
    mov al, 10
    call putc
    ret

puts:
    push eax
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop eax
    ret

putc:
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

PUT_HEX

FLAT32_TABLES

hello:   db "ata test", 10, 0
bye:     db "ata done", 10, 0
timeout: db "TIMEOUT waiting for IRQ14", 10, 0
oops:    db "unexpected interrupt", 10, 0

align 4
pattern:
%assign i 0
%rep 1024
    dw 0xC000 + i * 3
%assign i i + 1
%endrep

load_end:
section .bss
alignb 16
FLAT32_BSS
irqs:   resd 1
seen:   resd 1
buf:    resb 4096
        resb 4096
stack_top:
bss_end:
