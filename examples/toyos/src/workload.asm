; workload.asm - the memory workload, in the style of QEMU's migration test guest.
;
; Worker w (ring 3) owns wpages pages at WORK_BASE + w * wpages * 4 KiB. It increments the
; 32-bit counter at the start of every page, always in page order 0, 1, ..., last, then
; starts over. A pass therefore moves every counter from c to c + 1; in the middle of a pass
; pages [0..k] hold c + 1 and pages [k+1..] hold c. The checker relies on exactly that.

section .text
; workload_init: decide workers and pages per worker, zero the counters and shadows.
workload_init:
        mov eax, [opt_workers]
        cmp eax, MAX_WORKERS
        jbe .w_ok
        mov eax, MAX_WORKERS
.w_ok:  mov [nworkers], eax
        test eax, eax
        jz .off
        mov ecx, eax
        mov eax, [ram_end]
        sub eax, WORK_BASE          ; MIN_RAM guarantees this is positive
        shr eax, 12                 ; pages available for the workload
        xor edx, edx
        div ecx                     ; eax = most pages each worker can have
        cmp dword [opt_pages + 4], 0
        je .auto
        cmp eax, [opt_pages]
        jbe .set                    ; pages=N asks for more than fits: clamp
        mov eax, [opt_pages]
        jmp .set
.auto:  shr eax, 1                  ; default: half of RAM above 8 MiB, capped
        cmp eax, DEFAULT_PAGE_CAP
        jbe .set
        mov eax, DEFAULT_PAGE_CAP
.set:   mov [wpages], eax
        test eax, eax
        jnz .zero
.off:   mov dword [nworkers], 0
        mov dword [wpages], 0
.zero:  ; counters start at 0 (pass 0); the checker has seen nothing yet (shadow 0)
        mov ecx, [nworkers]
        imul ecx, [wpages]
        mov [wtotal], ecx
        jecxz .print
        mov edi, WORK_BASE
        xor eax, eax
.zpage: mov [edi], eax
        add edi, 4096
        loop .zpage
        mov ecx, [wtotal]
        mov edi, SHADOW_AREA
        rep stosd
.print: PUTS "workers"
        PDEC [nworkers]
        PUTS " pages"
        PDEC [wpages]
        PUTS " delay"
        PDEC [opt_delay]
        call con_nl
        ret

section .utext
; worker_main (ring 3). ebx = region base, ecx = pages, edx = delay loop count,
; esi = this worker's ustat slot (+0 page writes, +4 completed passes).
worker_main:
        mov ebp, ecx
.pass:  mov edi, ebx
        mov ecx, ebp
.page:  inc dword [edi]             ; the counter at the start of the page
        inc dword [esi]
        mov eax, edx
.delay: test eax, eax
        jz .delayed
        dec eax
        jmp .delay
.delayed:
        add edi, 4096
        dec ecx
        jnz .page
        inc dword [esi + 4]
        jmp .pass

section .data
        align 4
nworkers:       dd 0
wpages:         dd 0                ; pages per worker
wtotal:         dd 0                ; nworkers * wpages
