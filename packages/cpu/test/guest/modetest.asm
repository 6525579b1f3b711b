; Mode-switch test kernel for @ferry86/cpu (multiboot, loads at 1 MiB): 32-bit protected mode ->
; 16-bit protected mode -> real mode (code reached as FFFF:xxxx with A20 on) -> back. In real mode
; it uses 32-bit operands and addresses (66h/67h), the segment caches left by protected mode
; ("unreal" mode), its own IVT entries for INT n and #GP, and a far call/return. Every result is a
; dword printed to port 0xE9 as 8 hex digits per line at the end.
bits 32
org 0x100000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
mb_header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd mb_header, 0x100000, load_end, bss_end, start

RSEG equ 0xFFFF                     ; real-mode segment that reaches this image (A20 on)
%define R(x) ((x) - $$ + 0x10)      ; offset of label x within RSEG (base 0xFFFF0)

align 8
gdt:
  dq 0
  dq 0x00CF9A000000FFFF             ; 0x08 code32 flat
  dq 0x00CF92000000FFFF             ; 0x10 data32 flat, 4 GiB
  dq 0x000F9A0FFFF0FFFF             ; 0x18 code16, base 0xFFFF0 (= RSEG << 4), limit 0xFFFF
  dq 0x000F92000000FFFF             ; 0x20 data16, base 0, limit 0xFFFF
gdt_end:
gdtr: dw gdt_end - gdt - 1
      dd gdt
idtr_real: dw 0x3FF
           dd 0
idtr_save: dw 0
           dd 0
align 4
NRES equ 24
results: times NRES dd 0xDEADBEEF
resume: dw 0
gp_count: dd 0
saved_esp: dd 0

start:
  cli
  mov [saved_esp], esp
  lgdt [gdtr]
  jmp 0x08:.pm
.pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov esp, 0x90000
  ; IVT entries (real-mode interrupt table at 0): INT 0x40 and #GP (13) -> handlers in this image
  mov word [0x40 * 4], R(int40)
  mov word [0x40 * 4 + 2], RSEG
  mov word [13 * 4], R(gp_handler)
  mov word [13 * 4 + 2], RSEG
  mov dword [0x7000], 0xCAFEF00D    ; a value below 1 MiB
  mov dword [0x200000], 0x12345678  ; a value above 1 MiB (reached through the unreal FS)
  jmp 0x18:R(pm16)

bits 16
pm16:
  ; 16-bit protected mode: DS/ES/SS get 64 KiB caches; FS keeps its 4 GiB cache
  mov ax, 0x20
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x8000
  push word 0x1234
  pop bx
  mov eax, cr0
  and al, 0xFE
  mov cr0, eax
  jmp RSEG:R(rm)

rm:
  ; real mode
  mov ax, RSEG
  mov ds, ax
  xor ax, ax
  mov ss, ax
  mov sp, 0x8000
  lidt [R(idtr_real)]
  mov dword [R(results) + 0], ebx                 ; 0: 0x1234 from the 16-bit PM stack
  ; 32-bit arithmetic and addressing in real mode
  mov ecx, 0x00010000
  mov eax, 0x7FFFFFFF
  add eax, ecx
  mov [R(results) + 4], eax                       ; 1: 0x8000FFFF
  mov ebx, R(results)
  mov esi, 2
  mov dword [ebx + esi * 4 + 0], 0xA5A5A5A5       ; 2: through [ebx+esi*4]
  xor ax, ax
  mov es, ax
  mov eax, [es:0x7000]
  mov [R(results) + 12], eax                      ; 3: 0xCAFEF00D
  ; unreal: FS still has the 4 GiB cache from protected mode
  mov edi, 0x200000
  mov eax, [fs:edi]
  mov [R(results) + 16], eax                      ; 4: 0x12345678
  ; reloading FS in real mode changes only base and selector (the limit stays)
  xor ax, ax
  mov fs, ax
  mov eax, [fs:edi]
  mov [R(results) + 20], eax                      ; 5: 0x12345678 again
  ; ES has a 64 KiB cache: a 32-bit offset above it faults (#GP -> our IVT handler)
  mov word [R(resume)], R(after_gp)
  mov eax, [es:edi]
after_gp:
  mov eax, [R(gp_count)]
  mov [R(results) + 24], eax                      ; 6: 1
  ; INT n through the IVT, 16-bit frame
  mov eax, 0x11
  int 0x40
  mov [R(results) + 28], eax                      ; 7: 0x22
  mov [R(results) + 32], esp                      ; 8: 0x8000 (SP restored by IRET)
  ; far call and return within real mode
  call RSEG:R(farfn)
  mov [R(results) + 36], eax                      ; 9: 0xFFFF (CS seen by the callee)
  ; PUSHF/POPF with IOPL and NT bits (settable in real mode on a 386)
  pushf
  pop ax
  or ax, 0x7000
  push ax
  popf
  pushf
  pop ax
  and eax, 0x7000
  mov [R(results) + 40], eax                      ; 10: 0x7000
  push word 0x0002
  popf
  ; SMSW in real mode
  smsw ax
  and eax, 1
  mov [R(results) + 44], eax                      ; 11: 0 (PE clear)
  ; LOOP with a 32-bit counter (67h)
  mov ecx, 0x10005
  xor eax, eax
.lp:
  inc eax
  a32 loop .lp
  mov [R(results) + 48], eax                      ; 12: 0x10005
  ; back to protected mode
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:pm32_back

int40:
  add eax, eax
  iret

farfn:
  mov ax, cs
  movzx eax, ax
  retf

gp_handler:
  inc dword [R(gp_count)]
  push bp
  mov bp, sp
  mov ax, [R(resume)]
  mov [bp + 2], ax
  pop bp
  iret

bits 32
pm32_back:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x90000
  mov eax, cs
  mov [results + 13 * 4], eax                     ; 13: 0x08
  ; 16-bit operand-size far return from 32-bit code into 16-bit PM and back
  push word 0x18
  push word R(back16)
  o16 retf
bits 16
back16:
  mov eax, 0x5678
  o32 push dword 0x08
  o32 push dword back32
  o32 retf
bits 32
back32:
  mov [results + 14 * 4], eax                     ; 14: 0x5678
  xor esi, esi
.print:
  mov eax, [results + esi * 4]
  mov ecx, 8
.hex:
  rol eax, 4
  mov edx, eax
  and edx, 15
  mov dl, [hexdigits + edx]
  xchg eax, edx
  out 0xE9, al
  xchg eax, edx
  loop .hex
  mov al, 10
  out 0xE9, al
  inc esi
  cmp esi, 15
  jb .print
  out 0xF4, al
  hlt
hexdigits: db '0123456789abcdef'
load_end:
bss_end:
