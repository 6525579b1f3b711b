; Multiboot guest: the PC/AT x87 error path. With CR0.NE=0 an unmasked x87 exception asserts
; FERR#, which the board latches onto IRQ13 (slave PIC IR5); the handler clears the latch with
; a write to port 0xF0 and reports on the debug console (port 0xE9), then halts.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header, header, load_end, bss_end, start

start:
    lgdt [gdtr]             ; multiboot leaves no GDT; interrupt delivery reads one
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top
    lidt [idtr]
    ; IRQ13 is vector 0x2D after the remap below.
    mov eax, irq13
    mov word [idt + 0x2D * 8], ax
    mov word [idt + 0x2D * 8 + 2], 0x08
    mov word [idt + 0x2D * 8 + 4], 0x8E00
    shr eax, 16
    mov word [idt + 0x2D * 8 + 6], ax
    ; 8259A pair: ICW1 edge/cascade/ICW4, bases 0x20/0x28, cascade on IR2, 8086 mode.
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFB            ; master: only IR2 (the slave) unmasked
    out 0x21, al
    mov al, 0xDF            ; slave: only IR5 (IRQ13) unmasked
    out 0xA1, al
    ; x87 on, NE=0 (the PC/AT error reporting), MP=1.
    mov eax, cr0
    and eax, ~(0x04 | 0x08 | 0x20)
    or eax, 0x02
    mov cr0, eax
    fninit
    fldcw [control]         ; zero-divide unmasked
    fld1
    fldz
    fdivp st1, st0          ; 1/0: ZE with the exception unmasked -> FERR#
    sti
.wait:
    hlt
    jmp .wait

irq13:
    xor al, al
    out 0xF0, al            ; release the FERR# latch
    fnclex
    mov al, 'F'
    out 0xE9, al
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    cli
    hlt

control: dw 0x037B          ; 0x037F with ZM (bit 2) cleared
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF   ; 0x08: flat 32-bit code, DPL 0
    dq 0x00CF92000000FFFF   ; 0x10: flat data, DPL 0
gdtr:
    dw 3 * 8 - 1
    dd gdt
idtr:
    dw 256 * 8 - 1
    dd idt
load_end:
align 8
idt: times 256 * 8 db 0
    times 4096 db 0
stack_top:
bss_end:
