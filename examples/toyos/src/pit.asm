; pit.asm - 8254 PIT channel 0 as the 100 Hz scheduler and heartbeat clock.

PIT_CH0         equ 0x40
PIT_MODE        equ 0x43

section .text
pit_init:
        mov al, 0x34                ; channel 0, lobyte/hibyte, mode 2 (rate generator), binary
        out PIT_MODE, al
        mov al, PIT_DIVISOR & 0xFF
        out PIT_CH0, al
        mov al, PIT_DIVISOR >> 8
        out PIT_CH0, al
        ret

; irq_timer: IRQ0. Count the tick and end the time slice (preemptive round robin:
; isr_common switches tasks on the way out). The ticker task turns ticks into heartbeats.
irq_timer:
        inc dword [ticks]
        mov al, PIC_EOI
        out PIC1_CMD, al
        mov byte [need_resched], 1
        ret

section .bss
ticks:  resd 1
