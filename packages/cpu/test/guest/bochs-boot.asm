; Floppy boot sector: loads NSECT sectors to 0x10000, enters protected mode, copies them to 1 MiB
; and jumps to the multiboot entry (header offset 28) with EAX = 0x2BADB002.
bits 16
org 0x7c00
NSECT equ 16
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  in al, 0x92
  or al, 2
  out 0x92, al
  mov ax, 0x1000
  mov es, ax
  xor bx, bx
  mov ax, 0x0200 | NSECT
  mov cx, 0x0002
  xor dh, dh
  int 0x13
  lgdt [gdtd]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:pm
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esi, 0x10000
  mov edi, 0x100000
  mov ecx, NSECT * 128
  cld
  rep movsd
  mov eax, 0x2BADB002
  xor ebx, ebx
  jmp [0x100000 + 28]
align 8
gdt: dq 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
gdtd: dw 23
      dd gdt
times 510 - ($ - $$) db 0
dw 0xAA55
