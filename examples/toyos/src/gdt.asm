; gdt.asm - flat segments for ring 0 and ring 3, and the TSS.
;
; Segmentation is flat (base 0, limit 4 GiB); protection comes from paging. The TSS is only
; there for the ring 3 -> ring 0 stack switch: the CPU loads SS0:ESP0 from it on every
; interrupt taken in user mode (SDM vol 3A, 7.2.1 and 6.12.1). We switch tasks in software
; and rewrite ESP0 on every switch.

section .data
        align 8
gdt:    dq 0                        ; 0x00 null
        dq 0x00CF9A000000FFFF       ; 0x08 code DPL0: base 0, limit 0xFFFFF pages, G=1 D=1
        dq 0x00CF92000000FFFF       ; 0x10 data DPL0
        dq 0x00CFFA000000FFFF       ; 0x18 code DPL3
        dq 0x00CFF2000000FFFF       ; 0x20 data DPL3
gdt_tss:
        dq 0                        ; 0x28 TSS: filled in by gdt_init (its base is a label)
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt

section .text
; gdt_init: fill in the TSS descriptor and load the task register.
gdt_init:
        mov eax, tss
        mov word [gdt_tss + 0], 103         ; limit: 104-byte TSS, no I/O bitmap
        mov [gdt_tss + 2], ax               ; base 15..0
        shr eax, 16
        mov [gdt_tss + 4], al               ; base 23..16
        mov byte [gdt_tss + 5], 0x89        ; present, DPL0, 32-bit available TSS
        mov byte [gdt_tss + 6], 0           ; byte granular, limit 19..16 = 0
        mov [gdt_tss + 7], ah               ; base 31..24
        mov word [tss + 8], KDATA           ; SS0
        mov dword [tss + 4], kstacks + KSTACK_SIZE  ; ESP0 (rewritten on every task switch)
        ; I/O map base beyond the limit: ring 3 has no I/O ports at all (IOPL is 0)
        mov word [tss + 102], 104
        mov ax, TSSSEL
        ltr ax
        ret

section .bss
        alignb 16
tss:    resb 104
