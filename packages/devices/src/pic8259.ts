/**
 * One Intel 8259A programmable interrupt controller (8259A datasheet, Intel 231468).
 *
 * Modelled: the ICW1-ICW4 initialisation sequence, OCW1 (IMR), OCW2 (non-specific / specific EOI,
 * rotation, set priority), OCW3 (read IRR/ISR, poll, special mask mode), edge- and level-triggered
 * inputs, automatic EOI (with rotation), special fully nested mode, and the default IR7 (spurious
 * interrupt) answered when an acknowledge finds no request. Only 8086 mode is meaningful on a PC:
 * the 8080/8085 call-address format (ICW4 µPM = 0, ICW1 ADI, A7-A5) is accepted and ignored.
 *
 * Outputs: `intOutput` is the INT pin (the chip has an unmasked request of higher priority than
 * anything in service). A listener is told when it changes; the PicPair wires the slave's INT to
 * the master's IR2.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { bool, checkSchema, num, require } from './stateful-util.ts';

const PIC_SCHEMA: SectionSchema = {
  type: 'pic8259',
  version: 1,
  fields: {
    irr: 'u8',
    isr: 'u8',
    imr: 'u8',
    lines: 'u8',
    vectorBase: 'u8',
    icw3: 'u8',
    icw4: 'u8',
    levelTriggered: 'bool',
    single: 'bool',
    expectIcw4: 'bool',
    initStep: 'u8',
    lowestPriority: 'u8',
    rotateOnAutoEoi: 'bool',
    readIsr: 'bool',
    poll: 'bool',
    specialMask: 'bool',
    elcr: 'u8',
  },
};

/** ICW4 bits. */
const ICW4_AEOI = 0x02;
const ICW4_SFNM = 0x10;

/** Where the initialisation sequence is: 0 = initialised (OCWs), 2/3/4 = waiting for that ICW. */
const READY = 0;

export type PicRole = 'master' | 'slave';

export class Pic8259 implements Stateful {
  readonly sectionName: string;
  readonly schema = PIC_SCHEMA;

  /** Interrupt request register: inputs asking for service. */
  irr = 0;
  /** In-service register: acknowledged, not yet EOI'd. */
  isr = 0;
  /** Interrupt mask register (OCW1). */
  imr = 0xff;
  /** Current levels of the IR0-IR7 input pins. */
  lines = 0;
  /** ICW2 T7-T3: vector of IR0. */
  vectorBase = 0;
  /** ICW3: master = bit mask of inputs with a slave; slave = its ID on the master. */
  icw3 = 0;
  icw4 = 0;
  levelTriggered = false;
  single = false;
  expectIcw4 = false;
  initStep = READY;
  /** The IR with the lowest priority; the one after it (mod 8) has the highest. 7 after ICW1. */
  lowestPriority = 7;
  rotateOnAutoEoi = false;
  readIsr = false;
  poll = false;
  specialMask = false;
  /** Edge/level control register of the PIIX (ports 0x4D0/0x4D1): stored, not acted upon. */
  elcr = 0;
  /** The INT output pin. */
  intOutput = false;

  private outputListener: (level: boolean) => void = () => {};

  /**
   * @param elcrMask bits of the ELCR that exist (PIIX: 0xF8 for the master — IRQ0-2 are always
   *   edge — and 0xDE for the slave — IRQ8 and IRQ13 are always edge).
   */
  constructor(sectionName: string, readonly role: PicRole, readonly elcrMask = 0xff) {
    this.sectionName = sectionName;
  }

  /** Called with the new INT level whenever it changes. */
  onOutputChange(listener: (level: boolean) => void): void {
    this.outputListener = listener;
  }

  /** Power-on state: nothing pending or in service, every input masked. */
  reset(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0xff;
    this.vectorBase = 0;
    this.icw3 = 0;
    this.icw4 = 0;
    this.levelTriggered = false;
    this.single = false;
    this.expectIcw4 = false;
    this.initStep = READY;
    this.lowestPriority = 7;
    this.rotateOnAutoEoi = false;
    this.readIsr = false;
    this.poll = false;
    this.specialMask = false;
    this.elcr = 0;
    this.update();
  }

  get autoEoi(): boolean {
    return (this.icw4 & ICW4_AEOI) !== 0;
  }

  get specialFullyNested(): boolean {
    return (this.icw4 & ICW4_SFNM) !== 0;
  }

  /** True if input `irq` of this (master) chip has a slave behind it. */
  isCascadeInput(irq: number): boolean {
    return this.role === 'master' && !this.single && (this.icw3 & (1 << irq)) !== 0;
  }

  // ---- input pins -------------------------------------------------------------------------------

  /**
   * Drives input IR`irq`. Edge mode: a rising edge sets the request; the request must stay high
   * until it is acknowledged — if the line drops first the request is withdrawn (and an acknowledge
   * then gets the default IR7, datasheet "Interrupt sequence" note).
   * Level mode: the request follows the line.
   */
  setIrq(irq: number, level: boolean): void {
    const bit = 1 << irq;
    const was = (this.lines & bit) !== 0;
    if (level) {
      this.lines |= bit;
      if (this.levelTriggered || !was) this.irr |= bit;
    } else {
      this.lines &= ~bit;
      this.irr &= ~bit;
    }
    this.update();
  }

  // ---- priority resolution ----------------------------------------------------------------------

  /** Priority rank of IR`irq`: 0 is the highest, 7 the lowest. */
  private rank(irq: number): number {
    return (irq - this.lowestPriority - 1) & 7;
  }

  /** The highest-priority IR among `bits`, or -1. */
  private highest(bits: number): number {
    if (bits === 0) return -1;
    for (let r = 0; r < 8; r++) {
      const irq = (this.lowestPriority + 1 + r) & 7;
      if (bits & (1 << irq)) return irq;
    }
    return -1;
  }

  /**
   * The request the chip would present to the CPU now, or -1: the highest unmasked request, if its
   * priority is above every level in service. In special mask mode masked levels in service do
   * not block; in special fully nested mode a slave's level in service does not block new
   * requests from that slave (datasheet "Special Fully Nest Mode").
   */
  pendingIrq(): number {
    const req = this.irr & ~this.imr;
    if (req === 0) return -1;
    const irq = this.highest(req);
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (this.specialFullyNested && this.role === 'master') inService &= ~(this.icw3 & (1 << irq));
    const cur = this.highest(inService);
    if (cur >= 0 && this.rank(cur) <= this.rank(irq)) return -1;
    return irq;
  }

  /**
   * The chip's part of an INTA sequence: commits to the pending request (sets its ISR bit unless in
   * automatic-EOI mode, clears an edge request) and returns its IR number, or -1 when there is no
   * request — the caller then supplies the default IR7 vector and no ISR bit is set.
   */
  acknowledgeIrq(): number {
    const irq = this.pendingIrq();
    if (irq < 0) return -1;
    const bit = 1 << irq;
    if (!this.levelTriggered) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowestPriority = irq;
    } else {
      this.isr |= bit;
    }
    this.update();
    return irq;
  }

  /** The vector for IR`irq` (8086 mode: T7-T3 from ICW2, low three bits the IR number). */
  vectorFor(irq: number): number {
    return (this.vectorBase | irq) & 0xff;
  }

  // ---- ports --------------------------------------------------------------------------------------

  /** Read of the chip's port with A0 = `a0` (0x20/0xA0: 0, 0x21/0xA1: 1). */
  read(a0: number): number {
    if (this.poll) {
      // Poll command: this read is an acknowledge, answering "I IR2 IR1 IR0" (OCW3 P bit).
      this.poll = false;
      const irq = this.acknowledgeIrq();
      return irq < 0 ? 0x00 : 0x80 | irq;
    }
    if (a0 & 1) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  /** Write of the chip's port with A0 = `a0`. */
  write(a0: number, value: number): void {
    value &= 0xff;
    if ((a0 & 1) === 0) {
      if (value & 0x10) this.icw1(value);
      else if (value & 0x08) this.ocw3(value);
      else this.ocw2(value);
      return;
    }
    switch (this.initStep) {
      case 2:
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.expectIcw4 ? 4 : READY) : 3;
        break;
      case 3:
        this.icw3 = value;
        this.initStep = this.expectIcw4 ? 4 : READY;
        break;
      case 4:
        this.icw4 = value & 0x1f;
        this.initStep = READY;
        break;
      default:
        this.imr = value; // OCW1
        this.update();
    }
  }

  /**
   * ICW1 starts initialisation (datasheet "Initialization Command Words"): the edge sense latches
   * are reset (an input already high must go low and high again), the IMR is cleared, IR7 gets
   * the lowest priority, special mask mode is cleared, reads return the IRR, and without IC4 the
   * ICW4 functions are all zero.
   */
  private icw1(value: number): void {
    this.levelTriggered = (value & 0x08) !== 0;
    this.single = (value & 0x02) !== 0;
    this.expectIcw4 = (value & 0x01) !== 0;
    this.imr = 0;
    this.isr = 0;
    this.irr = this.levelTriggered ? this.lines : 0;
    this.lowestPriority = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.rotateOnAutoEoi = false;
    if (!this.expectIcw4) this.icw4 = 0;
    this.initStep = 2;
    this.update();
  }

  /** OCW2: EOI and priority rotation; R SL EOI in bits 7-5, level in bits 2-0. */
  private ocw2(value: number): void {
    const level = value & 7;
    switch (value >> 5) {
      case 0b001: // non-specific EOI: the highest-priority level in service is done
        this.eoi(this.highest(this.isr), false);
        break;
      case 0b011: // specific EOI
        this.eoi(level, false);
        break;
      case 0b101: // rotate on non-specific EOI
        this.eoi(this.highest(this.isr), true);
        break;
      case 0b111: // rotate on specific EOI
        this.eoi(level, true);
        break;
      case 0b100: // set rotate in automatic EOI mode
        this.rotateOnAutoEoi = true;
        break;
      case 0b000: // clear rotate in automatic EOI mode
        this.rotateOnAutoEoi = false;
        break;
      case 0b110: // set priority: `level` becomes the lowest
        this.lowestPriority = level;
        this.update();
        break;
      default: // 0b010: no operation
        break;
    }
  }

  private eoi(irq: number, rotate: boolean): void {
    if (irq < 0) return;
    this.isr &= ~(1 << irq);
    if (rotate) this.lowestPriority = irq;
    this.update();
  }

  /** OCW3: special mask mode (ESMM/SMM), poll (P), read register select (RR/RIS). */
  private ocw3(value: number): void {
    if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
    if (value & 0x04) this.poll = true;
    if (value & 0x02) this.readIsr = (value & 0x01) !== 0;
    this.update();
  }

  readElcr(): number {
    return this.elcr;
  }

  writeElcr(value: number): void {
    this.elcr = value & this.elcrMask;
  }

  // ---- output -----------------------------------------------------------------------------------

  private update(): void {
    const out = this.pendingIrq() >= 0;
    if (out !== this.intOutput) {
      this.intOutput = out;
      this.outputListener(out);
    }
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    return {
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      lines: this.lines,
      vectorBase: this.vectorBase,
      icw3: this.icw3,
      icw4: this.icw4,
      levelTriggered: this.levelTriggered,
      single: this.single,
      expectIcw4: this.expectIcw4,
      initStep: this.initStep,
      lowestPriority: this.lowestPriority,
      rotateOnAutoEoi: this.rotateOnAutoEoi,
      readIsr: this.readIsr,
      poll: this.poll,
      specialMask: this.specialMask,
      elcr: this.elcr,
    };
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    const step = num(record, 'initStep');
    require(s, step === 0 || step === 2 || step === 3 || step === 4, `initStep ${step} is not 0, 2, 3 or 4`);
    require(s, num(record, 'lowestPriority') <= 7, `lowestPriority ${num(record, 'lowestPriority')} is not an IR number`);
    require(s, (num(record, 'vectorBase') & 7) === 0, 'vectorBase has bits 2-0 set (ICW2 keeps only T7-T3)');
    require(s, (num(record, 'icw4') & ~0x1f) === 0, 'icw4 has bits 7-5 set');
    require(s, (num(record, 'elcr') & ~this.elcrMask) === 0, `elcr sets bits outside 0x${this.elcrMask.toString(16)}`);
    // A request exists only while its input is high (edge requests are withdrawn when the line drops).
    require(s, (num(record, 'irr') & ~num(record, 'lines')) === 0, 'irr has a request on an input whose line is low');
  }

  /** Loads a record. The INT output is recomputed but not signalled: the peer chip has its own record. */
  loadState(record: StateRecord): void {
    this.checkState(record);
    this.irr = num(record, 'irr');
    this.isr = num(record, 'isr');
    this.imr = num(record, 'imr');
    this.lines = num(record, 'lines');
    this.vectorBase = num(record, 'vectorBase');
    this.icw3 = num(record, 'icw3');
    this.icw4 = num(record, 'icw4');
    this.levelTriggered = bool(record, 'levelTriggered');
    this.single = bool(record, 'single');
    this.expectIcw4 = bool(record, 'expectIcw4');
    this.initStep = num(record, 'initStep');
    this.lowestPriority = num(record, 'lowestPriority');
    this.rotateOnAutoEoi = bool(record, 'rotateOnAutoEoi');
    this.readIsr = bool(record, 'readIsr');
    this.poll = bool(record, 'poll');
    this.specialMask = bool(record, 'specialMask');
    this.elcr = num(record, 'elcr');
    this.intOutput = this.pendingIrq() >= 0;
  }
}
