; selftest.asm - the `selftest` command. Its output depends only on the CPU's defined
; behaviour, never on timing, so the transcript from a reference machine (QEMU) can be
; compared line by line with another machine's. Flags are printed masked to the bits the
; SDM defines for each instruction. Expected faults print one line from the exception
; handler ("#PF err E cr2 A", "#GP err E", "#DE") and resume at a recovery label.

; EXPECT label: the next exception is expected; resume at label.
%macro EXPECT 1
        mov dword [fault_recover], %1
%endmacro

; OP label, eax0, pre, op, mask: eax = eax0; pre; op; print "label eax flags&mask".
%macro OP 5
        mov eax, %2
        %3
        %4
        FLAGS ebx, %5
        SHOW %1, eax, ebx
%endmacro

; MULDIV label, edx0, eax0, ecx0, op, mask: print "label edx eax flags&mask" after op.
; (Division defines no flags: mask 0.)
%macro MULDIV 6
        mov edx, %2
        mov eax, %3
        mov ecx, %4
        %5
        FLAGS ebx, %6
        SHOW %1, edx, eax, ebx
%endmacro

; USER_FAULT "text", entry: run ring 3 code that must fault, then come back.
%macro USER_FAULT 2
        PUTLN %1
        EXPECT u_ret
        mov eax, %2
        call enter_user
        call st_check_faulted
%endmacro

SHIFT1_FLAGS    equ FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF   ; shift by 1: OF defined, AF not
SHIFTN_FLAGS    equ FL_CF | FL_PF | FL_ZF | FL_SF           ; shift by >1: OF undefined
ROT1_FLAGS      equ FL_CF | FL_OF                           ; rotates touch only CF/OF
ROTN_FLAGS      equ FL_CF
MUL_FLAGS       equ FL_CF | FL_OF

section .text
cmd_selftest:
        call st_crc
        call st_muldiv
        call st_shifts
        call st_bits
        call st_strings
        call st_paging
        call st_user
        call st_kernel_faults
        PUTLN "selftest done"
        ret

; st_check_faulted: complain if the expected fault did not happen.
st_check_faulted:
        cmp dword [fault_recover], 0
        je .ok
        mov dword [fault_recover], 0
        PUTLN "FAIL: no fault"
.ok:    ret

; crc32: esi = data, ecx = length (> 0); eax = CRC-32 (IEEE, reflected, as zlib).
crc32:
        push edx
        mov eax, -1
.byte:  xor al, [esi]
        inc esi
        mov edx, 8
.bit:   shr eax, 1
        jnc .nopoly
        xor eax, 0xEDB88320
.nopoly:
        dec edx
        jnz .bit
        loop .byte
        not eax
        pop edx
        ret

st_crc:
        mov esi, crc_check
        mov ecx, 9
        call crc32
        SHOW "crc32 check", eax          ; the standard check value is cbf43926
        xor ecx, ecx                ; a page of patterned bytes
.fill:  mov eax, ecx
        imul eax, eax, 7
        mov edx, ecx
        shr edx, 8
        add eax, edx
        mov [st_frame0 + ecx], al
        inc ecx
        cmp ecx, 4096
        jb .fill
        mov esi, st_frame0
        mov ecx, 4096
        call crc32
        SHOW "crc32 page", eax
        ret

