; idt.asm - interrupt descriptor table, entry stubs, the common entry/exit path and the
; CPU exception handler.
;
; Every vector enters through isr_common with one frame layout (defs.asm F_*): the stub
; pushes a dummy error code where the CPU pushes none (SDM vol 3A, 6.13), then its vector.
; Task switching happens only on the way out of isr_common, by swapping kernel stacks.

section .text
%assign v 0
%rep 48
isr_%[v]:
 %if !(v == 8 || (v >= 10 && v <= 14) || v == 17)
        push dword 0
 %endif
        push dword v
        jmp isr_common
 %assign v v + 1
%endrep
isr_syscall:
        push dword 0
        push dword 0x80
        jmp isr_common

isr_common:
        pushad
        push ds
        push es
        mov ax, KDATA               ; ring 3 may have had its own DS/ES loaded
        mov ds, ax
        mov es, ax
        cld                         ; the C-like convention our routines rely on
        mov ebx, esp                ; ebx = frame for the handlers
        mov eax, [ebx + F_VEC]
        cmp eax, 0x20
        jb .exception
        je .timer
        cmp eax, 0x24
        je .serial
        cmp eax, 0x80
        je .syscall
        call irq_other
        jmp .out
.exception:
        call exception_handler
        jmp .out
.timer: call irq_timer
        jmp .out
.serial:
        call irq_serial
        jmp .out
.syscall:
        call syscall_handler
.out:   cmp byte [need_resched], 0
        je .restore
        mov byte [need_resched], 0
        mov eax, [cur_task]
        mov [eax + T_ESP], esp      ; this frame is where the task resumes
        call pick_next
        mov [cur_task], eax
        mov esp, [eax + T_ESP]
        mov edx, [eax + T_ESP0]     ; the next ring 3 interrupt must land on its stack
        mov [tss + 4], edx
.restore:
        pop es
        pop ds
        popad
        add esp, 8                  ; vector and error code
        iretd

; idt_init: interrupt gates (IF cleared on entry) for the exceptions and IRQs, DPL 0 so
; ring 3 cannot raise them with INT n; the system call gate has DPL 3.
idt_init:
        xor ecx, ecx
.gate:  mov eax, [isr_table + ecx * 4]
        mov dl, 0x8E                ; present, DPL0, 32-bit interrupt gate
        call set_gate
        inc ecx
        cmp ecx, 48
        jb .gate
        mov ecx, 0x80
        mov eax, isr_syscall
        mov dl, 0xEE                ; present, DPL3, 32-bit interrupt gate
        call set_gate
        lidt [idt_desc]
        ret

; set_gate: ecx = vector, eax = handler, dl = type/attribute byte.
set_gate:
        lea edi, [idt + ecx * 8]
        mov [edi], ax
        mov word [edi + 2], KCODE
        mov byte [edi + 4], 0
        mov [edi + 5], dl
        shr eax, 16
        mov [edi + 6], ax
        ret

; exception_handler: ebx = frame. The selftest provokes faults on purpose: it arms
; fault_recover with the address to resume at. Then we print what happened and resume there
; (the faulting instruction changed nothing; SDM vol 3A, 6.5 "faults"). Anything else is a
; kernel bug: print the state and stop.
exception_handler:
        mov eax, [fault_recover]
        test eax, eax
        jz .panic
        mov dword [fault_recover], 0
        mov [ebx + F_EIP], eax
        inc dword [fault_count]
        mov eax, [ebx + F_VEC]
        cmp eax, 0
        je .de
        cmp eax, 13
        je .gp
        cmp eax, 14
        je .pf
        PUTS "#EXC"
        PHEX eax
        PHEX [ebx + F_ERR]
        jmp .nl
.de:    PUTS "#DE"
        jmp .nl
.gp:    PUTS "#GP err"
        PHEX [ebx + F_ERR]
        jmp .nl
.pf:    PUTS "#PF err"
        PHEX [ebx + F_ERR]
        PUTS " cr2"
        mov eax, cr2
        PHEX eax
.nl:    call con_nl
        ret
.panic:
        PUTS "PANIC: exception"
        PHEX [ebx + F_VEC]
        PUTS " err"
        PHEX [ebx + F_ERR]
        PUTS " eip"
        PHEX [ebx + F_EIP]
        PUTS " cs"
        PHEX [ebx + F_CS]
        PUTS " cr2"
        mov eax, cr2
        PHEX eax
        call con_nl
        jmp halt_forever

section .data
        align 4
isr_table:
%assign v 0
%rep 48
        dd isr_%[v]
 %assign v v + 1
%endrep
idt_desc:
        dw 256 * 8 - 1
        dd idt
fault_recover:  dd 0                ; nonzero: the next exception is expected, resume here
fault_count:    dd 0
need_resched:   db 0

section .bss
        alignb 8
idt:    resb 256 * 8
