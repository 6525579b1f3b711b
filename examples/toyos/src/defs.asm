; defs.asm - constants shared by every toyos source file (no code, no data).

; --- GDT selectors (gdt.asm builds the table in exactly this order) ---
KCODE           equ 0x08            ; ring 0 code, flat 4 GiB
KDATA           equ 0x10            ; ring 0 data, flat 4 GiB
UCODE           equ 0x18 | 3        ; ring 3 code (RPL 3)
UDATA           equ 0x20 | 3        ; ring 3 data (RPL 3)
TSSSEL          equ 0x28            ; the one 32-bit TSS (only ESP0/SS0 are used)

; --- Memory layout (physical == linear: everything is identity mapped) ---
KERNEL_BASE     equ 0x00100000      ; multiboot loads the flat image here
PT_AREA         equ 0x00400000      ; page tables for 4 KiB mappings above 4 MiB (one per 4 MiB chunk)
SHADOW_AREA     equ 0x00600000      ; checker: last value seen for every worker page (2 MiB)
WORK_BASE       equ 0x00800000      ; worker regions start here, back to back
MIN_RAM         equ 0x00840000      ; the fixed areas above plus 256 KiB for the workload
RAM_CAP         equ 0x80000000      ; RAM above 2 GiB is ignored (keeps PT_AREA and SHADOW_AREA bounded)
SCRATCH         equ 0xE0000000      ; 4 MiB window the selftest remaps at will (own page table)

; --- Page table entry bits (Intel SDM vol 3A, 4.3) ---
PG_P            equ 0x001
PG_RW           equ 0x002
PG_US           equ 0x004
PG_A            equ 0x020
PG_D            equ 0x040
PG_PS           equ 0x080

; --- Tasks ---
MAX_WORKERS     equ 8
MAX_TASKS       equ 4 + MAX_WORKERS ; idle, shell, ticker, checker, workers
KSTACK_SIZE     equ 4096
USTACK_SIZE     equ 4096
DEFAULT_WORKERS equ 2
DEFAULT_PAGE_CAP equ 8192           ; default region per worker is at most 32 MiB
HZ              equ 100
PIT_DIVISOR     equ 11932           ; 1193182 Hz / 100 Hz, rounded
HEARTBEAT_TICKS equ 10              ; "tick N" every 10 timer ticks = 10 Hz guest time

ST_RUN          equ 0               ; runnable
ST_TICK         equ 1               ; sleeping until ticks >= T_WAKE
ST_INPUT        equ 2               ; sleeping until the serial receive ring is not empty

; task structure (one 256-byte slot per task; index = (ptr - tasks) >> 8)
T_ESP           equ 0               ; saved kernel ESP (points at an interrupt frame) while not running
T_ESP0          equ 4               ; what TSS.ESP0 must hold while this task runs
T_KTOP          equ 8               ; top of its kernel stack
T_STATE         equ 12
T_WAKE          equ 16
T_ITERS         equ 20              ; loop iterations (kernel tasks count their own work)
T_NAME          equ 24
T_RING          equ 28
T_UCTX          equ 32              ; kernel ESP saved by enter_user (selftest ring 3 excursions)
T_LLEN          equ 36              ; bytes in the output line buffer
T_LBUF          equ 40              ; output line buffer
TASK_SHIFT      equ 8
TASK_SIZE       equ 1 << TASK_SHIFT
LBUF_MAX        equ TASK_SIZE - T_LBUF

; interrupt frame, as isr_common leaves it on the kernel stack (lowest address first)
F_ES            equ 0
F_DS            equ 4
F_EDI           equ 8               ; PUSHAD block: edi esi ebp esp ebx edx ecx eax
F_ESI           equ 12
F_EBP           equ 16
F_EBX           equ 24
F_EDX           equ 28
F_ECX           equ 32
F_EAX           equ 36
F_VEC           equ 40
F_ERR           equ 44
F_EIP           equ 48              ; pushed by the CPU from here on
F_CS            equ 52
F_EFLAGS        equ 56
F_UESP          equ 60              ; only on a privilege change (ring 3 -> 0)
F_USS           equ 64
FRAME_SIZE      equ 68

; int 0x80 system calls (EAX = number)
SYS_YIELD       equ 0               ; give up the rest of the time slice
SYS_URET        equ 1               ; selftest: leave a ring 3 excursion, back to enter_user's caller

; EFLAGS bits
FL_CF           equ 0x001
FL_PF           equ 0x004
FL_AF           equ 0x010
FL_ZF           equ 0x040
FL_SF           equ 0x080
FL_IF           equ 0x200
FL_OF           equ 0x800
FL_ARITH        equ FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF

COM1            equ 0x3F8
