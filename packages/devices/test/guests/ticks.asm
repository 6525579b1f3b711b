; Multiboot guest: own GDT and IDT, programs the PIC pair and PIT channel 0 (mode 2, 100 Hz),
; waits for 20 timer interrupts with STI;HLT, prints "ticks:" plus one '.' per tick and a
; running checksum of the PIT counts it latched, then halts with interrupts off.
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
    mov fs, ax
    mov gs, ax
    mov esp, stack_top

    ; IDT: every vector -> unexpected; 0x20 -> irq0
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
    mov eax, irq0
    mov [idt + 0x20 * 8], ax
    shr eax, 16
    mov [idt + 0x20 * 8 + 6], ax
    lidt [idtr]

    ; PICs: vectors 0x20 / 0x28, cascade on IR2, 8086 mode; only IRQ0 unmasked
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
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

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

put_hex:
    push ecx
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
    pop ecx
    ret

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF        ; 0x08: code, flat
    dq 0x00CF92000000FFFF        ; 0x10: data, flat
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
idtr:
    dw 256 * 8 - 1
    dd idt

hello: db "ticks:", 0
oops:  db "unexpected interrupt", 10, 0

load_end:
section .bss
alignb 8
idt:      resb 256 * 8
ticks:    resd 1
checksum: resd 1
          resb 4096
stack_top:
bss_end:
