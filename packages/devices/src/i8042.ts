/**
 * Intel 8042 keyboard controller as programmed on PC/AT and PS/2 machines (IBM PS/2 Technical
 * Reference, "Keyboard/auxiliary device controller"): data port 0x60, status/command port 0x64,
 * a PS/2 keyboard on the first port (IRQ1) and an auxiliary (mouse) port with nothing plugged
 * in (IRQ12).
 *
 * Besides the keyboard the controller owns two system lines through its output port: A20
 * (bit 1) and the CPU reset (bit 0, active low), which is how a PC reboots (command 0xFE).
 *
 * Commands complete at once, so the input buffer is never seen full. Bytes for the CPU wait in
 * a queue and enter the one-byte output buffer as it is read, controller replies before
 * keyboard data; each byte entering the buffer raises the port's IRQ if the command byte
 * enables it, and reading port 0x60 lowers it (the PC's IRQ inputs are edge-triggered).
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { PS2_KEYBOARD_FIELDS, Ps2Keyboard } from './ps2-keyboard.ts';
import { bool, bytes, checkSchema, num, require } from './stateful-util.ts';

// Status register (port 0x64 read).
const STAT_OBF = 0x01;
const STAT_SYS = 0x04;
const STAT_CMD = 0x08;
const STAT_NOT_INHIBITED = 0x10;
const STAT_AUXB = 0x20;
const STAT_TIMEOUT = 0x40;
// Command byte ("controller RAM" byte 0).
const CTR_KBDINT = 0x01;
const CTR_AUXINT = 0x02;
const CTR_SYS = 0x04;
const CTR_KBDDIS = 0x10;
const CTR_AUXDIS = 0x20;
const CTR_XLATE = 0x40;
// Output port.
const OUT_RESET = 0x01;
const OUT_A20 = 0x02;
const OUT_KBD_OBF = 0x10;
const OUT_AUX_OBF = 0x20;
/** Power-on output port: reset inactive, A20 enabled, keyboard clock and data released. */
const OUT_POWER_ON = 0xcf;
/** Power-on command byte as a PC BIOS leaves it: translation, system flag, keyboard IRQ. */
const CTR_POWER_ON = CTR_XLATE | CTR_SYS | CTR_KBDINT;
/** Reply of a write to an auxiliary device when none answers (with the timeout status bit). */
const AUX_NO_DEVICE = 0xfe;
const REPLY_QUEUE_MAX = 16;

function schema(): SectionSchema {
  return {
    type: 'i8042',
    version: 1,
    fields: {
      ram: 'bytes',
      outputPort: 'u8',
      pendingCommand: 'u8',
      obFull: 'bool',
      obValue: 'u8',
      obAux: 'bool',
      timeout: 'bool',
      lastWasCommand: 'bool',
      replies: 'bytes',
      repliesAux: 'bytes',
      irq1: 'bool',
      irq12: 'bool',
      ...PS2_KEYBOARD_FIELDS,
    },
  };
}

const I8042_SCHEMA = schema();

export interface I8042Options {
  setIrq1: (level: boolean) => void;
  setIrq12: (level: boolean) => void;
  /** The A20 line of the output port (bit 1). */
  setA20?: (enabled: boolean) => void;
  /** The CPU reset line (output port bit 0 driven low, or pulsed by command 0xFE). */
  requestReset?: () => void;
  sectionName?: string;
}

export class I8042 implements Stateful {
  readonly sectionName: string;
  readonly schema = I8042_SCHEMA;
  readonly keyboard = new Ps2Keyboard();

  /** Controller RAM; byte 0 is the command byte. */
  private readonly ram = new Uint8Array(32);
  private outputPort = OUT_POWER_ON;
  /** A command waiting for its data byte on port 0x60, or 0. */
  private pendingCommand = 0;
  private obFull = false;
  private obValue = 0;
  private obAux = false;
  private timeout = false;
  private lastWasCommand = false;
  private replies: number[] = [];
  private repliesAux: boolean[] = [];
  private irq1 = false;
  private irq12 = false;
  private readonly setIrq1: (level: boolean) => void;
  private readonly setIrq12: (level: boolean) => void;
  private readonly setA20: (enabled: boolean) => void;
  private readonly requestReset: () => void;

  constructor(opts: I8042Options) {
    this.sectionName = opts.sectionName ?? 'i8042';
    this.setIrq1 = opts.setIrq1;
    this.setIrq12 = opts.setIrq12;
    this.setA20 = opts.setA20 ?? (() => {});
    this.requestReset = opts.requestReset ?? (() => {});
    this.keyboard.translated = () => (this.ram[0]! & CTR_XLATE) !== 0;
    this.ram[0] = CTR_POWER_ON;
  }

  attach(bus: IoBus): void {
    bus.register(0x60, { in8: () => this.readData(), out8: (_p, v) => this.writeData(v) }, this.sectionName);
    bus.register(0x64, { in8: () => this.readStatus(), out8: (_p, v) => this.writeCommand(v) }, this.sectionName);
  }

  /** Power-on state; A20 follows the output port (enabled). */
  reset(): void {
    this.ram.fill(0);
    this.ram[0] = CTR_POWER_ON;
    this.outputPort = OUT_POWER_ON;
    this.pendingCommand = 0;
    this.obFull = false;
    this.obValue = 0;
    this.obAux = false;
    this.timeout = false;
    this.lastWasCommand = false;
    this.replies = [];
    this.repliesAux = [];
    this.keyboard.reset();
    this.setA20(true);
    this.updateIrqs();
  }

  /** The command byte. */
  get commandByte(): number {
    return this.ram[0]!;
  }

  /** The output port as command 0xD0 reads it. */
  get outputPortValue(): number {
    let v = this.outputPort & ~(OUT_KBD_OBF | OUT_AUX_OBF);
    if (this.obFull) v |= this.obAux ? OUT_AUX_OBF : OUT_KBD_OBF;
    return v;
  }

  // ---- ports ------------------------------------------------------------------------------------

  readStatus(): number {
    let s = STAT_NOT_INHIBITED;
    if (this.obFull) s |= this.obAux ? STAT_OBF | STAT_AUXB : STAT_OBF;
    if ((this.ram[0]! & CTR_SYS) !== 0) s |= STAT_SYS;
    if (this.lastWasCommand) s |= STAT_CMD;
    if (this.timeout) s |= STAT_TIMEOUT;
    return s;
  }

  readData(): number {
    const v = this.obValue;
    if (this.obFull) {
      this.obFull = false;
      this.timeout = false;
      this.updateIrqs(); // the line drops, so the next byte makes a fresh edge
      this.fill();
    }
    return v;
  }

