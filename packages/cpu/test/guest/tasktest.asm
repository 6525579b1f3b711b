; Task switching, virtual-8086 mode and debug-register kernel for @ferry86/cpu (multiboot, a.out
; kludge, loads at 1 MiB). Each subtest stores one dword in `results`; at the end every result is
; printed to port 0xE9 as eight hex digits and a newline, then the kernel halts.
; A fault subtest stores (vector << 16) | (error code & 0xFFFF), or 0xFFFFFFFF if nothing faulted.
;
; Covers: JMP to a TSS and back (busy bits, NT, CR0.TS, LDT and FS loaded from the TSS), CALL
; through a task gate and IRET back through the link field, busy/limit/present faults, IRET with
; NT to a non-busy task, #DF through a task gate in the IDT (error code on the new task's stack),
; INT n through a task gate to a 16-bit TSS, a fault after the commit point (delivered in the new
; task), a V86 monitor (entered by IRET) that emulates CLI/STI/PUSHF/INT/IRET/OUT/HLT from #GP
; with the I/O bitmap deciding port access, a V86 task (entered by a task switch, IOPL 3), and an
; instruction breakpoint in DR0 with RF.
; Build: nasm -f bin -o tasktest.bin tasktest.asm   (record: see README.md / record-bochs.sh)

bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000

KSTACK   equ 0x90000         ; kernel stack (ring 0, main task)
MSTACK0  equ 0x8C000         ; main TSS ESP0: the V86 monitor's stack
ASTACK   equ 0x8A000
DFSTACK  equ 0x88000
CSTACK   equ 0x86000
VSTACK0  equ 0x84000         ; ring-0 stack of the V86 task
TSTACK   equ 0x82000
DSTACK0  equ 0x81000         ; ring-0 stack of task D
PD1      equ 0x200000        ; main task's page directory (4 MiB pages)
PD2      equ 0x201000        ; task P's: linear 4 MiB maps physical 0
V86SEG   equ 0x2000          ; V86 code and data at linear 0x20000
V86SS    equ 0x3000
KBASE    equ 0x100000

mb_header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd mb_header, 0x100000, load_end, bss_end, start

; ---- descriptor tables ------------------------------------------------------------------------------
%macro SYSDESC 3                         ; offset from $$, byte limit, access byte
  dw (%2) & 0xffff
  dw ((%1) + KBASE) & 0xffff
  db (((%1) + KBASE) >> 16) & 0xff
  db %3
  db ((%2) >> 16) & 0x0f
  db (((%1) + KBASE) >> 24) & 0xff
%endmacro
%macro TGATE 2                           ; TSS selector, access byte
  dw 0, %1
  db 0, %2
  dw 0
%endmacro
%macro IGATE 2                           ; handler label, access byte
  dw ((%1) - $$ + KBASE) & 0xffff, 0x08
  db 0, %2
  dw (((%1) - $$ + KBASE) >> 16) & 0xffff
%endmacro

