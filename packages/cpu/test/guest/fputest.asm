; x87 test kernel for @ferry86/cpu (multiboot, a.out kludge, loads at 1 MiB). It exercises stored
; 80-bit values and the FSAVE/FSTENV images: constants under each rounding control, arithmetic
; under precision/rounding control, tags of every class, FSTENV in 16- and 32-bit form, FRSTOR,
; integer/BCD stores, FXAM, FCOMI, FPREM, FXTRACT/FSCALE and a deferred #MF (CR0.NE = 1).
; Every result is printed to port 0xE9 as eight hex digits and a newline; then it halts.
; Build: nasm -f bin -o fputest.bin fputest.asm      (reference: Bochs, see README.md)
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
mb_header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd mb_header, 0x100000, load_end, bss_end, start

align 8
gdt:
  dq 0
  dq 0x00CF9A000000FFFF             ; 0x08 code32 flat
  dq 0x00CF92000000FFFF             ; 0x10 data32 flat
gdt_end:
gdtr: dw gdt_end - gdt - 1
      dd gdt
idtr: dw 17 * 8 - 1
      dd idt

%macro P 1                          ; print a dword operand
  mov eax, %1
  call print_hex
%endmacro

print_hex:
  push ecx
  push edx
  mov ecx, 8
.l:
  rol eax, 4
  mov edx, eax
  and edx, 15
  mov dl, [hexdigits + edx]
  push eax
  mov al, dl
  out 0xE9, al
  pop eax
  loop .l
  mov al, 10
  out 0xE9, al
  pop edx
  pop ecx
  ret
hexdigits: db '0123456789abcdef'

print_img:                          ; prints ecx dwords at esi
  lodsd
  call print_hex
  loop print_img
  ret

print_t:                            ; fstp tword [tmp] and print it as three dwords
  fstp tword [tmp]
  P [tmp]
  P [tmp + 4]
  movzx eax, word [tmp + 8]
  call print_hex
  ret

mf_handler:                         ; #MF: record, clear the exception, return to retry
  inc dword [mf_count]
  mov eax, [esp]
  mov [mf_eip], eax
  fnstsw [mf_sw]
  fnclex
  iretd

start:
  cli
  lgdt [gdtr]
  jmp 0x08:.pm
.pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x90000
  mov eax, mf_handler
  mov [idt + 16 * 8], ax
  mov word [idt + 16 * 8 + 2], 0x08
  mov word [idt + 16 * 8 + 4], 0x8E00
  shr eax, 16
  mov [idt + 16 * 8 + 6], ax
  lidt [idtr]
  mov eax, cr0
  and eax, ~0x0C                    ; EM = TS = 0
  or eax, 0x22                      ; NE = MP = 1
  mov cr0, eax

  ; 1. the constants under each rounding control, as an FSAVE image (108 bytes)
  xor ebx, ebx
.rc:
  fninit
  mov eax, ebx
  shl eax, 10
  or eax, 0x37F
  mov [cw], ax
  fldcw [cw]
  fldpi
  fldl2e
  fldl2t
  fldlg2
  fldln2
  fld1
  fldz
  fnsave [img]
  mov esi, img
  mov ecx, 27
  call print_img
  inc ebx
  cmp ebx, 4
  jb .rc

  ; 2. arithmetic under precision and rounding control, stored as 80-bit values
  xor ebx, ebx
.arith:
  fninit
  mov ax, [cws + ebx * 2]
  mov [cw], ax
  fldcw [cw]
  fld tword [val_a]
  fld tword [val_b]
  fdiv st0, st1                     ; b / a
  call print_t
  fld tword [val_b]
  fmul st0, st0
  fsqrt
  call print_t
  fld tword [val_a]
  fadd dword [val_f]
  fisub word [val_i]
  call print_t
  fld tword [val_a]
  fmul qword [val_d]
  fnstsw ax
  movzx eax, ax
  call print_hex
  fistp dword [tmp2]
  P [tmp2]
  fstp st0
  inc ebx
  cmp ebx, 8
  jb .arith

  ; 3. every tag class in one FSAVE image, then FRSTOR and FSTENV (16- and 32-bit forms)
  fninit
  fld tword [val_denorm]
  fld tword [val_nan]
  fldz
  fld tword [val_inf]
  fld tword [val_a]
  fld tword [val_unnormal]
  fincstp
  ffree st0
  fld1
  fsave [img]
  mov esi, img
  mov ecx, 27
  call print_img
  frstor [img]
  fxam
  fnstsw ax
  movzx eax, ax
  call print_hex
  o16 fnstenv [img]
  mov esi, img
  mov ecx, 4
  call print_img
  fldenv [img2]                     ; all zeros: every register "valid" by the tag word
  fnstenv [img]
  mov esi, img
  mov ecx, 7
  call print_img

  ; 4. FXAM over each class, FCOMI flags, FUCOMIP
  fninit
  mov esi, classes
  mov ecx, 6
.xam:
  fld tword [esi]
  fxam
  fnstsw ax
  movzx eax, ax
  and eax, 0x4700
  call print_hex
  fld1
  fcomi st0, st1
  pushfd
  pop eax
  and eax, 0x8D5
  call print_hex
  fucomip st0, st1
  pushfd
  pop eax
  and eax, 0x8D5
  call print_hex
  fstp st0
  add esi, 10
  loop .xam

  ; 5. integer and BCD stores, with overflow to the indefinites
  fninit
  fld tword [val_big]
  fist word [tmp]
  fist dword [tmp + 2]
  fistp qword [tmp + 6]
  P [tmp]
  P [tmp + 4]
  P [tmp + 8]
  fld tword [val_bcd]
  fbstp [tmp]
  P [tmp]
  P [tmp + 4]
  movzx eax, word [tmp + 8]
  call print_hex
  fld tword [val_big]
  fbstp [tmp]
  P [tmp]
  P [tmp + 4]
  movzx eax, word [tmp + 8]
  call print_hex
  fbld [bcd_in]
  call print_t
  fnstsw ax
  movzx eax, ax
  call print_hex

  ; 6. FPREM with a partial remainder, FPREM1, FXTRACT, FSCALE
  fninit
  fld tword [val_a]
  fld tword [val_huge]
  mov ecx, 0
.prem:
  inc ecx
  fprem
  fnstsw ax
  movzx eax, ax
  call print_hex
  test ah, 4
  jnz .prem
  call print_t
  fstp st0
  fld tword [val_b]
  fld tword [val_a]
  fprem1
  fnstsw ax
  movzx eax, ax
  call print_hex
  call print_t
  fld tword [val_a]
  fxtract
  call print_t
  call print_t
  fld tword [val_i]
  fld tword [val_b]
  fscale
  call print_t
  fstp st0

  ; 7. deferred #MF: unmask ZE, divide by zero; the next waiting instruction faults
  fninit
  mov word [cw], 0x37B
  fldcw [cw]
  fld1
  fldz
  fdivp st1, st0
  fnstsw ax
  movzx eax, ax
  call print_hex
mf_here:
  fld1
  P [mf_count]
  mov eax, [mf_eip]
  sub eax, mf_here
  call print_hex
  movzx eax, word [mf_sw]
  call print_hex
  fnstsw ax
  movzx eax, ax
  call print_hex
  fnsave [img]
  mov esi, img
  mov ecx, 27
  call print_img

  mov al, 0
  out 0xf4, al
  cli
.stop:
  hlt
  jmp .stop

align 4
cws:   dw 0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x007F, 0x027F, 0x0C7F, 0x087F
val_a: dt 3.14159265358979323846264
val_b: dt -2.718281828459045235360287e+3
val_d: dq 1.0000000000000002
val_f: dd 1.5e-7
val_i: dw 7
       dw 0, 0, 0, 0
val_denorm:   dd 0x12345678, 0x00000123
              dw 0x0000
val_nan:      dd 0, 0xC0000000
              dw 0x7FFF
val_inf:      dd 0, 0x80000000
              dw 0xFFFF
val_unnormal: dd 0, 0x40000000
              dw 0x1234
val_big:      dt 1.0e30
val_bcd:      dt -123456789012345678.5
val_huge:     dd 0x87654321, 0xFEDCBA98
              dw 0x40A0
bcd_in:       db 0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x80
classes:
  dd 0, 0
  dw 0x8000                         ; -0
  dt 1.5
  dd 1, 0
  dw 0                              ; denormal
  dd 0, 0x80000000
  dw 0x7FFF                         ; +inf
  dd 0, 0xC0000000
  dw 0xFFFF                         ; -QNaN
  dd 0, 0x40000000
  dw 0x3FFF                         ; unnormal
align 16
idt:     times 17 * 8 db 0
img:     times 108 db 0
img2:    times 28 db 0
tmp:     times 16 db 0
tmp2:    dd 0
cw:      dw 0
align 4
mf_count: dd 0
mf_eip:   dd 0
mf_sw:    dd 0
load_end:
bss_end:
