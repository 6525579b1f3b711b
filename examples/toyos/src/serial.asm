; serial.asm - COM1 as a 16550A: 115200 8N1, FIFOs on. Output polls LSR.THRE; input
; arrives by IRQ4 ("received data available", IER bit 0) into a 256-byte ring.

UART_DATA       equ COM1 + 0        ; RBR/THR, DLL when DLAB=1
UART_IER        equ COM1 + 1        ; DLM when DLAB=1
UART_FCR        equ COM1 + 2        ; IIR on read
UART_LCR        equ COM1 + 3
UART_MCR        equ COM1 + 4
UART_LSR        equ COM1 + 5
LSR_DR          equ 0x01            ; receive data ready
LSR_THRE        equ 0x20            ; transmit holding register empty

section .text
serial_init:
        mov dx, UART_IER
        xor al, al
        out dx, al                  ; no interrupts while we set it up
        mov dx, UART_LCR
        mov al, 0x80                ; DLAB=1: ports 0/1 are the divisor latch
        out dx, al
        mov dx, UART_DATA
        mov al, 1                   ; divisor 1 = 115200 baud
        out dx, al
        mov dx, UART_IER
        xor al, al
        out dx, al
        mov dx, UART_LCR
        mov al, 0x03                ; DLAB=0, 8 data bits, no parity, 1 stop bit
        out dx, al
        mov dx, UART_FCR
        mov al, 0x07                ; FIFO on, clear both FIFOs, receive trigger level 1 byte
        out dx, al                  ; (level 1: every byte interrupts; no timeout path needed)
        mov dx, UART_MCR
        mov al, 0x0B                ; DTR, RTS, OUT2 (OUT2 gates the IRQ line on a PC)
        out dx, al
        ret

serial_enable_rx_irq:
        mov dx, UART_IER
        mov al, 0x01                ; received data available
        out dx, al
        ret

; ser_putc: al = byte. Busy-waits for THRE: simple and the same in every context.
ser_putc:
        push edx
        push eax
        mov dx, UART_LSR
.wait:  in al, dx
        test al, LSR_THRE
        jz .wait
        pop eax
        mov dx, UART_DATA
        out dx, al
        pop edx
        ret

; ser_write: esi = bytes, ecx = count. Preserves everything.
ser_write:
        pushad
        jecxz .done
.next:  lodsb
        call ser_putc
        loop .next
.done:  popad
        ret

ser_crlf:
        push eax
        mov al, 13
        call ser_putc
        mov al, 10
        call ser_putc
        pop eax
        ret

; irq_serial: IRQ4. Drain the receive FIFO into the ring (drop bytes when it is full).
; Reading RBR until LSR.DR clears also clears a pending character-timeout indication.
irq_serial:
.next:  mov dx, UART_LSR
        in al, dx
        test al, LSR_DR
        jz .drained
        mov dx, UART_DATA
        in al, dx
        mov ecx, [rx_head]
        lea edx, [ecx + 1]
        and edx, 0xFF
        cmp edx, [rx_tail]
        je .next                    ; full
        mov [rx_buf + ecx], al
        mov [rx_head], edx
        jmp .next
.drained:
        mov al, PIC_EOI
        out PIC1_CMD, al
        cmp dword [cur_task], tasks ; idle is halted: let the shell run now, not at the next tick
        jne .done
        mov byte [need_resched], 1
.done:  ret

section .bss
rx_head:        resd 1              ; written by irq_serial
rx_tail:        resd 1              ; written by the shell
rx_buf:         resb 256
