import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { IoBus } from '../src/io-bus.ts';
import { Uart16550 } from '../src/uart16550.ts';
import { VirtualClock } from '../src/virtual-clock.ts';

const THR = 0x3f8, RBR = 0x3f8, IER = 0x3f9, IIR = 0x3fa, FCR = 0x3fa, LCR = 0x3fb, MCR = 0x3fc, LSR = 0x3fd, MSR = 0x3fe, SCR = 0x3ff;

function setup() {
  const clock = new VirtualClock();
  const irq: boolean[] = [];
  const uart = new Uart16550({ clock, setIrq: (l) => irq.push(l) });
  const bus = new IoBus();
  uart.attach(bus);
  const sent: number[] = [];
  uart.onTransmit((b) => sent.push(b));
  const line = () => uart.irqLevel;
  return { clock, uart, bus, irq, sent, line };
}

describe('Uart16550', () => {
  it('resets to THR empty, no interrupt, 16450 mode', () => {
    const { bus } = setup();
    expect(bus.in8(LSR)).toBe(0x60);
    expect(bus.in8(IIR)).toBe(0x01);
    expect(bus.in8(IER)).toBe(0x00);
    expect(bus.in8(MCR)).toBe(0x00);
  });

  it('DLAB switches offsets 0/1 to the divisor latch without touching RBR/IER', () => {
    const { bus, uart } = setup();
    bus.out8(IER, 0x05);
    bus.out8(LCR, 0x83);
    bus.out8(0x3f8, 0x01);
    bus.out8(0x3f9, 0x00);
    expect(bus.in8(0x3f8)).toBe(0x01);
    bus.out8(LCR, 0x03);
    expect(bus.in8(IER)).toBe(0x05);
    // 115200 baud, 8N1: ten bits of 1/115200 s.
    expect(uart.characterNs()).toBeCloseTo(10e9 / 115200, 6);
    bus.out8(SCR, 0x5a);
    expect(bus.in8(SCR)).toBe(0x5a);
  });

  it('transmits THR bytes to the host sink immediately', () => {
    const { bus, sent } = setup();
    for (const c of 'hi\n') bus.out8(THR, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe('hi\n');
    expect(bus.in8(LSR) & 0x60).toBe(0x60);
  });

  it('THRE interrupt: raised on enabling, cleared by reading IIR, raised again after a THR write', () => {
    const { bus, line, irq } = setup();
    bus.out8(MCR, 0x08); // OUT2: connect the IRQ
    bus.out8(IER, 0x02);
    expect(line()).toBe(true);
    expect(bus.in8(IIR)).toBe(0x02);
    expect(line()).toBe(false);
    expect(bus.in8(IIR)).toBe(0x01);
    bus.out8(IER, 0x02); // still enabled: no new interrupt without a 0->1 change
    expect(bus.in8(IIR)).toBe(0x01);
    irq.length = 0;
    bus.out8(THR, 0x41);
    expect(line()).toBe(true);
    // Writing THR drops the line before the byte leaves, so an edge-triggered PIC sees an edge.
    bus.out8(THR, 0x42);
    expect(irq).toEqual([true, false, true]);
    bus.out8(IER, 0x00);
    bus.out8(IER, 0x02);
    expect(bus.in8(IIR)).toBe(0x02);
  });

  it('OUT2 gates the IRQ line as on a PC; IIR reports regardless', () => {
    const { bus, line } = setup();
    bus.out8(IER, 0x02);
    expect(line()).toBe(false);
    expect(bus.in8(IIR)).toBe(0x02);
    bus.out8(IER, 0x00); bus.out8(IER, 0x02);
    bus.out8(MCR, 0x08);
    expect(line()).toBe(true);
    bus.out8(MCR, 0x00);
    expect(line()).toBe(false);
  });

  it('receives host input in order through the 1-byte RBR, queuing the rest', () => {
    const { bus, uart, line } = setup();
    bus.out8(MCR, 0x08);
    bus.out8(IER, 0x01);
    uart.receive('abc');
    expect(uart.hostQueueLength).toBe(2);
    expect(line()).toBe(true);
    expect(bus.in8(IIR)).toBe(0x04);
    let s = '';
    while (bus.in8(LSR) & 1) s += String.fromCharCode(bus.in8(RBR));
    expect(s).toBe('abc');
    expect(line()).toBe(false);
    expect(bus.in8(RBR)).toBe(0x63); // RBR keeps the last character
  });

  it('FIFO mode: 16 bytes in the FIFO, the rest waits on the host side and nothing is dropped', () => {
    const { bus, uart } = setup();
    bus.out8(FCR, 0xc7); // enable, clear both, trigger 14
    expect(bus.in8(IIR) & 0xc0).toBe(0xc0);
    const data = Array.from({ length: 100 }, (_, i) => i);
    uart.receive(data);
    expect(uart.rxFifoLength).toBe(16);
    expect(uart.hostQueueLength).toBe(84);
    const got: number[] = [];
    while (bus.in8(LSR) & 1) got.push(bus.in8(RBR));
    expect(got).toEqual(data);
    expect(bus.in8(LSR) & 0x02).toBe(0); // no overrun
  });

  it('RX data available at the trigger level; below it, a character timeout after four character times', () => {
    const { bus, uart, clock, line } = setup();
    bus.out8(MCR, 0x08);
    bus.out8(IER, 0x01);
    bus.out8(FCR, 0x41); // FIFO on, trigger level 4
    uart.receive([1, 2, 3]);
    expect(bus.in8(IIR)).toBe(0xc1);
    const fourChars = 4 * uart.characterNs();
    clock.skipTo(fourChars - 1);
    expect(line()).toBe(false);
    clock.skipTo(fourChars);
    expect(bus.in8(IIR)).toBe(0xcc);
    expect(line()).toBe(true);
    bus.in8(RBR); // reading a character clears the timeout and restarts the timer
    expect(bus.in8(IIR)).toBe(0xc1);
    clock.skipToNextEvent();
    expect(bus.in8(IIR)).toBe(0xcc);
    uart.receive([4, 5]);
    expect(bus.in8(IIR)).toBe(0xc4); // 4 bytes: at the trigger level
  });

  it('FCR bit 1 clears the RX FIFO; toggling FIFO enable clears it too', () => {
    const { bus, uart } = setup();
    bus.out8(FCR, 0x01);
    uart.receive([1, 2, 3]);
    bus.out8(FCR, 0x03);
    expect(uart.rxFifoLength).toBe(0);
    uart.receive([4]);
    bus.out8(FCR, 0x00);
    expect(bus.in8(LSR) & 1).toBe(0);
    expect(bus.in8(IIR) & 0xc0).toBe(0);
  });

  it('loopback: transmitted bytes come back to the receiver, not the host; modem outputs feed MSR', () => {
    const { bus, uart, sent, line } = setup();
    bus.out8(FCR, 0x07);
    bus.out8(MCR, 0x10 | 0x08);
    uart.receive('host'); // the line is disconnected in loopback: waits
    bus.out8(THR, 0x55);
    expect(sent).toEqual([]);
    expect(bus.in8(LSR) & 1).toBe(1);
    expect(bus.in8(RBR)).toBe(0x55);
    expect(bus.in8(LSR) & 1).toBe(0);
    bus.in8(MSR);
    bus.out8(MCR, 0x10 | 0x01 | 0x02); // DTR, RTS -> DSR, CTS
    expect(bus.in8(MSR)).toBe(0x30 | 0x03 | 0x08); // DCD dropped (OUT2 cleared): DDCD
    bus.out8(MCR, 0x10 | 0x04);
    bus.out8(MCR, 0x10);
    expect(bus.in8(MSR) & 0x04).toBe(0x04); // RI trailing edge: TERI
    bus.out8(IER, 0x02);
    expect(bus.in8(IIR) & 0x0f).toBe(0x02);
    expect(line()).toBe(false); // OUT2 is forced inactive in loopback: no IRQ on a PC
    bus.out8(MCR, 0x08);
    let s = '';
    while (bus.in8(LSR) & 1) s += String.fromCharCode(bus.in8(RBR));
    expect(s).toBe('host');
  });

  it('interrupt priorities: line status > RX data > THRE > modem status', () => {
    const { bus } = setup();
    bus.out8(FCR, 0x01); // FIFO, trigger 1
    bus.out8(MCR, 0x10);
    bus.out8(IER, 0x0f);
    bus.out8(MCR, 0x13); // modem status change pending
    for (let i = 0; i < 17; i++) bus.out8(THR, i); // the 17th overruns
    expect(bus.in8(IIR) & 0x0f).toBe(0x06);
    expect(bus.in8(LSR) & 0x03).toBe(0x03); // DR + OE; reading clears OE
    expect(bus.in8(IIR) & 0x0f).toBe(0x04);
    while (bus.in8(LSR) & 1) bus.in8(RBR);
    expect(bus.in8(IIR) & 0x0f).toBe(0x02); // THRE (pending since the last write)
    expect(bus.in8(IIR) & 0x0f).toBe(0x00); // reading IIR cleared THRE: modem status remains
    bus.in8(MSR);
    expect(bus.in8(IIR) & 0x0f).toBe(0x01);
  });

  it('host modem input changes raise a modem status interrupt', () => {
    const { bus, uart, line } = setup();
    bus.out8(MCR, 0x08);
    bus.out8(IER, 0x08);
    uart.setModemInputs(0x30); // DCD drops
    expect(line()).toBe(true);
    expect(bus.in8(MSR)).toBe(0x38);
    expect(line()).toBe(false);
  });

  it('round-trips state with FIFO contents, queued host input and a pending timeout', () => {
    const a = setup();
    a.bus.out8(MCR, 0x0b);
    a.bus.out8(IER, 0x03);
    a.bus.out8(FCR, 0x81);
    a.bus.out8(LCR, 0x1b);
    a.uart.receive(Array.from({ length: 40 }, (_, i) => 0x30 + i));
    a.bus.in8(RBR);
    const rec = { uart: a.uart.saveState(), clock: a.clock.saveState() };
    const b = setup();
    b.uart.loadState(rec.uart);
    b.clock.loadState(rec.clock);
    expect(b.uart.saveState()).toEqual(rec.uart);
    for (const s of [a, b]) s.clock.skipToNextEvent();
    const drain = (s: ReturnType<typeof setup>) => {
      const out: number[] = [];
      out.push(s.bus.in8(IIR));
      while (s.bus.in8(LSR) & 1) out.push(s.bus.in8(RBR));
      return out;
    };
    expect(drain(b)).toEqual(drain(a));
  });

  it('refuses bad records without changing the UART', () => {
    const { uart, bus } = setup();
    bus.out8(FCR, 0x01);
    uart.receive('xyz');
    const good = uart.saveState();
    for (const bad of [
      { ...good, ier: 0x10 },
      { ...good, rxTriggerBits: 4 },
      { ...good, fifoEnabled: false },
      { ...good, rxFifo: new Uint8Array(17) },
      { ...good, hostQueue: [1, 2] as unknown as Uint8Array },
      { ...good, mcr: 0x20 },
    ]) {
      expect(() => uart.loadState(bad)).toThrow(StateError);
    }
    expect(uart.saveState()).toEqual(good);
  });
});
