; shell.asm - the command shell (ring 0 task) reading lines from COM1.
;
; Prompt "> ". Input is echoed; backspace (BS or DEL) erases; CR or LF ends the line
; (LF right after CR is ignored, so CR LF counts once). The finished line is echoed as
; "> LINE" CR LF, then the command's output follows as whole lines.

SH_MAX          equ 120

section .text
shell_main:
.prompt:
        cli                         ; prompt and con_partial change together (see console.asm)
        mov dword [sh_len], 0
        mov esi, prompt_str
        mov ecx, 2
        call ser_write
        mov byte [con_partial], 1
        sti
.read:  call sh_getc
        cmp al, 10
        je .lf
        mov byte [sh_last_cr], 0
        cmp al, 13
        je .cr
        cmp al, 8
        je .backspace
        cmp al, 127
        je .backspace
        cmp al, ' '
        jb .read                    ; other control characters: ignored
        cli
        mov ecx, [sh_len]
        cmp ecx, SH_MAX
        jae .full
        mov [sh_buf + ecx], al
        inc dword [sh_len]
        call ser_putc               ; echo
.full:  sti
        jmp .read
.backspace:
        cli
        cmp dword [sh_len], 0
        je .full
        dec dword [sh_len]
        mov al, 8
        call ser_putc
        mov al, ' '
        call ser_putc
        mov al, 8
        call ser_putc
        sti
        jmp .read
.lf:    cmp byte [sh_last_cr], 0
        mov byte [sh_last_cr], 0
        jne .read
        jmp .enter
.cr:    mov byte [sh_last_cr], 1
.enter: cli
        call ser_crlf
        mov byte [con_partial], 0
        sti
        mov ebx, [cur_task]
        inc dword [ebx + T_ITERS]
        call sh_exec
        jmp .prompt

; sh_getc: al = next input byte; sleeps while the receive ring is empty.
sh_getc:
.again: cli
        mov ecx, [rx_tail]
        cmp ecx, [rx_head]
        jne .have
        mov ebx, [cur_task]
        mov dword [ebx + T_STATE], ST_INPUT
        sti
        call yield
        jmp .again
.have:  mov al, [rx_buf + ecx]
        inc ecx
        and ecx, 0xFF
        mov [rx_tail], ecx
        sti
        ret

; sh_exec: run the command in sh_buf[0 .. sh_len).
sh_exec:
        mov ecx, [sh_len]
        mov byte [sh_buf + ecx], 0
        mov esi, sh_buf
        call skip_spaces
        cmp byte [esi], 0
        je .done                    ; empty line
        call dlog_append            ; every command line goes to the disk log (disk.asm)
        mov edx, commands
.try:   mov edi, [edx]
        test edi, edi
        jz .unknown
        call match_word
        je .found
        add edx, 8
        jmp .try
.found: call skip_spaces            ; esi = arguments
        jmp [edx + 4]
.unknown:
        PUTS "unknown command:"
        PUTS " "
        call con_puts
        call con_nl
        PUTLN "try: help"
.done:  ret

; match_word: ZF=1 and esi past the word if the word at esi equals the string at edi.
match_word:
        push esi
        push edi
.cmp:   mov al, [edi]
        test al, al
        jz .end
        cmp al, [esi]
        jne .no
        inc esi
        inc edi
        jmp .cmp
.end:   mov al, [esi]               ; the word must end here too
        cmp al, ' '
        je .yes
        test al, al
        jne .no
.yes:   pop edi
        add esp, 4                  ; keep the advanced esi
        xor eax, eax                ; ZF=1
        ret
.no:    pop edi
        pop esi
        or eax, 1                   ; ZF=0
        ret

skip_spaces:
.s:     cmp byte [esi], ' '
        jne .d
        inc esi
        jmp .s
.d:     ret

; parse_dec: esi = text; eax = its decimal value, CF=1 if there were no digits.
parse_dec:
        xor eax, eax
        xor edx, edx                ; digit count
