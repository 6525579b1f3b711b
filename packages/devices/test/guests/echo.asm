; Multiboot guest: COM1 receive interrupts (FIFO, trigger 4, so short input arrives through the
; character timeout). Echoes each received byte in upper case with the low byte of the TSC,
; and halts with interrupts off after a '.'.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
COM1     equ 0x3F8

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header, header, load_end, bss_end, start

start:
    lgdt [gdtr]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top

    mov edi, idt
    mov ecx, 256
.fill:
    mov eax, unexpected
    mov [edi], ax
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0x8E00
    shr eax, 16
    mov [edi + 6], ax
    add edi, 8
    loop .fill
    mov eax, irq4
    mov [idt + 0x24 * 8], ax
    shr eax, 16
    mov [idt + 0x24 * 8 + 6], ax
    lidt [idtr]

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
    mov al, 0xEF                 ; IRQ4 only
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

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

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
idtr:
    dw 256 * 8 - 1
    dd idt

load_end:
section .bss
alignb 8
idt:   resb 256 * 8
done:  resb 1
       resb 4096
stack_top:
bss_end:
