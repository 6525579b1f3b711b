; Multiboot (a.out kludge) guest: prints a greeting, its command line and mem_upper on COM1,
; then halts with interrupts off. Build: nasm -f bin -o hello.bin hello.asm
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
%ifdef ELF
MB_FLAGS equ 0x00000002          ; bit 1: memory info; loaded from ELF program headers
%else
MB_FLAGS equ 0x00010002          ; bit 1: memory info, bit 16: address fields
%endif
COM1     equ 0x3F8

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    ; The address fields stay in the ELF build too (ignored there): the test reads bss_end.
    dd header                    ; header_addr
    dd header                    ; load_addr
    dd load_end                  ; load_end_addr
    dd bss_end                   ; bss_end_addr
    dd start                     ; entry_addr

start:
    mov esp, stack_top
    cmp eax, 0x2BADB002
    jne bad_magic
    mov [info], ebx
    mov esi, greeting
    call puts
    mov ebx, [info]
    test dword [ebx], 1 << 2     ; cmdline present?
    jz .no_cmdline
    mov esi, [ebx + 16]
    call puts
.no_cmdline:
    mov esi, mem_label
    call puts
    mov ebx, [info]
    mov eax, [ebx + 8]           ; mem_upper (KiB)
    call put_hex
    mov al, 10
    call putc
    ; bss must be zero
    cmp dword [bss_canary], 0
    jne bad_magic
    cli
    hlt
    jmp $

bad_magic:
    mov esi, bad
    call puts
    cli
    hlt

; esi -> NUL-terminated string
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

; al -> COM1 (waits for THRE as a real driver would)
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

; eax as 8 hex digits
put_hex:
    mov ecx, 8
.digit:
    rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    call putc
    pop eax
    loop .digit
    ret

greeting:  db "hello from multiboot", 10, "cmdline: ", 0
mem_label: db 10, "mem_upper=", 0
bad:       db "BAD", 10, 0

load_end:
section .bss
bss_canary: resd 1
info:       resd 1
            resb 4096
stack_top:
bss_end:
