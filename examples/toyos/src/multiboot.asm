; multiboot.asm - Multiboot v1 header, entry point and the boot sequence (kmain).
;
; The image is a flat binary, not ELF, so the header carries the "a.out kludge" address
; fields (flags bit 16): the loader copies the file from its first byte to load_addr,
; zeroes up to bss_end_addr and jumps to entry_addr with EAX = 0x2BADB002, EBX = info.

MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ (1 << 1) | (1 << 16)    ; bit 1: give us mem_lower/upper; bit 16: address fields valid
MB_BOOT_MAGIC   equ 0x2BADB002

section .text
mb_header:                          ; must be 4-aligned within the first 8 KiB of the file
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)   ; checksum: the three fields sum to zero
        dd mb_header                ; header_addr
        dd mb_header                ; load_addr: file offset 0 (this header) goes here
        dd image_end                ; load_end_addr
        dd bss_end                  ; bss_end_addr
        dd start                    ; entry_addr

start:
        cli
        cld
        mov ebp, eax                ; keep the boot magic and info pointer in registers:
        mov edx, ebx                ; .bss (where they will live) is about to be cleared
        mov edi, bss_start          ; loaders should zero .bss, but do not trust them
        mov ecx, (bss_end - bss_start) / 4
        xor eax, eax
        rep stosd
        mov esp, kstacks + KSTACK_SIZE  ; the boot code becomes the idle task, on task 0's stack
        mov [mb_magic], ebp
        mov [mb_info], edx
        lgdt [gdt_desc]
        jmp KCODE:.flush            ; reload CS from our GDT
.flush: mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        xor eax, eax
        mov fs, ax                  ; FS/GS unused: null them
        mov gs, ax
        call serial_init
        PUTLN "toyos 1.0 booting"
        cmp dword [mb_magic], MB_BOOT_MAGIC
        je .magic_ok
        PUTLN "PANIC: not started by a multiboot loader"
        jmp halt_forever
.magic_ok:
        mov ebx, [mb_info]
        mov eax, [ebx + 8]          ; mem_upper: KiB of RAM from 1 MiB up to the first hole
        test dword [ebx], 1         ; flags bit 0: mem_lower/mem_upper present
        jnz .mem_ok
        ; Some loaders (v86) give only the memory map (flags bit 6): use the usable range
        ; that starts at 1 MiB, as mem_upper would have described it.
        test dword [ebx], 1 << 6
        jz .no_mem
        mov ecx, [ebx + 48]         ; mmap_addr
        mov edx, ecx
        add edx, [ebx + 44]         ; mmap_length: end of the map
.mmap_next:
        cmp ecx, edx
        jae .no_mem
        cmp dword [ecx + 20], 1     ; type 1: available RAM
        jne .mmap_skip
        cmp dword [ecx + 8], 0      ; base above 4 GiB: not ours
        jne .mmap_skip
        cmp dword [ecx + 4], 0x100000
        ja .mmap_skip               ; starts above 1 MiB
        mov eax, 0xFFFFFFFF         ; end = base + length, saturated at 4 GiB (RAM_CAP caps it)
        cmp dword [ecx + 16], 0
        jne .mmap_end
        mov eax, [ecx + 4]
        add eax, [ecx + 12]
        jnc .mmap_end
        mov eax, 0xFFFFFFFF
.mmap_end:
        sub eax, 0x100000
        jbe .mmap_skip              ; ends at or below 1 MiB
        shr eax, 10
        jmp .mem_ok
.mmap_skip:
        add ecx, [ecx]              ; entry size field does not count itself
        add ecx, 4
        jmp .mmap_next
.no_mem:
        PUTLN "PANIC: loader gave no memory size"
        jmp halt_forever
.mem_ok:
        PUTS "mem"
        push eax
        add eax, 1024
        PDEC eax
        pop eax
        PUTLN " KiB"
        cmp eax, (RAM_CAP - 0x100000) / 1024
        jbe .mem_cap
        mov eax, (RAM_CAP - 0x100000) / 1024
.mem_cap:
        shl eax, 10
        add eax, 0x100000
        and eax, ~0xFFF
        mov [ram_end], eax
        cmp eax, MIN_RAM
        jae .mem_big
        PUTLN "PANIC: toyos needs at least 8448 KiB of RAM"
        jmp halt_forever
.mem_big:
        test dword [ebx], 1 << 2    ; flags bit 2: cmdline present
        jz .no_cmdline
        mov esi, [ebx + 16]
        call parse_cmdline          ; must run before paging: the string is in low memory
.no_cmdline:
        call gdt_init
        call idt_init
        call pic_init
        call pit_init
        call paging_init
        call workload_init
        call tasks_init
        call serial_enable_rx_irq
        call disk_init
        PUTLN "ready"
        jmp idle_main               ; enables interrupts; the scheduler takes it from here

; Stop the machine for good: used by `halt`, panics and the checker's ERROR.
halt_forever:
        cli
.h:     hlt
        jmp .h

; parse_cmdline: esi = zero-terminated command line. Known words (others are skipped, e.g.
; QEMU puts the kernel file name first): pages=N workers=N delay=N pse=0|1
parse_cmdline:
.token: lodsb
        test al, al
        jz .done
        cmp al, ' '
        je .token
        dec esi                     ; esi = first byte of the token
        mov edi, kw_pages
        mov ebx, opt_pages
        call .match
        mov edi, kw_workers
        mov ebx, opt_workers
        call .match
        mov edi, kw_delay
        mov ebx, opt_delay
        call .match
        mov edi, kw_pse
        mov ebx, opt_pse
        call .match
.skip:  lodsb                       ; unknown word: skip to the next space
        test al, al
        jz .done
        cmp al, ' '
        jne .skip
        jmp .token
.done:  ret
; .match: if the token at esi starts with the keyword at edi, store its number in [ebx],
; set the matching *_set flag (the dword after it) and continue with the next token.
.match: push esi
.m1:    mov al, [edi]
        test al, al
        jz .hit
        cmp al, [esi]
        jne .miss
        inc esi
        inc edi
        jmp .m1
.miss:  pop esi
        ret
.hit:   add esp, 8                  ; drop saved esi and our return address
        xor eax, eax
.digit: movzx ecx, byte [esi]
        sub ecx, '0'
        cmp ecx, 9
        ja .num_end
        imul eax, eax, 10
        add eax, ecx
        inc esi
        jmp .digit
.num_end:
        mov [ebx], eax
        mov dword [ebx + 4], 1
        jmp .skip

section .data
kw_pages:       db "pages=", 0
kw_workers:     db "workers=", 0
kw_delay:       db "delay=", 0
kw_pse:         db "pse=", 0
        align 4
opt_pages:      dd 0, 0             ; value, set-flag (0 = size from RAM)
opt_workers:    dd DEFAULT_WORKERS, 0
opt_delay:      dd 0, 0             ; busy-loop count after each page write (slows the dirty rate)
opt_pse:        dd 1, 0             ; 0 forces 4 KiB pages even when the CPU has PSE

section .bss
mb_magic:       resd 1
mb_info:        resd 1
ram_end:        resd 1              ; end of usable RAM (page aligned, capped at RAM_CAP)
