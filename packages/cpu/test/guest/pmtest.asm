; Protected-mode conformance kernel for @ferry86/cpu (multiboot, a.out kludge, loads at 1 MiB).
; Each subtest stores one dword in `results`; at the end every result is printed to port 0xE9 as
; eight hex digits and a newline, then the kernel writes port 0xF4 (QEMU isa-debug-exit) and halts.
; A fault subtest stores (vector << 16) | (error code & 0xFFFF), or 0xFFFFFFFF if nothing faulted.
; Build: nasm -f bin -o pmtest.bin pmtest.asm
; Reference: qemu-system-i386 -kernel pmtest.bin -display none -debugcon stdio -no-reboot \
;            -device isa-debug-exit,iobase=0xf4,iosize=4

bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000

PD       equ 0x200000        ; page directory
PT0      equ 0x201000        ; page table for 0..4 MiB
NP_PAGE  equ 0x300000        ; not present until the #PF handler maps it
RO_PAGE  equ 0x301000        ; read-only (user)
SUP_PAGE equ 0x302000        ; supervisor only
USTK_PG  equ 0x303000        ; ring-3 stack page, not present at first
KSTACK   equ 0x90000         ; ring-0 stack top (TSS.ESP0 and the kernel's own stack)
USTACK   equ 0x80000         ; ring-3 stack top

mb_header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd mb_header, 0x100000, load_end, bss_end, start

; ---- descriptor tables ------------------------------------------------------------------------------
align 8
gdt:
  dq 0                                   ; 0x00 null
  dq 0x00CF9A000000FFFF                  ; 0x08 code32 DPL0 flat
  dq 0x00CF92000000FFFF                  ; 0x10 data32 DPL0 flat
  dq 0x00CFFA000000FFFF                  ; 0x18 code32 DPL3 flat
  dq 0x00CFF2000000FFFF                  ; 0x20 data32 DPL3 flat
tss_desc:
  dq 0                                   ; 0x28 TSS32 (filled at run time)
  dq 0x0040900000000FFF                  ; 0x30 data32 DPL0 read-only, limit 0xFFF
  dq 0x0040960000000FFF                  ; 0x38 data32 DPL0 expand-down RW, limit 0xFFF (B=1)
  dq 0x00CF12000000FFFF                  ; 0x40 data32 DPL0 NOT present
  dq 0x00CF98000000FFFF                  ; 0x48 code32 DPL0 execute-only
  dq 0x0040F20000000FFF                  ; 0x50 data32 DPL3 RW, limit 0xFFF
cg_desc:
  dq 0                                   ; 0x58 call gate DPL3 -> 0x08:callgate_fn, 1 param (filled)
  dq 0x00CF9E000000FFFF                  ; 0x60 code32 DPL0 conforming readable
gdt_end:

gdtr: dw gdt_end - gdt - 1
      dd gdt

IDT_ENTRIES equ 0x83
idtr: dw IDT_ENTRIES * 8 - 1
      dd idt

align 4
tss:
  dd 0                                   ; link
  dd KSTACK                              ; esp0
  dd 0x10                                ; ss0
  times 22 dd 0
  dw 0, 0x68                             ; trap, iomap base (beyond limit: no bitmap)
tss_end:

; ---- data -------------------------------------------------------------------------------------------
align 4
resume:     dd 0
fault_vec:  dd 0
fault_err:  dd 0
fault_eip:  dd 0
fault_cr2:  dd 0
pf_fix:     dd 0                         ; PTE address the #PF handler sets present, or 0
kernel_esp: dd 0
kernel_cont: dd 0
NRES equ 64
results:    times NRES dd 0xDEADBEEF
smc_count:  dd 0

; ---- subtest macros -----------------------------------------------------------------------------------
%macro FTB 0                             ; begin a subtest whose instructions may fault
  %push ft
  mov dword [ss:resume], %$after
  mov dword [ss:fault_vec], -1
  mov dword [ss:fault_err], -1
%endmacro
%macro FTE 1                             ; end it: store the fault (or -1) as result %1
%$after:
  mov eax, [ss:fault_vec]
  shl eax, 16
  mov ax, [ss:fault_err]
  mov [ss:results + %1 * 4], eax
  %pop
%endmacro

%macro RES 2                             ; RES index, register
  mov [ss:results + %1 * 4], %2
%endmacro

; ---- exception and interrupt stubs ---------------------------------------------------------------------
%macro STUB_NOERR 1
stub%1:
  push dword 0
  push dword %1
  jmp common_fault
%endmacro
%macro STUB_ERR 1
stub%1:
  push dword %1
  jmp common_fault
%endmacro

STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR 8
STUB_ERR 10
STUB_ERR 11
STUB_ERR 12
STUB_ERR 13
STUB_ERR 14

; Stack here: vector, error, eip, cs, eflags (, esp, ss from ring 3)
common_fault:
  push eax
  mov eax, [esp + 4]
  mov [ss:fault_vec], eax
  mov eax, [esp + 8]
  mov [ss:fault_err], eax
  mov eax, [esp + 12]
  mov [ss:fault_eip], eax
  mov eax, cr2
  mov [ss:fault_cr2], eax
  cmp dword [esp + 4], 14
  jne .not_pf
  mov eax, [ss:pf_fix]
  test eax, eax
  jz .not_pf
  or dword [ss:eax], 1                   ; make the page present, retry the instruction
  mov dword [ss:pf_fix], 0
  mov eax, [ss:fault_cr2]
  invlpg [eax]
  jmp .out
.not_pf:
  mov eax, [ss:resume]
  test eax, eax
  jz .out                                ; no resume point: just return (trap-type events)
  mov [esp + 12], eax
  mov dword [ss:resume], 0
.out:
  pop eax
  add esp, 8
  iretd

; int 0x80: eax=1 -> ebx = CPL of caller (from CS), ecx = caller SS, edx = caller ESP;
;           eax=2 -> eax = eax_in * 3 (syscall); eax=99 -> leave ring 3, continue in the kernel.
syscall_handler:
  cmp eax, 99
  je .leave
  cmp eax, 1
  jne .two
  mov ebx, [esp + 4]
  and ebx, 3
  mov ecx, [esp + 16]
  mov edx, [esp + 12]
  iretd
.two:
  lea eax, [ecx + ecx * 2]
  iretd
.leave:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov esp, [kernel_esp]
  jmp [kernel_cont]

int81_handler:                           ; gate DPL 0: only reachable from ring 0
  mov eax, 0x81
  iretd

callgate_fn:                             ; called through the call gate with one parameter
  mov eax, [esp + 8]                     ; the copied parameter (after return CS:EIP)
  add eax, eax
  mov ebx, [esp + 12]                    ; caller ESP
  mov ecx, [esp + 16]                    ; caller SS
  retf 4

far_fn:
  mov eax, cs
  retf

; ---- helpers -------------------------------------------------------------------------------------------
; set_gate: eax = vector, ebx = handler, ecx = type/attr byte (0x8E int gate DPL0, 0xEE DPL3, 0x0E not present)
set_gate:
  push edx
  lea edx, [idt + eax * 8]
  mov [edx], bx
  mov word [edx + 2], 0x08
  mov byte [edx + 4], 0
  mov [edx + 5], cl
  shr ebx, 16
  mov [edx + 6], bx
  pop edx
  ret

print_hex:                               ; eax -> 8 hex digits on port 0xE9
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

; ---- entry ----------------------------------------------------------------------------------------------
start:
  cli
  mov esp, KSTACK
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  ; TSS descriptor: base = tss, limit = tss_end - tss - 1, type 0x89
  mov eax, tss
  mov word [tss_desc], tss_end - tss - 1
  mov [tss_desc + 2], ax
  shr eax, 16
  mov [tss_desc + 4], al
  mov byte [tss_desc + 5], 0x89
  mov byte [tss_desc + 6], 0
  mov [tss_desc + 7], ah
  mov ax, 0x28
  ltr ax
  ; call gate 0x58: DPL3, 1 dword parameter -> 0x08:callgate_fn
  mov eax, callgate_fn
  mov [cg_desc], ax
  mov word [cg_desc + 2], 0x08
  mov byte [cg_desc + 4], 1
  mov byte [cg_desc + 5], 0xEC
  shr eax, 16
  mov [cg_desc + 6], ax
  ; IDT: everything not present (type 0x0E, P=0) unless set below
  xor eax, eax
.idt_clear:
  mov ebx, stub13
  mov ecx, 0x0E
  call set_gate
  inc eax
  cmp eax, IDT_ENTRIES
  jb .idt_clear
%macro GATE 2
  mov eax, %1
  mov ebx, stub%1
  mov ecx, %2
  call set_gate
%endmacro
  GATE 0, 0x8E
  GATE 1, 0x8E
  GATE 3, 0xEE                           ; INT3 allowed from ring 3
  GATE 4, 0xEE
  GATE 5, 0x8E
  GATE 6, 0x8E
  GATE 7, 0x8E
  GATE 8, 0x8E
  GATE 10, 0x8E
  GATE 11, 0x8E
  GATE 12, 0x8E
  GATE 13, 0x8E
  GATE 14, 0x8E
  mov eax, 0x80
  mov ebx, syscall_handler
  mov ecx, 0xEE
  call set_gate
  mov eax, 0x81
  mov ebx, int81_handler
  mov ecx, 0x8E
  call set_gate
  lidt [idtr]

  ; ==== segment loads in ring 0 ====
  FTB   ; not present -> #NP(0x40)
  mov ax, 0x40
  mov ds, ax
  FTE 0
  FTB   ; execute-only code -> #GP(0x48)
  mov ax, 0x48
  mov ds, ax
  FTE 1
  FTB   ; read-only data into SS -> #GP(0x30)
  mov ax, 0x30
  mov ss, ax
  FTE 2
  FTB   ; beyond the GDT limit -> #GP(0x1000)
  mov ax, 0x1000
  mov ds, ax
  FTE 3
  FTB   ; RPL 3 on DPL 0 code... (0x08|3: code readable? no: execute/read 0x9A)
  mov ax, 0x0b
  mov es, ax
  FTE 4
  mov ax, 0x10
  mov es, ax
  FTB   ; null DS use -> #GP(0)
  xor ax, ax
  mov ds, ax
  mov eax, [ds:0x1000]
  FTE 5
  mov ax, 0x10
  mov ds, ax
  FTB   ; write to read-only -> #GP(0)
  mov ax, 0x30
  mov es, ax
  mov [es:0], eax
  FTE 6
  FTB   ; dword over the limit -> #GP(0)
  mov ax, 0x30
  mov es, ax
  mov eax, [es:0xFFE]
  FTE 7
  FTB   ; last byte: fine
  mov ax, 0x30
  mov es, ax
  mov al, [es:0xFFF]
  FTE 8
  FTB   ; expand-down below limit -> #GP(0)
  mov ax, 0x38
  mov es, ax
  mov eax, [es:0x800]
  FTE 9
  FTB   ; expand-down above limit: fine
  mov ax, 0x38
  mov es, ax
  mov eax, [es:0x1000]
  FTE 10
  FTB   ; conforming readable code in ES: fine
  mov ax, 0x60
  mov es, ax
  mov eax, [es:0x100000]
  FTE 11
  mov ax, 0x10
  mov es, ax
  FTB   ; not-present gate -> #NP(0x82*8+2)
  int 0x82
  FTE 12
  FTB   ; #DE
  xor edx, edx
  mov eax, 1
  xor ecx, ecx
  div ecx
  FTE 13
  mov eax, [fault_eip]
  RES 14, eax                            ; the faulting DIV's address
  FTB   ; #BP is a trap: handler returns after INT3 -> recorded
  int3
  FTE 15
  FTB
  ud2
  FTE 16
  FTB
  mov eax, 0x81
  int 0x81
  mov eax, 0x81
  FTE 17
  ; far call / far return within ring 0
  call 0x08:far_fn
  RES 18, eax
  ; LAR / LSL / VERR / VERW
  mov eax, 0xFFFFFFFF
  mov bx, 0x30
  lar eax, bx
  RES 19, eax
  mov bx, 0x50
  lsl eax, bx
  RES 20, eax
  pushfd
  pop eax
  mov bx, 0x48
  verr bx
  setz al
  mov bx, 0x30
  verw bx
  setz ah
  mov bx, 0x10
  verw bx
  setz cl
  shl ecx, 16
  mov cx, ax
  RES 21, ecx

  ; ==== ring 3 ====
  mov [kernel_esp], esp
  mov dword [kernel_cont], back_from_ring3
  mov ax, 0x10                           ; DS stays a DPL0 selector: IRET to ring 3 must null it
  mov ds, ax
  push dword 0x23                        ; SS
  push dword USTACK                      ; ESP
  push dword 0x202                       ; EFLAGS: IF=1 IOPL=0
  push dword 0x1B                        ; CS
  push dword ring3
  iretd
ring3:
  mov eax, ds
  RES 22, eax                            ; 0: nulled by IRET
  mov ax, 0x23
  mov ds, ax
  mov es, ax
  mov eax, 1
  int 0x80
  RES 23, ebx                            ; caller CPL = 3
  RES 24, ecx                            ; caller SS = 0x23
  RES 25, edx                            ; caller ESP = USTACK
  mov eax, 2
  mov ecx, 14
  int 0x80
  RES 26, eax                            ; 42
  mov eax, cs
  RES 27, eax
  FTB   ; DPL0 data from CPL3 -> #GP(0x10)
  mov ax, 0x10
  mov ds, ax
  FTE 28
  FTB   ; IOPL 0 -> #GP(0)
  cli
  FTE 29
  FTB   ; privileged -> #GP(0)
  hlt
  FTE 30
  FTB   ; no I/O bitmap -> #GP(0)
  in al, 0x80
  FTE 31
  FTB   ; gate DPL 0 -> #GP(0x81*8+2)
  int 0x81
  FTE 32
  FTB   ; -> #GP(0)
  mov eax, cr0
  FTE 33
  ; call gate to ring 0 with one parameter
  push dword 21
  call 0x5B:0
  RES 34, eax                            ; 42
  RES 35, ebx                            ; caller ESP as seen by the gate (USTACK - 4)
  RES 36, ecx                            ; caller SS (0x23)
  mov eax, esp
  RES 37, eax                            ; back at USTACK (retf 4 released the parameter)
  ; SS limit fault: #SS(0) delivered on the ring-0 stack (SS is restored before the result store)
  mov dword [ss:resume], ss_after
  mov dword [ss:fault_vec], -1
  mov dword [ss:fault_err], -1
  mov ax, 0x53
  mov ss, ax
  mov esp, 0x1002
  push eax
ss_after:
  mov ax, 0x23
  mov ss, ax
  mov esp, USTACK
  mov eax, [ss:fault_vec]
  shl eax, 16
  mov ax, [ss:fault_err]
  RES 38, eax
  FTB   ; DPL3 gate: allowed (trap, returns after it)
  int3
  FTE 39
  mov eax, 99
  int 0x80                               ; back to the kernel
back_from_ring3:
  mov ax, 0x10
  mov ds, ax
  mov es, ax

  ; ==== paging ====
  mov edi, PT0
  mov eax, 0x007                         ; P RW US
  mov ecx, 1024
.fill:
  mov [edi], eax
  add eax, 0x1000
  add edi, 4
  loop .fill
  mov dword [PT0 + (NP_PAGE >> 12) * 4], NP_PAGE | 6         ; not present
  mov dword [PT0 + (RO_PAGE >> 12) * 4], RO_PAGE | 5         ; read-only, user
  mov dword [PT0 + (SUP_PAGE >> 12) * 4], SUP_PAGE | 3       ; supervisor
  mov dword [PT0 + (USTK_PG >> 12) * 4], USTK_PG | 6         ; not present (user stack)
  mov dword [NP_PAGE], 0x11223344
  mov dword [USTK_PG + 0xFFC], 0
  mov edi, PD
  mov ecx, 1024
  xor eax, eax
  rep stosd
  mov dword [PD], PT0 | 7
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000                     ; PG | WP
  mov cr0, eax
  ; #PF on a not-present page, fixed by the handler, instruction restarted
  mov dword [pf_fix], PT0 + (NP_PAGE >> 12) * 4
  mov dword [fault_vec], -1
  mov ebx, 5
  mov ebx, [NP_PAGE]
  RES 40, ebx                            ; 0x11223344 after the restart
  mov eax, [fault_err]
  RES 41, eax                            ; error code 0 (read, not present, supervisor)
  mov eax, [fault_cr2]
  RES 42, eax
  FTB   ; CPL0 write to read-only with WP=1 -> #PF(3)
  mov dword [RO_PAGE], 1
  FTE 43
  mov eax, [fault_cr2]
  RES 44, eax
  ; self-modifying code: the patched immediate must be seen on the next execution
  mov ecx, 3
.smc:
  mov eax, 0
smc_imm equ $ - 4
  add [smc_count], eax
  mov dword [smc_imm], 5
  loop .smc
  mov eax, [smc_count]
  RES 45, eax                            ; 0 + 5 + 5 = 10
  ; ring 3 again with paging: user access to a supervisor page, and a PUSH restarted after #PF
  mov [kernel_esp], esp
  mov dword [kernel_cont], back2
  push dword 0x23
  push dword USTK_PG + 0x1000
  push dword 0x202
  push dword 0x1B
  push dword ring3b
  iretd
ring3b:
  mov ax, 0x23
  mov ds, ax
  FTB   ; -> #PF(5)
  mov eax, [SUP_PAGE]
  FTE 46
  FTB   ; user write to read-only -> #PF(7)
  mov dword [RO_PAGE], 7
  FTE 47
  mov dword [ss:pf_fix], PT0 + (USTK_PG >> 12) * 4   ; (PT0 is a user page here)
  mov eax, 0x5678
  push eax                               ; faults (#PF on the stack page), handler maps it, PUSH re-runs
  pop ebx
  RES 48, ebx
  mov eax, esp
  RES 49, eax                            ; USTK_PG + 0x1000
  mov eax, [ss:fault_err]
  RES 50, eax                            ; 6: user write, not present
  mov eax, 99
  int 0x80
back2:
  ; ==== 486/P5 instructions ====
  mov eax, 0x12345678
  bswap eax
  RES 51, eax
  mov eax, 5
  mov ebx, 7
  xadd eax, ebx
  RES 52, eax                            ; 12
  RES 53, ebx                            ; 5
  mov dword [results + 54 * 4], 100
  mov eax, 100
  mov ecx, 200
  lock cmpxchg [results + 54 * 4], ecx   ; equal: memory = 200
  mov dword [results + 55 * 4], 0
  mov eax, 0
  cpuid
  RES 55, ebx                            ; "Genu" — vendor differs on QEMU (masked by the test)
  ; REP MOVSB across a page boundary, backwards
  std
  mov esi, 0x150000 + 0x1010
  mov edi, 0x160000 + 0x1010
  mov dword [0x150000 + 0xFF8], 0x04030201
  mov dword [0x150000 + 0xFFC], 0x08070605
  mov dword [0x150000 + 0x1000], 0x0c0b0a09
  mov ecx, 0x20
  rep movsb
  cld
  mov eax, [0x160000 + 0xFFC]
  RES 56, eax
  RES 57, ecx
  mov eax, esi
  RES 58, eax
  ; done: print results
  xor esi, esi
.print:
  mov eax, [results + esi * 4]
  call print_hex
  inc esi
  cmp esi, 59
  jb .print
  mov al, 0
  out 0xF4, al
  cli
  hlt
  jmp $

align 8
idt: times IDT_ENTRIES dq 0
load_end:
bss_end:
