; A 4 KiB BIOS image for the PCI reset test. The reset vector jumps to F000:F000, which counts
; its boots in the shadow RAM test byte (0x500, plain RAM), asks for a reset through the PIIX3
; reset control register (0xCF9, RCPU|SRST) and then triple-faults at once (an interrupt through
; an IDT of limit 0): the reset must win, as it does on hardware, where it takes effect before
; the CPU gets that far.
bits 16
org 0xF000
entry:
    xor ax, ax
    mov ds, ax
    inc byte [0x500]
    mov dx, 0xCF9
    mov al, 0x06
    out dx, al
    o32 lidt [cs:null_idt]
    int3
null_idt:
    dw 0
    dd 0
    times 0xFF0 - ($ - $$) db 0xFF
    jmp 0xF000:entry
    times 0x1000 - ($ - $$) db 0xFF
