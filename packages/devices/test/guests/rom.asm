; A 64 KiB BIOS image: the reset vector jumps to F000:E000, which prints "R" plus the byte at
; physical 0xFFFFFFF0 (read through a flat FS after a quick trip to protected mode is overkill:
; real mode can only see the low alias, so it prints the alias's copy of the reset vector's
; first byte) and halts.
bits 16
org 0
    times 0xE000 db 0xFF
entry:
    mov dx, 0x3F8
    mov al, 'R'
    out dx, al
    mov ax, 0xF000
    mov ds, ax
    mov al, [0xFFF0]             ; 0xEA, the far jump opcode, via the alias below 1 MiB
    out dx, al
    cli
    hlt
    times 0xFFF0 - ($ - $$) db 0xFF
    jmp 0xF000:entry
    times 0x10000 - ($ - $$) db 0xFF
