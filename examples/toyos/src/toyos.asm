; toyos.asm - the one assembly unit: nasm -f bin -I src/ src/toyos.asm -o toyos.bin
;
; A flat binary loaded by a Multiboot v1 loader at 1 MiB. Section order in the image:
;   .text   kernel code (starts with the multiboot header)
;   .utext  ring 3 code, page aligned so its pages alone can be user-accessible
;   .data   kernel data, page aligned so no kernel data shares a page with .utext
;   .bss    zero-filled (not in the file; multiboot bss_end_addr covers it)

        bits 32
        cpu 486                     ; the assembler refuses anything newer than the i486
                                    ; (CPUID and CMPXCHG are let through locally: nasm files them as 586)

%include "defs.asm"
%include "macros.asm"

        org KERNEL_BASE
section .text   progbits align=16
section .utext  progbits align=4096 follows=.text
section .data   progbits align=4096 follows=.utext
section .bss    nobits   align=4096 follows=.data

section .utext
utext_start:
section .bss
bss_start:

%include "multiboot.asm"
%include "gdt.asm"
%include "idt.asm"
%include "pic.asm"
%include "pit.asm"
%include "serial.asm"
%include "console.asm"
%include "paging.asm"
%include "sched.asm"
%include "workload.asm"
%include "checker.asm"
%include "shell.asm"
%include "selftest.asm"
%include "disk.asm"

section .utext
        align 4096, db 0xCC         ; pad the user pages with INT3 so stray ring 3 jumps trap
utext_end:

section .data
        align 4, db 0
image_end:                          ; multiboot load_end_addr

section .bss
        alignb 4096
bss_end:                            ; multiboot bss_end_addr
