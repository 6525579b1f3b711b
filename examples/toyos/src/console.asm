; console.asm - line-atomic output on COM1.
;
; Each task builds its output line in its own buffer (task T_LBUF) and con_nl sends the
; whole line with interrupts off, so lines from different tasks never mix mid-line.
; Every line ends with CR LF. The one exception is the shell prompt: "> " plus the echoed
; input stays on the terminal unterminated (con_partial = 1). When another task emits a
; line meanwhile, con_nl first ends the partial line with CR LF, prints its line, then
; repeats "> " and the input typed so far. So the byte stream is always whole lines plus
; at most one trailing prompt line.
;
; All routines preserve all registers.

section .text
; con_putc: al = character
con_putc:
        push ebx
        push ecx
        mov ebx, [cur_task]
        mov ecx, [ebx + T_LLEN]
        cmp ecx, LBUF_MAX
        jae .full                   ; over-long lines are truncated
        mov [ebx + T_LBUF + ecx], al
        inc dword [ebx + T_LLEN]
.full:  pop ecx
        pop ebx
        ret

; con_puts: esi = zero-terminated string
con_puts:
        push esi
        push eax
.next:  lodsb
        test al, al
        jz .done
        call con_putc
        jmp .next
.done:  pop eax
        pop esi
        ret

; con_hex_sp: " " then eax as 8 lowercase hex digits
con_hex_sp:
        push eax
        mov al, ' '
        call con_putc
        pop eax
; con_hex: eax as 8 lowercase hex digits
con_hex:
        pushad
        mov edx, eax
        mov ecx, 8
.digit: rol edx, 4
        mov eax, edx
        and eax, 0x0F
        mov al, [hex_digits + eax]
        call con_putc
        loop .digit
        popad
        ret

; con_dec_sp: " " then eax as unsigned decimal
con_dec_sp:
        push eax
        mov al, ' '
        call con_putc
        pop eax
; con_dec: eax as unsigned decimal
con_dec:
        pushad
        mov ebx, 10
        xor ecx, ecx
.div:   xor edx, edx
        div ebx
        push edx                    ; digits come out least significant first
        inc ecx
        test eax, eax
        jnz .div
.out:   pop eax
        add al, '0'
        call con_putc
        loop .out
        popad
        ret

; con_nl: emit the current task's line plus CR LF, atomically, and empty the buffer.
con_nl:
        pushad
        pushfd
        cli
        mov ebx, [cur_task]
        cmp byte [con_partial], 0
        je .line
        call ser_crlf               ; end the prompt line the user is typing on
.line:  lea esi, [ebx + T_LBUF]
        mov ecx, [ebx + T_LLEN]
        call ser_write
        call ser_crlf
        mov dword [ebx + T_LLEN], 0
        cmp byte [con_partial], 0
        je .done
        call con_redraw_prompt
.done:  popfd
        popad
        ret

; con_redraw_prompt: "> " and the shell's input so far. Interrupts must be off.
con_redraw_prompt:
        push esi
        push ecx
        mov esi, prompt_str
        mov ecx, 2
        call ser_write
        mov esi, sh_buf
        mov ecx, [sh_len]
        call ser_write
        pop ecx
        pop esi
        ret

section .data
hex_digits:     db "0123456789abcdef"
prompt_str:     db "> "
con_partial:    db 0                ; 1 while the prompt line is open on the terminal