  writeData(v: number): void {
    this.lastWasCommand = false;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      this.ram[cmd & 0x1f] = v;
      // Writing the command byte can enable a port with data waiting, or an interrupt.
      this.fill();
      this.updateIrqs();
      return;
    }
    switch (cmd) {
      case 0xd1:
        this.writeOutputPort(v);
        return;
      case 0xd2:
        this.reply(v, false);
        return;
      case 0xd3:
        this.reply(v, true);
        return;
      case 0xd4:
        // Nothing is plugged into the auxiliary port: the transfer times out.
        this.timeout = true;
        this.reply(AUX_NO_DEVICE, true);
        return;
    }
    // A byte for the keyboard. Sending to it enables its interface, as the 8042 firmware does.
    this.ram[0] &= ~CTR_KBDDIS;
    this.keyboard.write(v);
    this.fill();
  }

  writeCommand(c: number): void {
    this.lastWasCommand = true;
    this.pendingCommand = 0;
    if (c >= 0x20 && c <= 0x3f) {
      this.reply(this.ram[c & 0x1f]!, false);
      return;
    }
    if ((c >= 0x60 && c <= 0x7f) || c === 0xd1 || c === 0xd2 || c === 0xd3 || c === 0xd4) {
      this.pendingCommand = c;
      return;
    }
    switch (c) {
      case 0xa4: // password installed? no
        this.reply(0xf1, false);
        return;
      case 0xa7:
        this.setCtr(this.ram[0]! | CTR_AUXDIS);
        return;
      case 0xa8:
        this.setCtr(this.ram[0]! & ~CTR_AUXDIS);
        return;
      case 0xa9: // auxiliary interface test: clock and data lines fine
        this.reply(0x00, false);
        return;
      case 0xaa: // controller self-test passed; the system flag records it
        this.ram[0] |= CTR_SYS;
        this.reply(0x55, false);
        return;
      case 0xab: // keyboard interface test passed
        this.reply(0x00, false);
        return;
      case 0xad:
        this.setCtr(this.ram[0]! | CTR_KBDDIS);
        return;
      case 0xae:
        this.setCtr(this.ram[0]! & ~CTR_KBDDIS);
        return;
      case 0xc0: // input port: keyboard not inhibited
        this.reply(0x80, false);
        return;
      case 0xd0:
        this.reply(this.outputPortValue, false);
        return;
      case 0xdd:
        this.writeOutputPort(this.outputPort & ~OUT_A20);
        return;
      case 0xdf:
        this.writeOutputPort(this.outputPort | OUT_A20);
        return;
      case 0xe0: // test inputs
        this.reply(0x00, false);
        return;
    }
    if (c >= 0xf0) {
      // Pulse the output port lines whose bit is 0 in the low nibble; bit 0 is the CPU reset.
      if ((c & OUT_RESET) === 0) this.requestReset();
    }
    // Other commands are vendor-specific: ignored.
  }

  // ---- internals --------------------------------------------------------------------------------

  private setCtr(v: number): void {
    this.ram[0] = v;
    this.fill();
    this.updateIrqs();
  }

  private writeOutputPort(v: number): void {
    const old = this.outputPort;
    this.outputPort = v | 0; // bit 0 low asserts reset; it reads back as written until then
    if (((old ^ v) & OUT_A20) !== 0) this.setA20((v & OUT_A20) !== 0);
    if ((v & OUT_RESET) === 0) {
      this.outputPort |= OUT_RESET;
      this.requestReset();
    }
  }

  private reply(v: number, aux: boolean): void {
    if (this.replies.length >= REPLY_QUEUE_MAX) {
      this.replies.shift();
      this.repliesAux.shift();
    }
    this.replies.push(v & 0xff);
    this.repliesAux.push(aux);
    this.fill();
  }

  /** Moves the next waiting byte into an empty output buffer. */
  private fill(): void {
    if (this.obFull) return;
    if (this.replies.length > 0) {
      this.obValue = this.replies.shift()!;
      this.obAux = this.repliesAux.shift()!;
      this.obFull = true;
    } else if (this.keyboard.hasOutput && (this.ram[0]! & CTR_KBDDIS) === 0) {
      this.obValue = this.keyboard.next();
      this.obAux = false;
      this.obFull = true;
    } else {
      return;
    }
    this.updateIrqs();
  }

  private updateIrqs(): void {
    const ctr = this.ram[0]!;
    const i1 = this.obFull && !this.obAux && (ctr & CTR_KBDINT) !== 0;
    const i12 = this.obFull && this.obAux && (ctr & CTR_AUXINT) !== 0;
    if (i1 !== this.irq1) {
      this.irq1 = i1;
      this.setIrq1(i1);
    }
    if (i12 !== this.irq12) {
      this.irq12 = i12;
      this.setIrq12(i12);
    }
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    const r: StateRecord = {
      ram: this.ram.slice(),
      outputPort: this.outputPort,
      pendingCommand: this.pendingCommand,
      obFull: this.obFull,
      obValue: this.obValue,
      obAux: this.obAux,
      timeout: this.timeout,
      lastWasCommand: this.lastWasCommand,
      replies: Uint8Array.from(this.replies),
      repliesAux: Uint8Array.from(this.repliesAux, (a) => (a ? 1 : 0)),
      irq1: this.irq1,
      irq12: this.irq12,
    };
    this.keyboard.saveTo(r);
    return r;
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    require(s, bytes(record, 'ram').length === 32, 'controller RAM must be 32 bytes');
    const n = bytes(record, 'replies').length;
    require(s, n <= REPLY_QUEUE_MAX && bytes(record, 'repliesAux').length === n, 'reply queue is malformed');
    const p = num(record, 'pendingCommand');
    require(s, p === 0 || (p >= 0x60 && p <= 0x7f) || (p >= 0xd1 && p <= 0xd4), `pending command 0x${p.toString(16)} takes no data byte`);
    Ps2Keyboard.check(s, record);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.ram.set(bytes(record, 'ram'));
    this.outputPort = num(record, 'outputPort');
    this.pendingCommand = num(record, 'pendingCommand');
    this.obFull = bool(record, 'obFull');
    this.obValue = num(record, 'obValue');
    this.obAux = bool(record, 'obAux');
    this.timeout = bool(record, 'timeout');
    this.lastWasCommand = bool(record, 'lastWasCommand');
    this.replies = Array.from(bytes(record, 'replies'));
    this.repliesAux = Array.from(bytes(record, 'repliesAux'), (b) => b !== 0);
    this.irq1 = bool(record, 'irq1');
    this.irq12 = bool(record, 'irq12');
    this.keyboard.loadFrom(record);
  }
}
