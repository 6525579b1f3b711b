; Call-heavy benchmark guest: recursive Fibonacci with cdecl stack frames (CALL/RET, PUSH/POP,
; ENTER-free prologues, stack arguments) plus an indirect call through a function table.
; Prints the results on COM1 and halts with interrupts off. Fixed work, so every emulator runs
; the same instructions.
%define LOAD_ADDR 0x100000
        bits 32
        org LOAD_ADDR
%include "multiboot.inc"
ROUNDS equ 100
entry:
        cli
        mov esp, stack_top
        mov esi, banner
        call puts
        xor edi, edi               ; accumulated result
        mov ebx, ROUNDS
.round: push dword 24
        call fib
        add esp, 4
        add edi, eax
        mov ecx, 1000
.table: mov eax, ecx
        and eax, 3
        push ecx
        call [ops + eax*4]
        pop ecx
        add edi, eax
        loop .table
        dec ebx
        jnz .round
        mov eax, edi
        call puthex
        mov esi, done_msg
        call puts
        cli
        hlt

; int fib(int n): cdecl, frame pointer, two recursive calls.
fib:    push ebp
        mov ebp, esp
        push ebx
        mov eax, [ebp + 8]
        cmp eax, 2
        jb .leaf
        dec eax
        push eax
        call fib
        add esp, 4
        mov ebx, eax
        mov eax, [ebp + 8]
        sub eax, 2
        push eax
        call fib
        add esp, 4
        add eax, ebx
.leaf:  pop ebx
        pop ebp
        ret

op0:    mov eax, [esp + 4]
        ret
op1:    mov eax, [esp + 4]
        shl eax, 1
        ret
op2:    push ebp
        mov ebp, esp
        mov eax, [ebp + 8]
        imul eax, eax, 3
        leave
        ret
op3:    xor eax, eax
        ret

%include "serial.inc"
ops:      dd op0, op1, op2, op3
banner:   db "calls start", 10, 0
done_msg: db 10, "calls done", 10, 0
image_end:
        section .bss
        alignb 4096
        resb 16384
stack_top:
bss_end:
