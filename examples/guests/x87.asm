; x87 benchmark guest: a Mandelbrot set over a 96x64 grid (40 times), up to 200 iterations per point, with
; precision control set to 53 bits (FLDCW) so that every x87 implementation, whether it keeps
; 64-bit mantissas or computes in doubles, produces the same iteration counts. Comparisons use
; FCOMP + FNSTSW AX + SAHF (i387 style). Prints the total iteration count and halts.
%define LOAD_ADDR 0x100000
        bits 32
        org LOAD_ADDR
%include "multiboot.inc"
WIDTH   equ 96
HEIGHT  equ 64
MAXIT   equ 200
REPEAT  equ 40
entry:
        cli
        mov esp, stack_top
        mov eax, cr0
        and eax, ~0x0C             ; EM=0, TS=0: use the FPU
        or eax, 0x22               ; MP=1, NE=1
        mov cr0, eax
        fninit
        fldcw [control]
        mov esi, banner
        call puts
        xor edi, edi               ; total iterations
        mov dword [pass], REPEAT
.pass:  xor ebx, ebx               ; y
.row:   xor ecx, ecx               ; x
.col:   ; c = (x0 + x*dx, y0 + y*dy)
        mov [tmp], ecx
        fild dword [tmp]
        fmul qword [dx_]
        fadd qword [x0]
        fstp qword [cr]
        mov [tmp], ebx
        fild dword [tmp]
        fmul qword [dy_]
        fadd qword [y0]
        fstp qword [ci]
        fldz                       ; zi
        fldz                       ; zr zi
        xor edx, edx
.iter:  ; st0 = zr, st1 = zi
        fld st0
        fmul st0, st0              ; zr^2 zr zi
        fld st2
        fmul st0, st0              ; zi^2 zr^2 zr zi
        fld st1
        fadd st0, st1              ; zr^2+zi^2 zi^2 zr^2 zr zi
        fcomp qword [four]
        fnstsw ax
        sahf
        ja .escaped_pop2
        fsubp st1, st0             ; zr^2-zi^2 zr zi
        fadd qword [cr]            ; new zr, zr, zi
        fxch st1                   ; zr newzr zi
        fmulp st2, st0             ; newzr zr*zi
        fxch st1                   ; zr*zi newzr
        fadd st0, st0
        fadd qword [ci]            ; newzi newzr
        fxch st1                   ; newzr newzi
        inc edx
        cmp edx, MAXIT
        jb .iter
        jmp .done_point
.escaped_pop2:
        fstp st0
        fstp st0
.done_point:
        fstp st0
        fstp st0
        add edi, edx
        inc ecx
        cmp ecx, WIDTH
        jb .col
        inc ebx
        cmp ebx, HEIGHT
        jb .row
        dec dword [pass]
        jnz .pass
        mov eax, edi
        call puthex
        mov esi, done_msg
        call puts
        cli
        hlt

%include "serial.inc"
        align 8
x0:     dq -2.2
y0:     dq -1.2
dx_:    dq 0.03125
dy_:    dq 0.0375
four:   dq 4.0
control: dw 0x027F                 ; all exceptions masked, PC = 53 bits, RC = nearest
banner:   db "x87 start", 10, 0
done_msg: db 10, "x87 done", 10, 0
image_end:
        section .bss
        alignb 8
cr:     resq 1
ci:     resq 1
tmp:    resd 1
pass:   resd 1
        alignb 4096
        resb 8192
stack_top:
bss_end:
