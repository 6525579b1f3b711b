; macros.asm - printing shorthands. Every console routine preserves all registers and
; flags are NOT preserved, so capture EFLAGS before printing.

; PUTS "text": append a literal to the current task's output line.
%macro PUTS 1
[section .data]
%%s:    db %1, 0
__SECT__
        push esi
        mov esi, %%s
        call con_puts
        pop esi
%endmacro

; PUTLN "text": append a literal and emit the whole line.
%macro PUTLN 1
        PUTS %1
        call con_nl
%endmacro

; PHEX x: append " " and x as 8 lowercase hex digits (x: register or memory dword).
%macro PHEX 1
        push eax
        mov eax, %1
        call con_hex_sp
        pop eax
%endmacro

; PDEC x: append " " and x as unsigned decimal.
%macro PDEC 1
        push eax
        mov eax, %1
        call con_dec_sp
        pop eax
%endmacro

; FLAGS reg, mask: reg = EFLAGS & mask. Use right after the instruction under test and
; only with bits the SDM defines for it, so real CPUs and emulators agree.
%macro FLAGS 2
        pushfd
        pop %1
        and %1, %2
%endmacro

; SHOW "label", x, ...: one whole line "label x ..." with every x in hex.
%macro SHOW 1-*
        PUTS %1
 %rep %0 - 1
  %rotate 1
        PHEX %1
 %endrep
        call con_nl
%endmacro