st_muldiv:
        ; 8/16-bit forms must leave the upper register bits alone: they are printed too
        MULDIV "mul max", 0, -1, -1, {mul ecx}, MUL_FLAGS
        MULDIV "mul small", 0, 0x12345, 0x10, {mul ecx}, MUL_FLAGS
        MULDIV "imul -1*min", 0, -1, 0x80000000, {imul ecx}, MUL_FLAGS
        MULDIV "imul -2*3", 0, -2, 3, {imul ecx}, MUL_FLAGS
        MULDIV "imul3 max*2", 0, 0, 0x7FFFFFFF, {imul eax, ecx, 2}, MUL_FLAGS
        MULDIV "imul3 x*-3", 0, 0, 0x12345678, {imul eax, ecx, -3}, MUL_FLAGS
        MULDIV "imul2 46341^2", 0, 46341, 0, {imul eax, eax}, MUL_FLAGS
        MULDIV "imul2 -46340^2", 0, -46340, 0, {imul eax, eax}, MUL_FLAGS
        MULDIV "imul16 -300*200", 0x11112222, -300, 200, {imul cx}, MUL_FLAGS
        MULDIV "mul8 ff*ff", 0x11112222, 0x333344FF, 0xFF, {mul cl}, MUL_FLAGS
        MULDIV "div max", 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF, {div ecx}, 0
        MULDIV "div 2^32/16", 1, 0, 16, {div ecx}, 0
        MULDIV "idiv -7/2", -1, -7, 2, {idiv ecx}, 0
        MULDIV "idiv 7/-2", 0, 7, -2, {idiv ecx}, 0
        MULDIV "idiv -7/-2", -1, -7, -2, {idiv ecx}, 0
        MULDIV "idiv min/1", -1, 0x80000000, 1, {idiv ecx}, 0
        MULDIV "div8 0107/10", 0x11112222, 0x33330107, 0x10, {div cl}, 0
        MULDIV "idiv16 -1000/7", 0x1111FFFF, 0x3333FC18, 7, {idiv cx}, 0
        ret

st_shifts:
        OP "shl 80000001,1", 0x80000001, nop, {shl eax, 1}, SHIFT1_FLAGS
        OP "shr 80000001,1", 0x80000001, nop, {shr eax, 1}, SHIFT1_FLAGS
        OP "sar 80000000,1", 0x80000000, nop, {sar eax, 1}, SHIFT1_FLAGS
        mov cl, 31
        OP "sar 80000000,31", 0x80000000, nop, {sar eax, cl}, SHIFTN_FLAGS
        mov cl, 33                  ; counts are masked to 5 bits: shifts by 1
        OP "shl 40000001,33", 0x40000001, nop, {shl eax, cl}, SHIFT1_FLAGS
        mov edx, 0x9ABCDEF0
        OP "shld 12345678,4", 0x12345678, nop, {shld eax, edx, 4}, SHIFTN_FLAGS
        OP "shrd 12345678,8", 0x12345678, nop, {shrd eax, edx, 8}, SHIFTN_FLAGS
        OP "rol 80000001,1", 0x80000001, nop, {rol eax, 1}, ROT1_FLAGS
        OP "ror 80000001,1", 0x80000001, nop, {ror eax, 1}, ROT1_FLAGS
        OP "rol 12345678,4", 0x12345678, nop, {rol eax, 4}, ROTN_FLAGS
        OP "rcl 80000000,1 cf=1", 0x80000000, stc, {rcl eax, 1}, ROT1_FLAGS
        OP "rcr 00000001,1 cf=0", 0x00000001, clc, {rcr eax, 1}, ROT1_FLAGS
        OP "rcr 00000001,3 cf=1", 0x00000001, stc, {rcr eax, 3}, ROTN_FLAGS
        mov cl, 9                   ; 8-bit RCL rotates through 9 bits: count 9 is a no-op
        mov eax, 0x000000A5
        rcl al, cl
        SHOW "rcl8 a5,9", eax
        ; a zero count changes no flags (set a known pattern first: CF=1 ZF=0 SF=1)
        mov eax, 0x12345678
        xor cl, cl
        mov ebx, 1
        cmp ebx, 2
        shl eax, cl
        FLAGS ebx, FL_CF | FL_ZF | FL_SF | FL_PF | FL_OF
        SHOW "shl count 0", eax, ebx
        ret

