; Multiboot guest: COM1 receive interrupts (FIFO, trigger 4, so short input arrives through the
; character timeout). Echoes each received byte in upper case with the low byte of the TSC,
; and halts with interrupts off after a '.'.
bits 32
org 0x100000

%include "flat32.inc"
COM1     equ 0x3F8

MULTIBOOT_HEADER

start:
    FLAT32_ENTER
    IDT_FILL unexpected
    IDT_GATE 0x24, irq4
    lidt [idtr]
    PIC_REMAP 0xEF, 0xFF             ; IRQ4 only

    mov dx, COM1 + 3
    mov al, 0x80                 ; DLAB
    out dx, al
    mov dx, COM1
    mov al, 1                    ; 115200 baud
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03                 ; 8N1
    out dx, al
    mov dx, COM1 + 2
    mov al, 0x47                 ; FIFO on, clear, trigger 4
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x0B                 ; DTR RTS OUT2
    out dx, al
    mov dx, COM1 + 1
    mov al, 0x01                 ; RX data interrupt
    out dx, al

    mov al, '>'
    call putc
    sti
.idle:
    hlt
    cmp byte [done], 0
    je .idle
    cli
    hlt
    jmp $

irq4:
    pusha
.more:
    mov dx, COM1 + 5
    in al, dx
    test al, 1
    jz .eoi
    mov dx, COM1
    in al, dx
    cmp al, '.'
    jne .echo
    mov byte [done], 1
.echo:
    cmp al, 'a'
    jb .plain
    cmp al, 'z'
    ja .plain
    sub al, 32
.plain:
    call putc
    rdtsc
    and al, 0x0F
    add al, 'a'
    call putc
    jmp .more
.eoi:
    mov dx, COM1 + 2
    in al, dx                    ; IIR (acknowledge)
    mov al, 0x20
    out 0x20, al
    popa
    iret

unexpected:
    cli
    hlt

putc:
    push edx
    mov dx, COM1
    out dx, al
    pop edx
    ret

FLAT32_TABLES

load_end:
section .bss
FLAT32_BSS
done:  resb 1
       resb 4096
stack_top:
bss_end:
