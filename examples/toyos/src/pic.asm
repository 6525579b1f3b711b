; pic.asm - the two 8259A PICs, remapped so IRQ0-15 arrive as vectors 0x20-0x2F
; (the BIOS default 0x08-0x0F collides with CPU exceptions).

PIC1_CMD        equ 0x20
PIC1_DATA       equ 0x21
PIC2_CMD        equ 0xA0
PIC2_DATA       equ 0xA1
PIC_EOI         equ 0x20

section .text
pic_init:
        mov al, 0x11                ; ICW1: edge triggered, cascade, ICW4 follows
        out PIC1_CMD, al
        out PIC2_CMD, al
        mov al, 0x20                ; ICW2: vector base
        out PIC1_DATA, al
        mov al, 0x28
        out PIC2_DATA, al
        mov al, 0x04                ; ICW3: slave on master's IRQ2
        out PIC1_DATA, al
        mov al, 0x02                ; ICW3: slave identity 2
        out PIC2_DATA, al
        mov al, 0x01                ; ICW4: 8086 mode, normal EOI
        out PIC1_DATA, al
        out PIC2_DATA, al
        mov al, ~((1 << 0) | (1 << 4)) & 0xFF   ; only IRQ0 (PIT) and IRQ4 (COM1)
        out PIC1_DATA, al
        mov al, 0xFF                ; slave: nothing
        out PIC2_DATA, al
        ret

; irq_other: any other IRQ vector. Only spurious ones can come (the rest are masked):
; a spurious IRQ7/IRQ15 has no in-service bit, so the PIC that raised it gets no EOI
; (8259A datasheet; the master still gets one for IRQ15 since its IRQ2 input was real).
irq_other:
        mov eax, [ebx + F_VEC]
        cmp eax, 0x27
        je .done
        cmp eax, 0x2F
        je .master
        cmp eax, 0x28
        jb .master
        mov al, PIC_EOI
        out PIC2_CMD, al
.master:
        mov al, PIC_EOI
        out PIC1_CMD, al
.done:  ret
