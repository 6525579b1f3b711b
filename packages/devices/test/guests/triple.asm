; Multiboot guest that triple-faults: an empty IDT makes INT3 raise #GP, then #DF, then shutdown.
bits 32
org 0x100000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd header, header, load_end, load_end, start
start:
    lidt [idtr]
    int3
    jmp $
idtr:
    dw 0
    dd 0
load_end:
