; paging.asm - identity map all RAM (two-level 32-bit paging, SDM vol 3A, 4.3).
;
;   0 - 4 MiB   4 KiB pages (pt_low): page 0 absent (catches null pointers), .utext user
;               read-only, the user stacks/data user read-write, everything else kernel.
;   4 - 8 MiB   kernel only (page tables in PT_AREA, the checker's SHADOW_AREA).
;   8 MiB - end user read-write (worker regions). 4 MiB pages (CR4.PSE) when CPUID says
;               the CPU has them and pse=0 was not given; 4 KiB pages otherwise, and for
;               a last 4 MiB chunk that RAM only partly fills.
;   SCRATCH     one page table of its own that the selftest edits (starts empty).
; CR0.WP is set, so ring 0 also honours read-only pages (SDM vol 3A, 4.6).

section .text
paging_init:
        call detect_pse
        mov [pse_on], al
        ; low 4 MiB
        xor ecx, ecx                ; page index
.low:   mov eax, ecx
        shl eax, 12
        mov edx, eax
        or edx, PG_P | PG_RW
        cmp eax, utext_start
        jb .low_kernel
        cmp eax, utext_end
        jae .low_uarea
        mov edx, eax
        or edx, PG_P | PG_US        ; user code: user may read/execute, nobody may write
        jmp .low_set
.low_uarea:
        cmp eax, uarea_start
        jb .low_kernel
        cmp eax, uarea_end
        jae .low_kernel
        or edx, PG_US
.low_kernel:
        test ecx, ecx
        jnz .low_set
        xor edx, edx                ; page 0 not present
.low_set:
        mov [pt_low + ecx * 4], edx
        inc ecx
        cmp ecx, 1024
        jb .low
        mov dword [page_dir], pt_low + (PG_P | PG_RW | PG_US)   ; PTEs decide U/S
        ; 4 MiB chunks 1 .. ceil(ram_end / 4 MiB) - 1
        mov ecx, 1                  ; chunk index
.chunk: mov eax, ecx
        shl eax, 22                 ; chunk base
        cmp eax, [ram_end]
        jae .chunks_done
        mov edx, PG_P | PG_RW | PG_US
        cmp ecx, 1
        jne .flags_ok
        mov edx, PG_P | PG_RW       ; 4-8 MiB: kernel only
.flags_ok:
        cmp byte [pse_on], 0
        je .table
        mov ebx, [ram_end]
        sub ebx, eax
        cmp ebx, 0x400000
        jb .table                   ; partial chunk: map only the pages that exist
        lea ebx, [eax + edx + PG_PS]
        mov [page_dir + ecx * 4], ebx
        jmp .next_chunk
.table: mov edi, ecx
        shl edi, 12
        add edi, PT_AREA - 4096     ; chunk k uses the table at PT_AREA + (k - 1) * 4 KiB
        lea ebx, [edi + edx]
        mov [page_dir + ecx * 4], ebx
        push ecx
        mov ecx, 1024
.pte:   xor ebx, ebx
        cmp eax, [ram_end]
        jae .pte_set                ; beyond RAM: not present
        lea ebx, [eax + edx]
.pte_set:
        mov [edi], ebx
        add edi, 4
        add eax, 4096
        loop .pte
        pop ecx
.next_chunk:
        inc ecx
        jmp .chunk
.chunks_done:
        mov dword [page_dir + (SCRATCH >> 22) * 4], pt_scratch + (PG_P | PG_RW | PG_US)
        mov eax, page_dir
        mov cr3, eax
        cmp byte [pse_on], 0
        je .no_pse
        mov eax, cr4
        or eax, 1 << 4              ; CR4.PSE (CR4 exists on every CPU that has PSE)
        mov cr4, eax
.no_pse:
        mov eax, cr0
        or eax, (1 << 31) | (1 << 16)   ; PG, WP
        mov cr0, eax
        jmp .paged                  ; (a 386 wants a jump after enabling paging)
.paged:
        PUTS "pse"
        movzx eax, byte [pse_on]
        PDEC eax
        call con_nl
        PUTLN "paging on"
        ret

; detect_pse: al = 1 if CPUID exists (EFLAGS.ID can be toggled), CPUID.1:EDX bit 3 (PSE)
; is set and the command line did not say pse=0.
detect_pse:
        xor eax, eax
        cmp dword [opt_pse], 0
        je .done
        pushfd
        pop eax
        mov ecx, eax
        xor eax, 1 << 21
        push eax
        popfd
        pushfd
        pop eax
        push ecx
        popfd
        xor eax, ecx
        test eax, 1 << 21
        jz .no
        cpu 586                     ; CPUID (late i486s have it too; we just tested for it)
        xor eax, eax
        cpuid
        test eax, eax
        jz .no                      ; no leaf 1
        mov eax, 1
        cpuid
        cpu 486
        shr edx, 3
        and edx, 1
        mov eax, edx
        jmp .done
.no:    xor eax, eax
.done:  ret

section .data
pse_on: db 0

section .bss
        alignb 4096
page_dir:       resb 4096
pt_low:         resb 4096
pt_scratch:     resb 4096
