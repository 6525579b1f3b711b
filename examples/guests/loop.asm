; CPU-bound integer benchmark guest: a tight mix of ALU, shifts, loads/stores and branches over a
; 64 KiB table (an LCG-driven histogram plus a running checksum). Prints the checksum on COM1
; and halts with interrupts off. Iteration count is fixed so every run executes the same
; instructions on every emulator.
        bits 32
%define LOAD_ADDR 0x100000
        org LOAD_ADDR
%include "multiboot.inc"
ITERATIONS equ 20000000
entry:
        cli
        mov esp, stack_top
        mov esi, banner
        call puts
        mov edi, table
        xor eax, eax
        mov ecx, 16384
        rep stosd
        mov ebx, 12345             ; LCG state
        xor edx, edx               ; checksum
        mov ecx, ITERATIONS
.loop:  imul ebx, ebx, 1103515245
        add ebx, 12345
        mov eax, ebx
        shr eax, 16
        and eax, 0x3FFC
        add dword [table + eax], 1
        xor edx, [table + eax]
        rol edx, 3
        test ebx, 0x100
        jz .skip
        add edx, ebx
.skip:  dec ecx
        jnz .loop
        mov eax, edx
        call puthex
        mov esi, done_msg
        call puts
        cli
        hlt
%include "serial.inc"
banner:   db "loop start", 10, 0
done_msg: db 10, "loop done", 10, 0
image_end:
        section .bss
        alignb 4096                 ; data in its own page, apart from the code
table:  resd 16384
        resb 4096
stack_top:
bss_end:
