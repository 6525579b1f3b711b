/**
 * The PC/AT interrupt controller: two 8259As, the slave's INT wired to the master's IR2
 * (IBM PC/AT Technical Reference, "Interrupt Controllers"). Ports 0x20/0x21 (master),
 * 0xA0/0xA1 (slave), ELCR 0x4D0/0x4D1 (PIIX edge/level control, kept as plain registers).
 *
 * IRQ numbers 0-7 are the master's inputs, 8-15 the slave's. IRQ2 drives the master's IR2 pin
 * directly, in parallel with the slave's INT: an interrupt there with no slave request
 * behaves as on hardware (the slave answers its default IR7, i.e. a spurious IRQ15).
 */
import type { InterruptController } from '@ferry86/cpu';
import type { FieldType, SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { Pic8259 } from './pic8259.ts';
import { bool, checkSchema } from './stateful-util.ts';

/** One section for the pair: each chip's fields prefixed "master_" / "slave_", plus the IRQ2 pin. */
function pairSchema(chip: SectionSchema): SectionSchema {
  const fields: Record<string, FieldType> = { externalIrq2: 'bool' };
  for (const [name, type] of Object.entries(chip.fields)) {
    fields[`master_${name}`] = type;
    fields[`slave_${name}`] = type;
  }
  return { type: 'pic-pair', version: 1, fields };
}

export class PicPair implements InterruptController, Stateful {
  readonly sectionName: string;
  readonly master = new Pic8259('pic-master', 'master', 0xf8);
  readonly slave = new Pic8259('pic-slave', 'slave', 0xde);
  readonly schema = pairSchema(this.master.schema);

  private externalIrq2 = false;
  private intrListener: () => void = () => {};

  constructor(sectionName = 'pic') {
    this.sectionName = sectionName;
    this.slave.onOutputChange((level) => this.master.setIrq(2, level || this.externalIrq2));
    this.master.onOutputChange((level) => {
      if (level) this.intrListener();
    });
  }

  /** Called when INTR is asserted, so a run loop can end its slice and let the CPU see it. */
  onInterruptRequest(listener: () => void): void {
    this.intrListener = listener;
  }

  /** Power-on state of both chips (masked, uninitialised). */
  reset(): void {
    this.externalIrq2 = false;
    this.master.lines = 0;
    this.slave.lines = 0;
    this.slave.reset();
    this.master.reset();
  }

  // ---- device side ------------------------------------------------------------------------------

  setIrq(irq: number, level: boolean): void {
    if (irq >= 8) {
      this.slave.setIrq(irq & 7, level);
    } else if (irq === 2) {
      this.externalIrq2 = level;
      this.master.setIrq(2, level || this.slave.intOutput);
    } else {
      this.master.setIrq(irq, level);
    }
  }

  raiseIrq(irq: number): void {
    this.setIrq(irq, true);
  }

  lowerIrq(irq: number): void {
    this.setIrq(irq, false);
  }

  // ---- CPU side (InterruptController) -------------------------------------------------------------

  /** The INTR line. */
  hasInterrupt(): boolean {
    return this.master.intOutput;
  }

  /**
   * The two INTA cycles. The master commits to its highest request; if that input has a slave,
   * the slave supplies the vector (its default IR7 if its request has gone). With no request at
   * the master, the master supplies its default IR7: a spurious IRQ7 with no ISR bit set.
   */
  acknowledge(): number {
    const m = this.master.acknowledgeIrq();
    if (m < 0) return this.master.vectorFor(7);
    if (!this.master.isCascadeInput(m)) return this.master.vectorFor(m);
    const s = this.slave.acknowledgeIrq();
    return this.slave.vectorFor(s < 0 ? 7 : s);
  }

  // ---- wiring -----------------------------------------------------------------------------------

  attach(bus: IoBus): void {
    const m = this.master;
    const s = this.slave;
    bus.register(0x20, { in8: (p) => m.read(p), out8: (p, v) => m.write(p, v) }, 'pic-master', 2);
    bus.register(0xa0, { in8: (p) => s.read(p), out8: (p, v) => s.write(p, v) }, 'pic-slave', 2);
    bus.register(0x4d0, { in8: () => m.readElcr(), out8: (_p, v) => m.writeElcr(v) }, 'elcr');
    bus.register(0x4d1, { in8: () => s.readElcr(), out8: (_p, v) => s.writeElcr(v) }, 'elcr');
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    const r: StateRecord = { externalIrq2: this.externalIrq2 };
    for (const [k, v] of Object.entries(this.master.saveState())) r[`master_${k}`] = v;
    for (const [k, v] of Object.entries(this.slave.saveState())) r[`slave_${k}`] = v;
    return r;
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    this.master.checkState(this.chipRecord(record, 'master_'));
    this.slave.checkState(this.chipRecord(record, 'slave_'));
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.master.loadState(this.chipRecord(record, 'master_'));
    this.slave.loadState(this.chipRecord(record, 'slave_'));
    this.externalIrq2 = bool(record, 'externalIrq2');
  }

  private chipRecord(record: StateRecord, prefix: string): StateRecord {
    const r: StateRecord = {};
    for (const name of Object.keys(this.master.schema.fields)) r[name] = record[prefix + name]!;
    return r;
  }
}