st_bits:
        mov ecx, 0x00018000
        OP "bsf 00018000", 0, nop, {bsf eax, ecx}, FL_ZF
        OP "bsr 00018000", 0, nop, {bsr eax, ecx}, FL_ZF
        mov ecx, 0x80000000
        OP "bsr 80000000", 0, nop, {bsr eax, ecx}, FL_ZF
        xor ecx, ecx
        mov eax, 0x5A5A
        bsf eax, ecx                ; the result register is undefined: print only ZF
        FLAGS ebx, FL_ZF
        SHOW "bsf 0 zf", ebx
        OP "bts 0f,35", 0x0F, nop, {bts eax, 35}, FL_CF      ; register offsets wrap mod 32
        OP "btr 0f,0", 0x0F, nop, {btr eax, 0}, FL_CF
        OP "btc 0f,31", 0x0F, nop, {btc eax, 31}, FL_CF
        ; memory bit strings: a register offset reaches outside the addressed dword
        xor eax, eax
        mov edi, st_frame1
        mov ecx, 8
        rep stosd
        mov dword [st_frame1 + 12], 0x10
        mov ecx, 100                ; dword 3, bit 4
        bt dword [st_frame1], ecx
        FLAGS ebx, FL_CF
        mov ecx, -1                 ; the bit just below the operand: dword 3, bit 31
        bts dword [st_frame1 + 16], ecx
        SHOW "bt mem +100, bts -1", ebx, [st_frame1 + 12]
        OP "bswap", 0x12345678, nop, {bswap eax}, 0
        mov eax, 5
        mov ecx, 7
        xadd eax, ecx
        SHOW "xadd 5,7", eax, ecx
        cpu 586                     ; nasm files CMPXCHG under the Pentium; it is an i486 instruction
        mov eax, 1
        mov ecx, 1
        mov edx, 9
        cmpxchg ecx, edx            ; equal: ecx = 9, ZF = 1
        FLAGS ebx, FL_ARITH
        SHOW "cmpxchg hit", eax, ecx, ebx
        mov eax, 2
        cmpxchg ecx, edx            ; not equal: eax = ecx (9), ZF = 0
        cpu 486
        FLAGS ebx, FL_ARITH
        SHOW "cmpxchg miss", eax, ecx, ebx
        mov eax, -1                 ; 64-bit add with carry: ffffffff_ffffffff + 1
        mov edx, -1
        add eax, 1
        adc edx, 0
        FLAGS ebx, FL_ARITH
        SHOW "add64", edx, eax, ebx
        xor eax, eax                ; 64-bit 0 - 1
        xor edx, edx
        sub eax, 1
        sbb edx, 0
        FLAGS ebx, FL_ARITH
        SHOW "sub64", edx, eax, ebx
        OP "neg 80000000", 0x80000000, nop, {neg eax}, FL_ARITH
        OP "dec 80000000 cf=1", 0x80000000, stc, {dec eax}, FL_ARITH   ; DEC keeps CF
        OP "inc 7fffffff cf=0", 0x7FFFFFFF, clc, {inc eax}, FL_ARITH
        OP "add 7fffffff,1", 0x7FFFFFFF, nop, {add eax, 1}, FL_ARITH
        OP "sub 0,80000000", 0, nop, {sub eax, 0x80000000}, FL_ARITH
        OP "and ff00ff00", 0xFFFFFFFF, nop, {and eax, 0xFF00FF00}, FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF
        mov cl, 0x80
        OP "movsx8", 0, nop, {movsx eax, cl}, 0
        mov cx, 0x8000
        OP "movzx16", -1, nop, {movzx eax, cx}, 0
        OP "cwde", 0x1234FFFE, nop, cwde, 0
        mov eax, 0x80000000
        cdq
        SHOW "cdq", edx
        mov eax, 5                  ; SETcc after 5 cmp 7: below, less, not greater, not equal
        cmp eax, 7
        setb al
        setl ah
        setg cl
        setne ch
        shl eax, 16
        mov ax, cx
        SHOW "setcc 5?7", eax
        ret

st_strings:
        xor eax, eax
        mov edi, st_frame1
        mov ecx, 64
        rep stosd
        mov esi, fox
        mov edi, st_frame1
        mov ecx, fox_len
        rep movsb
        sub esi, fox
        sub edi, st_frame1
        PUTS "rep movsb"
        PHEX ecx
        PHEX esi
        PHEX edi
        mov esi, st_frame1
        mov ecx, 64
        call crc32
        PHEX eax
        call con_nl
        mov edi, st_frame1 + 64
        mov eax, 0xA5A5A5A5
        mov ecx, 5
        rep stosd
        sub edi, st_frame1 + 64
        SHOW "rep stosd", edi, [st_frame1 + 64 + 16], [st_frame1 + 64 + 20]
        mov esi, cmp_a
        mov edi, cmp_b
        mov ecx, 16
        repe cmpsb                  ; stops after the first mismatch (index 10)
        FLAGS ebx, FL_ARITH
        sub esi, cmp_a
        SHOW "repe cmpsb", ecx, esi, ebx
        mov edi, hello
        xor eax, eax
        mov ecx, -1
        repne scasb                 ; strlen: ecx = -(length + 2)
        SHOW "repne scasb", ecx
        mov ecx, 5
.seq:   mov [st_frame1 + ecx * 4 - 4], ecx
        loop .seq
        std                         ; overlapping move one dword up, copied from the top down
        mov esi, st_frame1 + 12
        mov edi, st_frame1 + 16
        mov ecx, 4
        rep movsd
        cld
        SHOW "std rep movsd", [st_frame1], [st_frame1 + 4], [st_frame1 + 8], [st_frame1 + 12], [st_frame1 + 16]
        mov esi, hello
        mov edi, st_frame2
        mov ecx, 5
.upper: lodsb
        sub al, 'a' - 'A'
        stosb
        loop .upper
        xor ecx, ecx
        rep stosb                   ; count 0: nothing happens, edi stays
        sub edi, st_frame2
        SHOW "lodsb/stosb", [st_frame2], edi
        ret

; st_paging: aliases, INVLPG, A/D bits and protection, all inside the SCRATCH window.
; Pages of the window: 0 -> frame0 RW, 1 -> frame1 then frame2, 2 -> frame3 read-only,
; 3 absent, 5 -> frame3 RW (A/D test), 6 -> frame3 user read-only, 7 -> frame2 user RW.
st_paging:
        xor eax, eax                ; start from the same state on every run
        mov edi, pt_scratch
        mov ecx, 1024
        rep stosd
        mov eax, cr3                ; and forget every cached translation of the window
        mov cr3, eax
        mov dword [st_frame0], 0x12345678
        mov dword [pt_scratch + 0 * 4], st_frame0 + (PG_P | PG_RW)
        invlpg [SCRATCH]
        mov eax, [SCRATCH]
        SHOW "alias read", eax
        mov dword [SCRATCH + 4], 0x9ABCDEF0
        SHOW "alias write", [st_frame0 + 4]
        mov dword [st_frame1], 0x11111111
        mov dword [st_frame2], 0x22222222
        mov dword [pt_scratch + 1 * 4], st_frame1 + (PG_P | PG_RW)
        invlpg [SCRATCH + 0x1000]
        mov eax, [SCRATCH + 0x1000]
        mov dword [pt_scratch + 1 * 4], st_frame2 + (PG_P | PG_RW)
        invlpg [SCRATCH + 0x1000]   ; without it the old translation may still be used
        mov ebx, [SCRATCH + 0x1000]
        SHOW "invlpg", eax, ebx
        mov dword [pt_scratch + 5 * 4], st_frame3 + (PG_P | PG_RW)   ; A = D = 0
        invlpg [SCRATCH + 0x5000]
        mov eax, [pt_scratch + 5 * 4]
        and eax, PG_A | PG_D
        mov ecx, [SCRATCH + 0x5000] ; a read sets A
        mov ebx, [pt_scratch + 5 * 4]
        and ebx, PG_A | PG_D
        mov [SCRATCH + 0x5000], ecx ; a write sets D
        mov edx, [pt_scratch + 5 * 4]
        and edx, PG_A | PG_D
        SHOW "pte a/d before, after read, after write", eax, ebx, edx
        PUTLN "read absent page"
        EXPECT .r1
        mov eax, [SCRATCH + 0x3004]
.r1:    call st_check_faulted
        PUTLN "write absent page"
        EXPECT .r2
        mov dword [SCRATCH + 0x3008], 1
.r2:    call st_check_faulted
        mov dword [st_frame3 + 8], 0xABCD
        mov dword [pt_scratch + 2 * 4], st_frame3 + PG_P
        invlpg [SCRATCH + 0x2000]
        SHOW "read-only page read", [SCRATCH + 0x2008]
        PUTLN "ring 0 write read-only page, cr0.wp=1"
        EXPECT .r3
        mov dword [SCRATCH + 0x2008], 0x55
.r3:    call st_check_faulted
        SHOW "value", [st_frame3 + 8]
        pushfd
        cli
        mov eax, cr0
        and eax, ~(1 << 16)         ; WP=0: ring 0 ignores R/W (SDM vol 3A, 4.6.1)
        mov cr0, eax
        invlpg [SCRATCH + 0x2000]
        mov dword [SCRATCH + 0x2008], 0x55
        or eax, 1 << 16
        mov cr0, eax
        invlpg [SCRATCH + 0x2000]
        popfd
        SHOW "ring 0 write read-only page, cr0.wp=0", [st_frame3 + 8]
        ret

; st_user: faults and permissions seen from ring 3 (run through enter_user).
st_user:
        mov dword [pt_scratch + 6 * 4], st_frame3 + (PG_P | PG_US)
        mov dword [pt_scratch + 7 * 4], st_frame2 + (PG_P | PG_RW | PG_US)
        invlpg [SCRATCH + 0x6000]
        invlpg [SCRATCH + 0x7000]
        USER_FAULT "ring 3 read null page", u_read_null
        USER_FAULT "ring 3 read supervisor page", u_read_sup
        USER_FAULT "ring 3 write supervisor page", u_write_sup
        USER_FAULT "ring 3 write user read-only page", u_write_uro
        mov eax, u_read_uro
        call enter_user
        SHOW "ring 3 read user read-only page", [utest]
        mov eax, u_write_urw
        call enter_user
        SHOW "ring 3 write user page", [st_frame2]
        mov eax, u_bad_syscall
        call enter_user
        SHOW "ring 3 unknown syscall", [utest + 4]
        USER_FAULT "ring 3 load kernel data selector", u_load_kds
        USER_FAULT "ring 3 cli", u_cli
        USER_FAULT "ring 3 hlt", u_hlt
        USER_FAULT "ring 3 in from port", u_in
        USER_FAULT "ring 3 int 0x20 (dpl 0 gate)", u_int20
        ret

st_kernel_faults:
        PUTLN "load selector beyond gdt limit"
        EXPECT .g1
        mov ax, 0x1F8
        mov ds, ax
.g1:    call st_check_faulted
        PUTLN "load tss selector into ds"
        EXPECT .g2
        mov ax, TSSSEL
        mov ds, ax
.g2:    call st_check_faulted
        PUTLN "load null selector into ss"
        EXPECT .g3
        xor eax, eax
        mov ss, ax
.g3:    call st_check_faulted
        mov ax, KDATA               ; (the faults above changed nothing, but be sure)
        mov ds, ax
        PUTLN "divide by zero"
        EXPECT .d1
        mov eax, 1
        xor edx, edx
        xor ecx, ecx
        div ecx
.d1:    call st_check_faulted
        PUTLN "idiv min/-1 overflow"
        EXPECT .d2
        mov eax, 0x80000000
        cdq
        mov ecx, -1
        idiv ecx
.d2:    call st_check_faulted
        PUTLN "div8 1000/10 overflow"
        EXPECT .d3
        mov ax, 0x1000
        mov cl, 0x10
        div cl
.d3:    call st_check_faulted
        ret

section .utext
; Ring 3 pieces of the selftest. Each ends in u_ret, which is also where the exception
; handler resumes after an expected fault.
u_ret:  mov eax, SYS_URET
        int 0x80
u_read_null:
        mov eax, [0]
        jmp u_ret
u_read_sup:
        mov eax, [SCRATCH]
        jmp u_ret
u_write_sup:
        mov dword [SCRATCH], 1
        jmp u_ret
u_write_uro:
        mov dword [SCRATCH + 0x6000], 1
        jmp u_ret
u_read_uro:
        mov eax, [SCRATCH + 0x6008]
        mov [utest], eax
        jmp u_ret
u_write_urw:
        mov dword [SCRATCH + 0x7000], 0xCAFE0003
        jmp u_ret
u_bad_syscall:
        mov eax, 99
        int 0x80
        mov [utest + 4], eax
        jmp u_ret
u_load_kds:
        mov ax, KDATA
        mov ds, ax
        jmp u_ret
u_cli:  cli
        jmp u_ret
u_hlt:  hlt
        jmp u_ret
u_in:   mov dx, COM1
        in al, dx
        jmp u_ret
u_int20:
        int 0x20
        jmp u_ret

section .data
crc_check:      db "123456789"
fox:            db "The quick brown fox jumps over the lazy dog"
fox_len         equ $ - fox
hello:          db "hello, world", 0
cmp_a:          db "abcdefghijKLMNOP"
cmp_b:          db "abcdefghijkLMNOP"

section .bss
        alignb 4096
st_frame0:      resb 4096           ; physical frames the selftest maps into SCRATCH
st_frame1:      resb 4096
st_frame2:      resb 4096
st_frame3:      resb 4096
