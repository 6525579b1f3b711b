/**
 * National Semiconductor PC16550D UART (datasheet, "Registers" and "FIFO interrupt mode
 * operation"), as a PC serial port: COM1 is 0x3F8 / IRQ4.
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the host sink (or, in
 * loopback, to the receiver), after which THR is empty again. Reception comes from a host queue
 * that feeds the RX FIFO as the guest drains it; host input never overruns, it waits.
 * The character-timeout indication uses the virtual clock (four character times at the
 * programmed baud rate and frame format), so it is deterministic.
 *
 * On a PC the interrupt pin reaches the PIC through a buffer enabled by the OUT2 modem-control
 * output; in loopback the UART forces OUT2 inactive, which therefore also disconnects the IRQ.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { ByteQueue } from './byte-queue.ts';
import type { IoBus } from './io-bus.ts';
import { bool, bytes, checkSchema, num, require } from './stateful-util.ts';
import type { ClockTimer, VirtualClock } from './virtual-clock.ts';

// IER
const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;
// IIR interrupt identification (bits 3-0)
const IIR_NONE = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_CTI = 0x0c;
const IIR_THRE = 0x02;
const IIR_MS = 0x00;
// LSR
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_ERRORS = 0x1e;
// MCR
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
// MSR inputs (high nibble)
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

const FIFO_SIZE = 16;
const RX_TRIGGER = [1, 4, 8, 14] as const;
/** Divisor 1 gives 115200 baud (1.8432 MHz / 16). */
const BAUD_BASE = 115200;

const UART_SCHEMA: SectionSchema = {
  type: 'uart16550',
  version: 1,
  fields: {
    ier: 'u8',
    lcr: 'u8',
    mcr: 'u8',
    lsrErrors: 'u8',
    msrDelta: 'u8',
    externalMsr: 'u8',
    scr: 'u8',
    dll: 'u8',
    dlm: 'u8',
    fifoEnabled: 'bool',
    rxTriggerBits: 'u8',
    dmaMode: 'bool',
    rxFifo: 'bytes',
    rbr: 'u8',
    hostQueue: 'bytes',
    thrIntPending: 'bool',
    timeoutPending: 'bool',
    irqLevel: 'bool',
  },
};

export interface Uart16550Options {
  clock: VirtualClock;
  /** The interrupt line (after the OUT2 gate). */
  setIrq: (level: boolean) => void;
  sectionName?: string;
  /** Name of the character-timeout timer on the clock (default `${sectionName}.timeout`). */
  timerName?: string;
  /** Host-side modem inputs (default CTS, DSR and DCD asserted: a terminal is attached). */
  modemInputs?: number;
}

export class Uart16550 implements Stateful {
  readonly sectionName: string;
  readonly schema = UART_SCHEMA;

  ier = 0;
  lcr = 0;
  mcr = 0;
  /** LSR error bits OE/PE/FE/BI (cleared by reading LSR). */
  lsrErrors = 0;
  /** MSR delta bits DCTS/DDSR/TERI/DDCD (cleared by reading MSR). */
  msrDelta = 0;
  externalMsr: number;
  scr = 0;
  dll = 0x0c;
  dlm = 0;
  fifoEnabled = false;
  rxTriggerBits = 0;
  dmaMode = false;
  thrIntPending = false;
  timeoutPending = false;
  irqLevel = false;

  private readonly rx = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  /** Receiver buffer register: the last byte read stays readable. */
  private rbr = 0;
  private readonly host = new ByteQueue();
  private sink: ((byte: number) => void) | null = null;
  private readonly clock: VirtualClock;
  private readonly setIrqLine: (level: boolean) => void;
  private readonly timeout: ClockTimer;

  constructor(opts: Uart16550Options) {
    this.sectionName = opts.sectionName ?? 'com1';
    this.clock = opts.clock;
    this.setIrqLine = opts.setIrq;
    this.externalMsr = (opts.modemInputs ?? MSR_CTS | MSR_DSR | MSR_DCD) & 0xf0;
    this.timeout = opts.clock.timer(opts.timerName ?? `${this.sectionName}.timeout`, () => this.characterTimeout());
  }

  /** Where transmitted bytes go (null: discarded). */
  onTransmit(sink: ((byte: number) => void) | null): void {
    this.sink = sink;
  }

  /** Host input. Queued without limit; it enters the RX FIFO as the guest makes room. */
  receive(data: ArrayLike<number> | string): void {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (b.length === 0) return;
    this.host.push(b);
    this.fill();
  }

  /** Host input not yet in the RX FIFO. */
  get hostQueueLength(): number {
    return this.host.length;
  }

  /** Bytes in the RX FIFO (or the RBR in 16450 mode). */
  get rxFifoLength(): number {
    return this.rxCount;
  }

  attach(bus: IoBus, base = 0x3f8): void {
    bus.register(base, {
      in8: (p) => this.read(p - base),
      out8: (p, v) => this.write(p - base, v),
    }, this.sectionName, 8);
  }

  /** Master reset (datasheet "Master Reset" table). Host input still waiting is kept. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsrErrors = 0;
    this.msrDelta = 0;
    this.scr = 0;
    this.fifoEnabled = false;
    this.rxTriggerBits = 0;
    this.dmaMode = false;
    this.thrIntPending = false;
    this.timeoutPending = false;
    this.rxHead = 0;
    this.rxCount = 0;
    this.timeout.cancel();
    this.fill();
    this.updateIrq();
  }

  // ---- register file ----------------------------------------------------------------------------

  read(offset: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (offset & 7) {
      case 0:
        return dlab ? this.dll : this.readRbr();
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2:
        return this.readIir();
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        return this.readLsr();
      case 6:
        return this.readMsr();
      default:
        return this.scr;
    }
  }

  write(offset: number, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & 0x80) !== 0;
    switch (offset & 7) {
      case 0:
        if (dlab) this.dll = value;
        else this.writeThr(value);
        break;
      case 1:
        if (dlab) this.dlm = value;
        else this.writeIer(value);
        break;
      case 2:
        this.writeFcr(value);
        break;
      case 3:
        this.lcr = value;
        break;
      case 4:
        this.writeMcr(value);
        break;
      case 5: // LSR: factory test only
      case 6: // MSR: read-only
        break;
      default:
        this.scr = value;
    }
  }

  /** IIR value without side effects: highest-priority pending interrupt (datasheet Table 4). */
  interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLS && this.lsrErrors & LSR_ERRORS) return IIR_RLS;
    if (ier & IER_RDA) {
      const level = this.fifoEnabled ? RX_TRIGGER[this.rxTriggerBits]! : 1;
      if (this.rxCount >= level) return IIR_RDA;
      if (this.timeoutPending) return IIR_CTI;
    }
    if (ier & IER_THRE && this.thrIntPending) return IIR_THRE;
    if (ier & IER_MS && this.msrDelta & 0x0f) return IIR_MS;
    return IIR_NONE;
  }

  private readIir(): number {
    const id = this.interruptId();
    // Reading IIR clears a THRE interrupt if (and only if) it is the one being reported.
    if (id === IIR_THRE) {
      this.thrIntPending = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? 0xc0 : 0);
  }

  private readRbr(): number {
    if (this.rxCount > 0) {
      this.rbr = this.rx[this.rxHead]!;
      this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
      this.rxCount--;
      this.fill();
      this.restartTimeout();
      this.updateIrq();
    }
    return this.rbr;
  }

  private readLsr(): number {
    // THR and the shift register are always empty: transmission is instantaneous.
    const v = (this.rxCount > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
    if (this.lsrErrors !== 0) {
      this.lsrErrors = 0;
      this.updateIrq();
    }
    return v;
  }

  private readMsr(): number {
    const v = this.modemInputs() | this.msrDelta;
    if (this.msrDelta !== 0) {
      this.msrDelta = 0;
      this.updateIrq();
    }
    return v;
  }

  private writeThr(value: number): void {
    // Writing THR clears a THRE interrupt; the line really drops before the (instant) transmission
    // empties THR again, so an edge-triggered PIC sees a fresh edge for the new THRE interrupt.
    this.thrIntPending = false;
    this.updateIrq();
    if (this.mcr & MCR_LOOP) this.receiveFromLine(value);
    else if (this.sink) this.sink(value);
    this.thrIntPending = true;
    this.updateIrq();
  }

  private writeIer(value: number): void {
    const old = this.ier;
    this.ier = value & 0x0f;
    // Enabling the THRE interrupt while THR is empty raises it at once.
    if ((this.ier & IER_THRE) !== 0 && (old & IER_THRE) === 0) this.thrIntPending = true;
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    const enable = (value & 1) !== 0;
    if (enable !== this.fifoEnabled) {
      // Changing the FIFO enable bit clears both FIFOs (datasheet FCR bit 0).
      this.fifoEnabled = enable;
      this.clearRx();
    }
    if (enable) {
      // The other bits are programmed only while bit 0 is set.
      if (value & 0x02) this.clearRx();
      this.dmaMode = (value & 0x08) !== 0;
      this.rxTriggerBits = value >> 6;
    }
    this.fill();
    this.restartTimeout();
    this.updateIrq();
  }

  private writeMcr(value: number): void {
    const before = this.modemInputs();
    const wasLoop = (this.mcr & MCR_LOOP) !== 0;
    this.mcr = value & 0x1f;
    const after = this.modemInputs();
    this.noteModemChange(before, after);
    if (wasLoop && (this.mcr & MCR_LOOP) === 0) this.fill(); // receiver reconnected to the line
    this.updateIrq();
  }

  // ---- receiver -----------------------------------------------------------------------------------

  /** A character arriving at the receiver (loopback): into the FIFO, or an overrun if it is full. */
  private receiveFromLine(byte: number): void {
    if (this.rxCount >= this.capacity()) {
      this.lsrErrors |= LSR_OE;
      return;
    }
    this.pushRx(byte);
    this.restartTimeout();
  }

  /** Moves host input into the FIFO while there is room (not in loopback: the line is disconnected). */
  private fill(): void {
    if (this.mcr & MCR_LOOP) return;
    const cap = this.capacity();
    let moved = false;
    while (this.rxCount < cap && this.host.length > 0) {
      this.pushRx(this.host.shift());
      moved = true;
    }
    if (moved) {
      this.restartTimeout();
      this.updateIrq();
    }
  }

  private capacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  private pushRx(byte: number): void {
    this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = byte;
    this.rxCount++;
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.lsrErrors &= ~LSR_OE;
    this.timeoutPending = false;
  }

  /**
   * Character timeout (FIFO mode): data has sat in the RX FIFO for four character times with no
   * character read or received. Any read or arrival restarts the timer.
   */
  private restartTimeout(): void {
    this.timeoutPending = false;
    if (this.fifoEnabled && this.rxCount > 0) this.timeout.schedule(this.clock.nowNs() + 4 * this.characterNs());
    else this.timeout.cancel();
  }

  private characterTimeout(): void {
    if (this.fifoEnabled && this.rxCount > 0) {
      this.timeoutPending = true;
      this.updateIrq();
    }
  }

  /** One frame on the wire: start bit, 5-8 data bits, optional parity, 1, 1.5 or 2 stop bits. */
  characterNs(): number {
    const dataBits = 5 + (this.lcr & 3);
    const parity = this.lcr & 0x08 ? 1 : 0;
    const stop = this.lcr & 0x04 ? (dataBits === 5 ? 1.5 : 2) : 1;
    const divisor = (this.dlm << 8) | this.dll || 0x10000;
    return ((1 + dataBits + parity + stop) * divisor * 1e9) / BAUD_BASE;
  }

  // ---- modem lines ------------------------------------------------------------------------------

  /** MSR bits 7-4: in loopback, wired from MCR (DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD). */
  private modemInputs(): number {
    const m = this.mcr;
    if ((m & MCR_LOOP) === 0) return this.externalMsr;
    return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  /** Changes the host-side modem inputs (CTS/DSR/RI/DCD in MSR bit positions 4-7). */
  setModemInputs(bits: number): void {
    const before = this.modemInputs();
    this.externalMsr = bits & 0xf0;
    this.noteModemChange(before, this.modemInputs());
    this.updateIrq();
  }

  private noteModemChange(before: number, after: number): void {
    const changed = before ^ after;
    if (changed & MSR_CTS) this.msrDelta |= 0x01;
    if (changed & MSR_DSR) this.msrDelta |= 0x02;
    if (before & MSR_RI && !(after & MSR_RI)) this.msrDelta |= 0x04; // trailing edge of RI
    if (changed & MSR_DCD) this.msrDelta |= 0x08;
  }

  // ---- interrupt line ---------------------------------------------------------------------------

  private updateIrq(): void {
    const gated = (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    const level = gated && this.interruptId() !== IIR_NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.setIrqLine(level);
    }
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    const fifo = new Uint8Array(this.rxCount);
    for (let i = 0; i < this.rxCount; i++) fifo[i] = this.rx[(this.rxHead + i) % FIFO_SIZE]!;
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      msrDelta: this.msrDelta,
      externalMsr: this.externalMsr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fifoEnabled: this.fifoEnabled,
      rxTriggerBits: this.rxTriggerBits,
      dmaMode: this.dmaMode,
      rxFifo: fifo,
      rbr: this.rbr,
      hostQueue: this.host.toBytes(),
      thrIntPending: this.thrIntPending,
      timeoutPending: this.timeoutPending,
      irqLevel: this.irqLevel,
    };
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    require(s, (num(record, 'ier') & ~0x0f) === 0, 'ier has bits 7-4 set');
    require(s, (num(record, 'mcr') & ~0x1f) === 0, 'mcr has bits 7-5 set');
    require(s, (num(record, 'lsrErrors') & ~LSR_ERRORS) === 0, 'lsrErrors has bits outside OE/PE/FE/BI');
    require(s, (num(record, 'msrDelta') & ~0x0f) === 0, 'msrDelta has bits 7-4 set');
    require(s, (num(record, 'externalMsr') & 0x0f) === 0, 'externalMsr has bits 3-0 set');
    require(s, num(record, 'rxTriggerBits') <= 3, 'rxTriggerBits must be 0-3');
    const fifo = bytes(record, 'rxFifo');
    const cap = bool(record, 'fifoEnabled') ? FIFO_SIZE : 1;
    require(s, fifo.length <= cap, `rxFifo holds ${fifo.length} bytes, more than the ${cap} the receiver has`);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.ier = num(record, 'ier');
    this.lcr = num(record, 'lcr');
    this.mcr = num(record, 'mcr');
    this.lsrErrors = num(record, 'lsrErrors');
    this.msrDelta = num(record, 'msrDelta');
    this.externalMsr = num(record, 'externalMsr');
    this.scr = num(record, 'scr');
    this.dll = num(record, 'dll');
    this.dlm = num(record, 'dlm');
    this.fifoEnabled = bool(record, 'fifoEnabled');
    this.rxTriggerBits = num(record, 'rxTriggerBits');
    this.dmaMode = bool(record, 'dmaMode');
    const fifo = bytes(record, 'rxFifo');
    this.rx.fill(0);
    this.rx.set(fifo);
    this.rxHead = 0;
    this.rxCount = fifo.length;
    this.rbr = num(record, 'rbr');
    this.host.clear();
    this.host.push(bytes(record, 'hostQueue'));
    this.thrIntPending = bool(record, 'thrIntPending');
    this.timeoutPending = bool(record, 'timeoutPending');
    // The IRQ line level is part of the PIC's record; this only remembers what was driven.
    this.irqLevel = bool(record, 'irqLevel');
  }
}