.d:     movzx ecx, byte [esi]
        sub ecx, '0'
        cmp ecx, 9
        ja .end
        imul eax, eax, 10
        add eax, ecx
        inc esi
        inc edx
        jmp .d
.end:   call skip_spaces
        cmp edx, 1                  ; CF = (edx < 1)
        ret

cmd_help:
        PUTLN "commands:"
        PUTLN "  help              this list"
        PUTLN "  selftest          timing-independent CPU/paging/fault checks"
        PUTLN "  stats             ticks, per-task iterations, per-worker passes"
        PUTLN "  echo TEXT         print TEXT"
        PUTLN "  corrupt [W [P]]   rewind worker W page P by one (the checker must catch it)"
        PUTLN "  log               the last command lines, read back from the disk log"
        PUTLN "  halt              print halting and stop the CPU"
        ret

cmd_echo:
        call con_puts
        call con_nl
        ret

cmd_halt:
        PUTLN "halting"
        jmp halt_forever

cmd_stats:
        PUTS "clock ticks"          ; (not "ticks ...": heartbeat lines own the word "tick")
        PDEC [ticks]
        PUTS " heartbeats"
        PDEC [heartbeats]
        call con_nl
        xor ecx, ecx
        mov ebx, tasks
.task:  PUTS "task"
        PDEC ecx
        PUTS " "
        mov esi, [ebx + T_NAME]
        call con_puts
        PUTS " ring"
        PDEC [ebx + T_RING]
        PUTS " iters"
        mov eax, [ebx + T_ITERS]
        cmp dword [ebx + T_RING], 3
        jne .iters
        lea eax, [ecx - 4]          ; workers are tasks 4..: their count is in user memory
        mov eax, [ustat + eax * 8]
.iters: PDEC eax
        call con_nl
        add ebx, TASK_SIZE
        inc ecx
        cmp ecx, [ntasks]
        jb .task
        xor ecx, ecx
.worker:
        cmp ecx, [nworkers]
        jae .done
        PUTS "worker"
        PDEC ecx
        PUTS " base"
        mov eax, ecx
        imul eax, [wpages]
        shl eax, 12
        add eax, WORK_BASE
        PHEX eax
        PUTS " pages"
        PDEC [wpages]
        PUTS " passes"
        PDEC [ustat + ecx * 8 + 4]
        PUTS " checked"             ; page 0's counter at the checker's last scan
        PDEC [chk_first + ecx * 4]
        call con_nl
        inc ecx
        jmp .worker
.done:  ret

; corrupt [W [P]]: what a migration that lost a page would look like. Rewinds the counter
; of worker W (default 0) page P (default the middle page) by one.
cmd_corrupt:
        cmp dword [nworkers], 0
        jne .ok
        PUTLN "no workload"
        ret
.ok:    call parse_dec
        jnc .w
        xor eax, eax
.w:     cmp eax, [nworkers]
        jb .w_ok
        xor eax, eax
.w_ok:  mov ebx, eax
        call parse_dec
        jnc .p
        mov eax, [wpages]
        shr eax, 1
.p:     cmp eax, [wpages]
        jb .p_ok
        xor eax, eax
.p_ok:  mov edx, ebx
        imul edx, [wpages]
        add edx, eax
        shl edx, 12
        dec dword [WORK_BASE + edx]
        PUTS "corrupted worker"
        PDEC ebx
        PUTS " page"
        PDEC eax
        call con_nl
        ret

section .data
        align 4
commands:
        dd .help, cmd_help
        dd .selftest, cmd_selftest
        dd .stats, cmd_stats
        dd .echo, cmd_echo
        dd .halt, cmd_halt
        dd .corrupt, cmd_corrupt
        dd .log, cmd_log
        dd 0, 0
.help:          db "help", 0
.selftest:      db "selftest", 0
.stats:         db "stats", 0
.echo:          db "echo", 0
.halt:          db "halt", 0
.corrupt:       db "corrupt", 0
.log:           db "log", 0
sh_last_cr:     db 0

section .bss
sh_len:         resd 1
sh_buf:         resb SH_MAX + 4
