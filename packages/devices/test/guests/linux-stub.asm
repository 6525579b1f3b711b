; A stand-in for a Linux kernel, to test the boot loader from the guest's side.
; Default: a bzImage (one setup sector after the boot sector, boot protocol 2.15 header, the
; "protected-mode kernel" at file offset 1024, loaded at 1 MiB). With -DELF_CODE: only the
; 32-bit code, for the test to wrap in an ELF32 vmlinux.
;
; The code checks the 32-bit boot protocol state (CS = 0x10, DS = ES = SS = 0x18, ESI ->
; boot_params with "HdrS" and type_of_loader 0xFF, EBX = EDI = EBP = 0, IF = 0), then writes to
; port 0xE9: the command line, '|', the initrd's bytes, '|', the number of E820 entries as a
; digit, and halts. Any failed check writes 'F' and the check's number, then halts.

%ifndef INITRD_MAX
%define INITRD_MAX 0x7fffffff
%endif

%ifndef ELF_CODE
        bits 16
        org 0
        times 0x1f1 - ($ - $$) db 0
setup_sects:    db 1
root_flags:     dw 0
syssize:        dd 0
ram_size:       dw 0
vid_mode:       dw 0xffff
root_dev:       dw 0
boot_flag:      dw 0xaa55
jump:           db 0xeb, header_end - 0x202
header:         db 'HdrS'
version:        dw 0x020f
realmode_swtch: dd 0
start_sys_seg:  dw 0x1000
kernel_version: dw version_string - 0x200
type_of_loader: db 0
loadflags:      db 0x01
setup_move_size: dw 0x8000
code32_start:   dd 0x100000
ramdisk_image:  dd 0
ramdisk_size:   dd 0
bootsect_kludge: dd 0
heap_end_ptr:   dw 0
ext_loader_ver: db 0
ext_loader_type: db 0
cmd_line_ptr:   dd 0
initrd_addr_max: dd INITRD_MAX
kernel_alignment: dd 0x100000
relocatable_kernel: db 0
min_alignment:  db 0
xloadflags:     dw 0
cmdline_size:   dd 2047
hardware_subarch: dd 0
hardware_subarch_data: dq 0
payload_offset: dd 0
payload_length: dd 0
setup_data:     dq 0
pref_address:   dq 0x100000
init_size:      dd 0x20000
handover_offset: dd 0
kernel_info_offset: dd 0
header_end:
version_string: db 'ferry86-stub 1.0', 0
        times 1024 - ($ - $$) db 0
%endif

        bits 32
pm_start:
        mov dl, '1'
        mov ax, cs
        cmp ax, 0x10
        jne fail
        mov dl, '2'
        mov ax, ds
        cmp ax, 0x18
        jne fail
        mov ax, ss
        cmp ax, 0x18
        jne fail
        mov ax, es
        cmp ax, 0x18
        jne fail
        mov dl, '3'
        cmp dword [esi + 0x202], 0x53726448
        jne fail
        cmp byte [esi + 0x210], 0xff
        jne fail
        mov dl, '4'
        or ebx, edi
        or ebx, ebp
        jnz fail
        mov dl, '5'
        mov esp, 0x9f000        ; the protocol gives no stack: bring our own
        pushfd
        pop eax
        test eax, 0x200
        jnz fail
        ; command line
        mov ebx, [esi + 0x228]
.cmd:   mov al, [ebx]
        test al, al
        jz .cmd_done
        out 0xe9, al
        inc ebx
        jmp .cmd
.cmd_done:
        mov al, '|'
        out 0xe9, al
        mov ebx, [esi + 0x218]
        mov ecx, [esi + 0x21c]
.rd:    jecxz .rd_done
        mov al, [ebx]
        out 0xe9, al
        inc ebx
        dec ecx
        jmp .rd
.rd_done:
        mov al, '|'
        out 0xe9, al
        mov al, [esi + 0x1e8]
        add al, '0'
        out 0xe9, al
        cli
        hlt
fail:
        mov al, 'F'
        out 0xe9, al
        mov al, dl
        out 0xe9, al
        cli
        hlt