align 8
gdt:
  dq 0                                   ; 0x00 null
  dq 0x00CF9A000000FFFF                  ; 0x08 code32 DPL0 flat
  dq 0x00CF92000000FFFF                  ; 0x10 data32 DPL0 flat
  dq 0x00009A100000FFFF                  ; 0x18 code16 DPL0 base 1 MiB, 64 KiB
  dq 0x000092100000FFFF                  ; 0x20 data16 DPL0 base 1 MiB, 64 KiB
  SYSDESC tss_main - $$, tss_main_end - tss_main - 1, 0x89  ; 0x28 main task
  SYSDESC tss_a - $$, 0x67, 0x89                            ; 0x30 task A
  TGATE 0x30, 0x85                                          ; 0x38 task gate -> A
  SYSDESC tss_df - $$, 0x67, 0x89                           ; 0x40 #DF task
  SYSDESC tss_b16 - $$, 0x2b, 0x81                          ; 0x48 16-bit task
  dq 0x000092070000FFFF                  ; 0x50 data16 DPL0 base 0x70000 (16-bit task's stack)
  SYSDESC tss_c - $$, 0x67, 0x89                            ; 0x58 task C: DS not present
  dq 0x00CF12000000FFFF                  ; 0x60 data32 NOT present
  SYSDESC tss_c - $$, 0x50, 0x89                            ; 0x68 TSS limit too small
  SYSDESC tss_v - $$, 0x67, 0x89                            ; 0x70 V86 task
  SYSDESC ldt_a - $$, 7, 0x82                               ; 0x78 LDT of task A
  SYSDESC tss_c - $$, 0x67, 0x09                            ; 0x80 TSS not present
  SYSDESC tss_t - $$, 0x67, 0x89                            ; 0x88 task with the T flag
  SYSDESC tss_p - $$, 0x67, 0x89                            ; 0x90 task with its own CR3
  SYSDESC tss_d - $$, 0x67, 0x89                            ; 0x98 task D: SS not present
  SYSDESC tss_e - $$, 0x67, 0x89                            ; 0xA0 #UD task
gdt_end:

ldt_a:
  dq 0x004092100000FFFF                  ; LDT 0x04: data32 base 1 MiB

gdtr: dw gdt_end - gdt - 1
      dd gdt

IDT_ENTRIES equ 0x42
idtr: dw IDT_ENTRIES * 8 - 1
      dd idt

; ---- task-state segments ------------------------------------------------------------------------------
%macro TSS32 12                          ; eip, esp, esp0, cs, ss, ds, es, fs, gs, eflags, ldt, cr3
  dd 0, %3, 0x10, 0, 0, 0, 0
  dd %12, %1, %10
  dd 0, 0, 0, 0, %2, 0, 0, 0
  dd %7, %4, %5, %6, %8, %9, %11
  dw 0, 0x68
%endmacro

align 16
tss_main:
  dd 0, MSTACK0, 0x10, 0, 0, 0, 0
  times 18 dd 0
  dw 0, iomap - tss_main
iomap:                                   ; ports 0..FFh: all denied except 0x80
  times 0x10 db 0xff
  db 0xfe
  times 0x0f db 0xff
  db 0xff
tss_main_end:

align 16
tss_a:   TSS32 task_a, ASTACK, 0, 0x08, 0x10, 0x10, 0x10, 0x04, 0x10, 2, 0x78, 0x1000
align 16
tss_df:  TSS32 task_df, DFSTACK, 0, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 2, 0, 0
align 16
tss_c:   TSS32 task_c, CSTACK, 0, 0x08, 0x10, 0x60, 0x10, 0x10, 0x10, 2, 0, 0
align 16
tss_d:   TSS32 task_c, CSTACK, DSTACK0, 0x08, 0x60, 0x10, 0x10, 0x10, 0x10, 2, 0, 0
align 16
tss_e:   TSS32 task_e, TSTACK, 0, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 2, 0, 0
align 16
tss_v:   TSS32 v86b - v86_code, 0xFF00, VSTACK0, V86SEG, V86SS, V86SEG, V86SEG, 0, 0, 0x23002, 0, 0
align 16
tss_t:   TSS32 task_t, TSTACK, 0, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 2, 0, 0
align 16
tss_p:   TSS32 task_p, TSTACK, 0, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 2, 0, PD2
align 16
tss_b16:
  dw 0                                   ; link
  dw 0, 0, 0, 0, 0, 0                    ; sp0 ss0 sp1 ss1 sp2 ss2
  dw task_b16 - $$                       ; ip
  dw 2                                   ; flags
  dw 0, 0, 0, 0                          ; ax cx dx bx
  dw 0xFFF0                              ; sp
  dw 0, 0, 0                             ; bp si di
  dw 0x20, 0x18, 0x50, 0x20              ; es cs ss ds
  dw 0                                   ; ldt

; ---- data -------------------------------------------------------------------------------------------
align 4
resume:     dd 0
fault_vec:  dd 0
fault_err:  dd 0
fault_eip:  dd 0
fault_efl:  dd 0
kernel_esp: dd 0
kernel_cont: dd 0
df_resume:  dd 0
df_err:     dd 0
df_link:    dd 0
df_eip:     dd 0
df_tr:      dd 0
b16_tr:     dd 0
b16_flags:  dd 0
b16_link:   dd 0
b16_sp:     dd 0
db_count:   dd 0
db_dr6:     dd 0
db_eip:     dd 0
db_efl:     dd 0
mon_ds:     dd 0
mon_count:  dd 0
mon_err:    dd 0
mon_vif:    dd 0
mon_bad:    dd 0
mon_exit_mode: dd 0
mon_nout:   dd 0
mon_out:    dd 0, 0
ldt_val:    dd 0x1DC0FFEE
p_cr3:      dd 0
p_val:      dd 0
e_efl:      dd 0
e_eip:      dd 0
NRES equ 96
results:    times NRES dd 0xDEADBEEF

; ---- subtest macros -----------------------------------------------------------------------------------
%assign RI 0
%macro RES 1                             ; store the next result
  mov [ss:results + RI * 4], %1
  %assign RI RI + 1
%endmacro
%macro FTB 0                             ; begin a subtest whose instructions may fault
  %push ft
  mov dword [ss:resume], %$after
  mov dword [ss:fault_vec], -1
  mov dword [ss:fault_err], -1
%endmacro
%macro FTE 0                             ; end it: store the fault (or -1) as the next result
%$after:
  mov eax, [ss:fault_vec]
  shl eax, 16
  mov ax, [ss:fault_err]
  RES eax
  %pop
%endmacro

; ---- exception stubs ------------------------------------------------------------------------------------
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
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR 10
STUB_ERR 11
STUB_ERR 12
STUB_ERR 14
STUB_NOERR 0xEE

stub13:                                  ; #GP: from V86 to the monitor, else the common path
  test dword [ss:esp + 12], 0x20000
  jnz v86_monitor
  push dword 13
  jmp common_fault

; Stack here: vector, error, eip, cs, eflags
common_fault:
  push eax
  mov eax, [ss:esp + 4]
  mov [ss:fault_vec], eax
  mov eax, [ss:esp + 8]
  mov [ss:fault_err], eax
  mov eax, [ss:esp + 12]
  mov [ss:fault_eip], eax
  mov eax, [ss:esp + 20]
  mov [ss:fault_efl], eax
  mov eax, [ss:resume]
  test eax, eax
  jz .out
  mov [ss:esp + 12], eax
  mov dword [ss:resume], 0
.out:
  pop eax
  add esp, 8
  iretd

; #DB: count, record DR6, EIP and the pushed EFLAGS, then return with RF set so the breakpointed
; instruction runs once.
db_stub:
  push eax
  inc dword [ss:db_count]
  mov eax, dr6
  mov [ss:db_dr6], eax
  mov eax, [ss:esp + 4]
  mov [ss:db_eip], eax
  mov eax, [ss:esp + 12]
  mov [ss:db_efl], eax
  or dword [ss:esp + 12], 0x10000
  pop eax
  iretd

; ---- tasks -------------------------------------------------------------------------------------------
task_a:                                  ; first entered by JMP, then by CALL through the gate
  str ax
  movzx eax, ax
  RES eax
  pushfd
  pop eax
  and eax, 0x4000
  RES eax
  movzx eax, byte [gdt + 0x28 + 5]
  RES eax
  movzx eax, byte [gdt + 0x30 + 5]
  RES eax
  mov eax, cr0
  and eax, 8
  RES eax
  mov eax, cr3
  RES eax
  mov eax, [fs:ldt_val - $$]
  RES eax
  sldt ax
  movzx eax, ax
  RES eax
  FTB
  jmp 0x38:0                             ; task gate to this (busy) task: #GP(30h)
  FTE
  mov ebx, 0xAAAA
  jmp 0x28:0
  ; second entry (CALL through the task gate)
  pushfd
  pop eax
  and eax, 0x4000
  RES eax
  movzx eax, word [tss_a]
  RES eax
  movzx eax, byte [gdt + 0x28 + 5]
  RES eax
  movzx eax, byte [gdt + 0x30 + 5]
  RES eax
  iretd
  jmp task_a

task_df:                                 ; #DF through the task gate in the IDT
  pop eax
  mov [df_err], eax
  str ax
  movzx eax, ax
  mov [df_tr], eax
  movzx eax, word [tss_df]
  mov [df_link], eax
  mov eax, [tss_main + 0x20]
  mov [df_eip], eax
  mov eax, [df_resume]
  mov [tss_main + 0x20], eax
  or byte [idt + 13 * 8 + 5], 0x80
  iretd
  jmp task_df

task_c:                                  ; never runs: loading its DS faults after the commit
  jmp $
c_escape:                                ; the #NP handler resumes here, still in task C
  jmp 0x28:0

task_e:                                  ; #UD through a task gate: no error code
  mov eax, [tss_main + 0x24]
  mov [e_efl], eax
  mov eax, [tss_main + 0x20]
  mov [e_eip], eax
  add dword [tss_main + 0x20], 2         ; past the UD2
  iretd
  jmp task_e

task_t:                                  ; its TSS has T = 1: #DB before this instruction
  jmp 0x28:0

task_p:                                  ; runs with CR3 = PD2 from its TSS
  mov eax, cr3
  mov [p_cr3], eax
  mov eax, [0x400000 + ldt_val - $$ + KBASE]
  mov [p_val], eax
  jmp 0x28:0

bits 16
task_b16:                                ; INT 0x41 through a task gate to a 16-bit TSS
  str ax
  mov [b16_tr - $$], ax
  pushf
  pop ax
  mov [b16_flags - $$], ax
  mov ax, [tss_b16 - $$]
  mov [b16_link - $$], ax
  mov ax, sp
  mov [b16_sp - $$], ax
  iret
  jmp task_b16
bits 32

; ---- V86 monitor ----------------------------------------------------------------------------------------
F_ERR equ 32
F_EIP equ 36
F_CS  equ 40
F_EFL equ 44
F_ESP equ 48
F_SS  equ 52

v86_monitor:
  pushad
  mov ebp, esp
  mov ax, ds
  movzx eax, ax
  mov [ss:mon_ds], eax
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  inc dword [mon_count]
  movzx esi, word [ebp + F_CS]
  shl esi, 4
  movzx eax, word [ebp + F_EIP]
  add esi, eax
  mov eax, [ebp + F_ERR]
  test eax, eax
  jz .decode
  mov [mon_err], eax                     ; a gate refused the V86 task: skip the instruction
  cmp byte [esi], 0xCD
  je .skip2
  jmp .skip1
.decode:
  movzx eax, byte [esi]
  cmp al, 0xE6
  je .out
  cmp al, 0xFA
  je .cli
  cmp al, 0xFB
  je .sti
  cmp al, 0x9C
  je .pushf
  cmp al, 0xCD
  je .int
  cmp al, 0xCF
  je .iret
  cmp al, 0xF4
  je .hlt
  mov [mon_bad], eax
  jmp .hlt
.out:
  mov eax, [ebp + 28]
  mov edx, [mon_nout]
  mov [mon_out + edx], al
  inc dword [mon_nout]
  jmp .skip2
.cli:
  mov dword [mon_vif], 0
  jmp .skip1
.sti:
  mov dword [mon_vif], 0x200
  jmp .skip1
.pushf:
  movzx ebx, word [ebp + F_EFL]
  and ebx, ~0x200
  or ebx, [mon_vif]
  call v86_push16
  jmp .skip1
.int:
  movzx ebx, word [ebp + F_EFL]
  and ebx, ~0x200
  or ebx, [mon_vif]
  call v86_push16
  movzx ebx, word [ebp + F_CS]
  call v86_push16
  movzx ebx, word [ebp + F_EIP]
  add ebx, 2
  call v86_push16
  movzx eax, byte [esi + 1]
  movzx ebx, word [eax * 4]
  mov [ebp + F_EIP], ebx
  movzx ebx, word [eax * 4 + 2]
  mov [ebp + F_CS], ebx
  mov dword [mon_vif], 0
  jmp .ret
.iret:
  call v86_pop16
  mov [ebp + F_EIP], ebx
  call v86_pop16
  mov [ebp + F_CS], ebx
  call v86_pop16
  and ebx, 0x200
  mov [mon_vif], ebx
  jmp .ret
.hlt:
  cmp dword [mon_exit_mode], 0
  jne .to_main
  mov esp, [kernel_esp]
  mov ax, 0x10
  mov fs, ax
  mov gs, ax
  jmp [kernel_cont]
.to_main:
  jmp 0x28:0
.skip2:
  inc word [ebp + F_EIP]
.skip1:
  inc word [ebp + F_EIP]
.ret:
  popad
  add esp, 4
  iretd

v86_push16:                              ; ebx -> V86 stack
  movzx eax, word [ebp + F_SS]
  shl eax, 4
  movzx edx, word [ebp + F_ESP]
  sub dx, 2
  mov [ebp + F_ESP], dx
  add eax, edx
  mov [eax], bx
  ret
v86_pop16:                               ; V86 stack -> ebx
  movzx eax, word [ebp + F_SS]
  shl eax, 4
  movzx edx, word [ebp + F_ESP]
  movzx ebx, word [eax + edx]
  add dx, 2
  mov [ebp + F_ESP], dx
  ret

; ---- real-mode code run in V86 (copied to V86SEG:0) ---------------------------------------------------
bits 16
v86_code:
  mov ax, 0xBEEF
  mov [0x200], ax
  mov al, 0x5A
  out 0x80, al                           ; allowed by the I/O bitmap: no fault
  mov al, 0x11
  out 0xE9, al                           ; denied: #GP, the monitor records AL
  cli                                    ; IOPL 0: #GP, emulated
  sti
  pushf
  pop bx
  mov [0x202], bx
  mov ax, 0x1234
  int 0x21                               ; #GP, reflected through the IVT to v86_int21
  mov [0x204], ax
  mov ax, V86SEG + 0x20
  mov es, ax
  mov al, [es:1]                         ; real-mode segment arithmetic: linear 0x20201
  out 0xE9, al
  int3                                   ; not IOPL-sensitive: the DPL 0 gate gives #GP(1Ah)
  mov al, 0x22
  out 0xE9, al
  hlt                                    ; #GP: the monitor ends the session
v86_int21:
  add ax, ax
  iret                                   ; #GP, emulated
v86b:                                    ; the V86 task (IOPL 3), entered by a task switch
  cli
  pushf
  pop ax
  mov [0x210], ax
  sti
  pushf
  pop ax
  mov [0x212], ax
  cli
  mov al, 0x33
  out 0xE9, al                           ; outside this TSS's (absent) bitmap: #GP
  int 0x21                               ; IOPL 3: through the IDT, gate DPL 0: #GP(10Ah)
  hlt
v86_code_end:
bits 32

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
  lidt [idtr]
  mov ax, 0x28
  ltr ax
  cld

  ; --- JMP to a TSS and back ---
  mov ebx, 0x600DF00D
  jmp 0x30:0
  RES ebx
  movzx eax, byte [gdt + 0x28 + 5]
  RES eax
  movzx eax, byte [gdt + 0x30 + 5]
  RES eax
  mov eax, [tss_a + 0x20]
  sub eax, task_a
  RES eax
  mov eax, cr0
  and eax, 8
  RES eax
  clts
  sldt ax
  movzx eax, ax
  RES eax
  mov ax, fs
  movzx eax, ax
  RES eax

  ; --- CALL through a task gate, IRET back through the link ---
  mov ebx, 0xC0FFEE
  call 0x38:0
  RES ebx
  pushfd
  pop eax
  and eax, 0x4000
  RES eax
  movzx eax, byte [gdt + 0x28 + 5]
  RES eax
  movzx eax, byte [gdt + 0x30 + 5]
  RES eax
  mov eax, [tss_a + 0x24]
  RES eax
  mov eax, [tss_a + 0x20]
  sub eax, task_a
  RES eax
  movzx eax, word [tss_a]
  RES eax

  ; --- busy, limit and presence faults ---
  FTB
  jmp 0x28:0                             ; busy: #GP(28h)
  FTE
  mov eax, [fault_efl]
  shr eax, 16
  and eax, 1
  RES eax                                ; RF in a fault's EFLAGS image
  FTB
  call 0x28:0                            ; busy: #GP(28h)
  FTE
  FTB
  jmp 0x68:0                             ; limit 50h: #TS(68h)
  FTE
  FTB
  call 0x80:0                            ; not present: #NP(80h)
  FTE
  FTB
  mov word [tss_main], 0x30
  pushfd
  or dword [esp], 0x4000
  popfd
  iretd                                  ; link 30h is not busy: #TS(30h)
  FTE
  pushfd
  and dword [esp], ~0x4000
  popfd
  mov word [tss_main], 0
  movzx eax, byte [gdt + 0x30 + 5]
  RES eax

  ; --- #DF through a task gate ---
  and byte [idt + 13 * 8 + 5], 0x7f      ; #GP gate not present: #GP -> #NP -> #DF
  mov dword [df_resume], .df_back
  mov eax, 0x1234
.df_insn:
  mov ds, ax                             ; #GP(1230h)
  jmp $
.df_back:
  RES eax
  mov eax, [df_err]
  RES eax
  mov eax, [df_tr]
  RES eax
  mov eax, [df_link]
  RES eax
  mov eax, [df_eip]
  sub eax, .df_insn
  RES eax
  movzx eax, byte [gdt + 0x40 + 5]
  RES eax
  movzx eax, byte [gdt + 0x28 + 5]
  RES eax

  ; --- a fault (#UD) through a task gate: RF in the saved EFLAGS, EIP at the instruction ---
  mov ebx, 0x5150
.ud_insn:
  ud2
  RES ebx
  mov eax, [e_efl]
  and eax, 0x10000
  RES eax
  mov eax, [e_eip]
  sub eax, .ud_insn
  RES eax
  pushfd
  pop eax
  and eax, 0x14000
  RES eax

  ; --- INT n through a task gate to a 16-bit TSS ---
  mov ebx, 0x11112222
  int 0x41
  RES ebx
  mov eax, [b16_tr]
  RES eax
  mov eax, [b16_flags]
  RES eax
  mov eax, [b16_link]
  RES eax
  mov eax, [b16_sp]
  RES eax
  movzx eax, word [tss_b16 + 0x0e]
  sub eax, task_b16 - $$
  RES eax
  movzx eax, byte [gdt + 0x48 + 5]
  RES eax

  ; --- a fault after the commit point is delivered in the new task ---
  mov dword [resume], c_escape
  mov dword [fault_vec], -1
  mov dword [fault_err], -1
  jmp 0x58:0                             ; task C's DS (60h) is not present: #NP(60h)
  mov eax, [fault_vec]
  shl eax, 16
  mov ax, [fault_err]
  RES eax
  mov eax, [fault_eip]
  sub eax, task_c
  RES eax
  mov eax, [tss_c + 0x20]
  sub eax, c_escape
  RES eax
  movzx eax, word [tss_c + 0x54]
  RES eax
  movzx eax, byte [gdt + 0x58 + 5]
  RES eax

  ; --- SS fault after the commit point: delivered as from CPL 3 (stack from the new TSS) ---
  mov dword [resume], c_escape
  mov dword [fault_vec], -1
  mov dword [fault_err], -1
  jmp 0x98:0                             ; task D's SS (60h) is not present: #SS(60h)
  mov eax, [fault_vec]
  shl eax, 16
  mov ax, [fault_err]
  RES eax
  mov eax, [tss_d + 0x38]
  RES eax
  movzx eax, word [tss_d + 0x50]
  RES eax

  ; --- V86 through IRET, with a monitor ---
  mov esi, v86_code
  mov edi, V86SEG * 16
  mov ecx, v86_code_end - v86_code
  rep movsb
  mov word [0x21 * 4], v86_int21 - v86_code
  mov word [0x21 * 4 + 2], V86SEG
  mov [kernel_esp], esp
  mov dword [kernel_cont], .v86_done
  mov dword [mon_exit_mode], 0
  push dword 0                           ; gs
  push dword 0                           ; fs
  push dword V86SEG                      ; ds
  push dword V86SEG                      ; es
  push dword V86SS                       ; ss
  push dword 0xFFF0                      ; esp
  push dword 0x20002                     ; eflags: VM, IOPL 0
  push dword V86SEG                      ; cs
  push dword 0                           ; eip
  iretd
.v86_done:
  mov eax, [mon_count]
  RES eax
  mov eax, [mon_ds]
  RES eax
  mov eax, [mon_err]
  RES eax
  mov eax, [mon_bad]
  RES eax
  mov eax, [mon_nout]
  RES eax
  mov eax, [mon_out]
  RES eax
  movzx eax, word [V86SEG * 16 + 0x202]
  RES eax
  movzx eax, word [V86SEG * 16 + 0x204]
  RES eax
  movzx eax, word [V86SEG * 16 + 0x200]
  RES eax
  str ax
  movzx eax, ax
  RES eax

  ; --- V86 task through a task switch (IOPL 3) ---
  mov dword [mon_exit_mode], 1
  mov dword [mon_nout], 0
  mov dword [mon_out], 0
  mov dword [mon_err], 0
  mov dword [mon_count], 0
  jmp 0x70:0
  mov eax, [mon_count]
  RES eax
  mov eax, [mon_err]
  RES eax
  mov eax, [mon_out]
  RES eax
  movzx eax, word [V86SEG * 16 + 0x210]
  RES eax
  movzx eax, word [V86SEG * 16 + 0x212]
  RES eax
  mov eax, [tss_v + 0x24]                ; the V86 task was left in its ring-0 monitor
  and eax, 0x20000
  RES eax
  movzx eax, byte [gdt + 0x70 + 5]
  RES eax

  ; --- instruction breakpoint (DR0) with RF ---
  xor eax, eax
  mov dr6, eax
  mov eax, bp_target
  mov dr0, eax
  mov eax, 1                             ; L0, R/W0 = 00 (execute), LEN0 = 00
  mov dr7, eax
  xor ecx, ecx
  mov esi, 2
bp_target:
  inc ecx
  dec esi
  jnz bp_target
  xor eax, eax
  mov dr7, eax
  RES ecx
  mov eax, [db_count]
  RES eax
  mov eax, [db_dr6]
  RES eax
  mov eax, [db_eip]
  sub eax, bp_target
  RES eax
  mov eax, [db_efl]
  and eax, 0x10000
  RES eax

  ; --- T flag in the new TSS: #DB trap (DR6.BT) at the new task's first instruction ---
  mov dword [db_count], 0
  mov word [tss_t + 0x64], 1
  jmp 0x88:0
  mov eax, [db_count]
  RES eax
  mov eax, [db_dr6]
  RES eax
  mov eax, [db_eip]
  sub eax, task_t
  RES eax
  xor eax, eax
  mov dr6, eax

  ; --- CR3 from the TSS (paging on, 4 MiB pages) ---
  mov dword [PD1], 0x83
  mov dword [PD1 + 4], 0x400083
  mov dword [PD2], 0x83
  mov dword [PD2 + 4], 0x000083
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  mov eax, PD1
  mov cr3, eax
  mov [tss_main + 0x1c], eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov dword [0x400000 + ldt_val - $$ + KBASE], 0x5A5A5A5A
  jmp 0x90:0
  mov eax, [p_cr3]
  RES eax
  mov eax, [p_val]
  RES eax
  mov eax, cr3
  RES eax
  mov eax, [0x400000 + ldt_val - $$ + KBASE]
  RES eax

  ; done: print results
  xor esi, esi
.print:
  mov eax, [results + esi * 4]
  call print_hex
  inc esi
  cmp esi, RI
  jb .print
  mov al, 0
  out 0xF4, al
  cli
  hlt
  jmp $

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

align 8
idt:
%assign v 0
%rep IDT_ENTRIES
  %if v == 1
    IGATE db_stub, 0x8E
  %elif v == 8
    TGATE 0x40, 0x85
  %elif v == 6
    TGATE 0xA0, 0x85
  %elif v == 13
    IGATE stub13, 0x8E
  %elif v == 0x41
    TGATE 0x48, 0x85
  %elif v == 0 || (v >= 3 && v <= 7) || (v >= 10 && v <= 14)
    IGATE stub%[v], 0x8E
  %else
    IGATE stub0xEE, 0x8E
  %endif
  %assign v v + 1
%endrep
load_end:
bss_end:
