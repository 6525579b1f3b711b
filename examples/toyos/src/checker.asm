; checker.asm - verifies the workers' regions (ring 0 task).
;
; Once per time slice (then it sleeps until the next tick) it scans every worker's region
; with interrupts off, so the worker cannot run mid-scan. For counters v[0..n-1]:
;   - a page's value never goes backwards: v[p] >= the value seen at the last scan;
;   - along the pages the values never increase: v[p] <= v[p-1] (an increase means the
;     page before it lags behind, i.e. lost an update: that page is reported);
;   - and they drop by at most one step: v[p] >= v[0] - 1.
; A violation prints "ERROR: worker W page P value V expected E" and stops the machine.

section .text
checker_main:
.loop:  xor ebp, ebp
.worker:
        cmp ebp, [nworkers]
        jae .scanned
        call check_worker
        inc ebp
        jmp .worker
.scanned:
        mov ebx, [cur_task]
        inc dword [ebx + T_ITERS]
        mov eax, [ticks]
        inc eax
        call sleep_until
        jmp .loop

; check_worker: ebp = worker index.
check_worker:
        mov [chk_worker], ebp
        mov ecx, [wpages]
        mov eax, ebp
        imul eax, ecx
        lea edi, [SHADOW_AREA + eax * 4]
        mov [chk_shadow], edi
        shl eax, 12
        lea esi, [WORK_BASE + eax]
        pushfd
        cli
        mov edx, [esi]              ; v[0]: the highest value allowed in this scan
        mov [chk_first + ebp * 4], edx
        mov ebx, edx                ; previous page's value
.page:  mov eax, [esi]
        cmp eax, [edi]
        jb .backwards
        cmp eax, ebx
        ja .lagging
        mov ebp, edx
        sub ebp, eax
        cmp ebp, 1
        ja .too_low
        mov [edi], eax
        mov ebx, eax
        add esi, 4096
        add edi, 4
        dec ecx
        jnz .page
        popfd
        mov ebp, [chk_worker]
        ret
.backwards:
        mov ebx, [edi]              ; expected: at least what we saw before
        jmp .report
.lagging:
        xchg eax, ebx               ; page p-1 holds ebx but page p already has eax
        sub edi, 4
        jmp .report
.too_low:
        lea ebx, [edx - 1]
; report: eax = value, ebx = expected, edi = shadow slot of the page
.report:
        sub edi, [chk_shadow]
        shr edi, 2
        PUTS "ERROR: worker"
        PDEC [chk_worker]
        PUTS " page"
        PDEC edi
        PUTS " value"
        PDEC eax
        PUTS " expected"
        PDEC ebx
        call con_nl
        jmp halt_forever

section .bss
chk_worker:     resd 1
chk_shadow:     resd 1
chk_first:      resd MAX_WORKERS    ; page 0's value at the last scan (stats: "seen")
