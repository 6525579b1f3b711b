; Multiboot guest: own GDT and IDT, programs the PIC pair and PIT channel 0 (mode 2, 100 Hz),
; waits for 20 timer interrupts with STI;HLT, prints "ticks:" plus one '.' per tick and a
; running checksum of the PIT counts it latched, then halts with interrupts off.
bits 32
org 0x100000

%include "flat32.inc"
COM1     equ 0x3F8

MULTIBOOT_HEADER

start:
    FLAT32_ENTER
    IDT_FILL unexpected              ; every vector -> unexpected; 0x20 -> irq0
    IDT_GATE 0x20, irq0
    lidt [idtr]
    PIC_REMAP 0xFE, 0xFF             ; only IRQ0 unmasked

    ; PIT channel 0: lo/hi, mode 2, divisor 11932 (100 Hz)
    mov al, 0x34
    out 0x43, al
    mov ax, 11932
    out 0x40, al
    mov al, ah
    out 0x40, al

    mov esi, hello
    call puts
    sti
.wait:
    hlt
    cmp dword [ticks], 20
    jb .wait
    cli
    mov al, 10
    call putc
    mov eax, [checksum]
    call put_hex
    mov al, 10
    call putc
    hlt
    jmp $

irq0:
    push eax
    push edx
    inc dword [ticks]
    ; latch and read the PIT count: its value depends on exactly when this runs
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov dl, al
    in al, 0x40
    mov dh, al
    movzx edx, dx
    add [checksum], edx
    rol dword [checksum], 3
    mov al, '.'
    call putc
    mov al, 0x20
    out 0x20, al
    pop edx
    pop eax
    iret

unexpected:
    mov esi, oops
    call puts
    cli
    hlt

puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putc:
    push edx
    mov dx, COM1
    out dx, al
    pop edx
    ret

PUT_HEX
FLAT32_TABLES

hello: db "ticks:", 0
oops:  db "unexpected interrupt", 10, 0

load_end:
section .bss
FLAT32_BSS
ticks:    resd 1
checksum: resd 1
          resb 4096
stack_top:
bss_end:
