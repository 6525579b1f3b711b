; sched.asm - tasks and the preemptive round-robin scheduler.
;
; Every task has a 4 KiB kernel stack. A task that is not running is an interrupt frame
; on its kernel stack (T_ESP points at it); isr_common switches by saving ESP in the old
; task and loading the next one's. Ring 3 tasks enter the kernel on the stack in TSS.ESP0,
; so it is set to the next task's T_ESP0 on every switch. The timer ends the slice every
; tick (10 ms); int 0x80 SYS_YIELD ends it early.
;
; Task 0 is idle (the boot code): it only runs when no other task can. The rest run in
; turn; a sleeping task (ST_TICK, ST_INPUT) is runnable again as soon as its condition
; holds, and pick_next tests the conditions itself, so no wakeup can be lost.

section .text
; pick_next: eax = next task to run. Clobbers ecx, edx, esi.
pick_next:
        mov edx, [cur_task]
        sub edx, tasks
        shr edx, TASK_SHIFT         ; current index
        mov ecx, [ntasks]
        dec ecx                     ; candidates: tasks 1 .. ntasks-1, current one last
        jz .idle
.next:  inc edx
        cmp edx, [ntasks]
        jb .index_ok
        mov edx, 1
.index_ok:
        mov eax, edx
        shl eax, TASK_SHIFT
        add eax, tasks
        mov esi, [eax + T_STATE]
        cmp esi, ST_RUN
        je .found
        cmp esi, ST_TICK
        jne .input
        mov esi, [ticks]
        cmp esi, [eax + T_WAKE]
        jae .wake
        jmp .skip
.input: mov esi, [rx_head]
        cmp esi, [rx_tail]
        jne .wake
.skip:  dec ecx
        jnz .next
.idle:  mov eax, tasks
        ret
.wake:  mov dword [eax + T_STATE], ST_RUN
.found: ret

; task_new: eax = entry point, dl = ring (0 or 3), esi = name.
; Returns ebx = task, edi = its initial frame (caller may preset registers in it).
task_new:
        mov ebx, [ntasks]
        mov ecx, ebx
        shl ebx, TASK_SHIFT
        add ebx, tasks
        shl ecx, 12
        add ecx, kstacks + KSTACK_SIZE
        inc dword [ntasks]
        mov [ebx + T_KTOP], ecx
        mov [ebx + T_ESP0], ecx
        mov [ebx + T_NAME], esi
        movzx esi, dl
        mov [ebx + T_RING], esi
        lea edi, [ecx - FRAME_SIZE] ; a frame as if the task had been interrupted at entry
        mov [ebx + T_ESP], edi
        push edi
        push eax
        xor eax, eax
        mov ecx, FRAME_SIZE / 4
        rep stosd
        pop eax
        pop edi
        mov [edi + F_EIP], eax
        mov dword [edi + F_EFLAGS], FL_IF | 2    ; bit 1 is always 1
        mov dword [edi + F_CS], KCODE
        mov dword [edi + F_DS], KDATA
        mov dword [edi + F_ES], KDATA
        cmp dl, 3
        jne .done
        mov dword [edi + F_CS], UCODE
        mov dword [edi + F_DS], UDATA
        mov dword [edi + F_ES], UDATA
        mov dword [edi + F_USS], UDATA
.done:  ret

; tasks_init: idle (the boot code, already task 0), shell, ticker, checker, workers.
tasks_init:
        mov dword [tasks + T_NAME], name_idle
        mov dword [tasks + T_KTOP], kstacks + KSTACK_SIZE
        mov dword [tasks + T_ESP0], kstacks + KSTACK_SIZE
        mov dword [ntasks], 1
        mov eax, shell_main
        xor edx, edx
        mov esi, name_shell
        call task_new
        mov eax, ticker_main
        mov esi, name_ticker
        call task_new
        mov eax, checker_main
        mov esi, name_checker
        call task_new
        xor ebp, ebp                ; worker index
.worker:
        cmp ebp, [nworkers]
        jae .done
        mov eax, worker_main
        mov dl, 3
        mov esi, name_worker
        call task_new
        mov eax, ebp                ; initial registers: see worker_main
        imul eax, [wpages]
        shl eax, 12
        add eax, WORK_BASE
        mov [edi + F_EBX], eax
        mov eax, [wpages]
        mov [edi + F_ECX], eax
        mov eax, [opt_delay]
        mov [edi + F_EDX], eax
        lea eax, [ustat + ebp * 8]
        mov [edi + F_ESI], eax
        mov eax, ebp
        inc eax
        shl eax, 12
        add eax, ustacks
        mov [edi + F_UESP], eax
        inc ebp
        jmp .worker
.done:  ret

; idle_main: task 0. Sleep until the next interrupt; the timer preempts us.
idle_main:
        sti
.loop:  hlt
        inc dword [tasks + T_ITERS]
        jmp .loop

; yield: end this task's time slice (kernel tasks). Preserves all registers.
yield:
        push eax
        mov eax, SYS_YIELD
        int 0x80
        pop eax
        ret

; sleep_until: eax = tick count to sleep until. Preserves all registers.
sleep_until:
        push ebx
        mov ebx, [cur_task]
        mov [ebx + T_WAKE], eax
        mov dword [ebx + T_STATE], ST_TICK
        pop ebx
        jmp yield

; syscall_handler: int 0x80, ebx = frame, EAX = number.
syscall_handler:
        mov eax, [ebx + F_EAX]
        cmp eax, SYS_YIELD
        jne .uret
        mov byte [need_resched], 1
        ret
.uret:  cmp eax, SYS_URET
        jne .bad
        jmp leave_user
.bad:   mov dword [ebx + F_EAX], -1
        ret

; enter_user: eax = ring 3 entry point. Runs it in this task (the selftest uses it to
; test user-mode faults) until it calls SYS_URET; returns to our caller then.
; While in ring 3, kernel entries must land below our frames, so ESP0 = current ESP.
; Preserves all registers except eax.
enter_user:
        pushad
        mov ebx, [cur_task]
        cli                         ; the switch to ring 3 must not be interleaved
        mov [ebx + T_UCTX], esp
        mov [ebx + T_ESP0], esp
        mov [tss + 4], esp
        push dword UDATA            ; SS
        push dword ustacks + (MAX_WORKERS + 1) * USTACK_SIZE   ; ESP: the selftest's user stack
        push dword FL_IF | 2        ; EFLAGS: IOPL 0
        push dword UCODE
        push eax                    ; EIP
        mov ax, UDATA
        mov ds, ax
        mov es, ax
        iretd

; leave_user: SYS_URET from enter_user's ring 3 code. Drop the interrupt frame and
; continue in enter_user's caller as if enter_user had returned.
leave_user:
        mov ebx, [cur_task]
        mov esp, [ebx + T_UCTX]
        mov eax, [ebx + T_KTOP]
        mov [ebx + T_ESP0], eax
        mov [tss + 4], eax
        popad
        sti                         ; we came in through an interrupt gate
        ret

; ticker_main: prints the heartbeat. The timer only counts ticks; this task prints
; "tick N" for every 10 ticks in order, catching up if it was kept from running, so the
; sequence never skips or repeats a number.
ticker_main:
.loop:  mov eax, [heartbeats]
        inc eax
        imul eax, eax, HEARTBEAT_TICKS
        cmp [ticks], eax
        jae .beat
        call sleep_until
        jmp .loop
.beat:  inc dword [heartbeats]
        PUTS "tick"
        PDEC [heartbeats]
        call con_nl
        mov ebx, [cur_task]
        inc dword [ebx + T_ITERS]
        jmp .loop

section .data
        align 4
cur_task:       dd tasks
ntasks:         dd 1
heartbeats:     dd 0
name_idle:      db "idle", 0
name_shell:     db "shell", 0
name_ticker:    db "ticker", 0
name_checker:   db "checker", 0
name_worker:    db "worker", 0

section .bss
        alignb 4096
; user-accessible pages (paging.asm maps [uarea_start, uarea_end) with U/S = 1)
uarea_start:
ustacks:        resb USTACK_SIZE * (MAX_WORKERS + 1)    ; stack w = worker w; the last: selftest
ustat:          resd 2 * MAX_WORKERS                    ; per worker: page writes, passes
utest:          resd 16                                 ; selftest ring 3 results
        alignb 4096
uarea_end:
kstacks:        resb KSTACK_SIZE * MAX_TASKS
tasks:          resb TASK_SIZE * MAX_TASKS
