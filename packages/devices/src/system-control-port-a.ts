/**
 * System control port A at 0x92 (IBM PS/2 "system control port A"; Intel PIIX "port 92"): the
 * fast A20 gate (bit 1) and the fast CPU reset (bit 0: a 0 -> 1 transition resets the CPU).
 * Faster than going through the keyboard controller, and what most loaders try first.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { checkSchema, num } from './stateful-util.ts';

const FAST_RESET = 0x01;
const FAST_A20 = 0x02;
const PORT_A_SCHEMA: SectionSchema = { type: 'system-control-port-a', version: 1, fields: { value: 'u8' } };

export interface SystemControlPortAOptions {
  /** Called when bit 1 changes. */
  onA20?: () => void;
  requestReset?: () => void;
  sectionName?: string;
}

export class SystemControlPortA implements Stateful {
  readonly sectionName: string;
  readonly schema = PORT_A_SCHEMA;
  private value = 0;
  private readonly onA20: () => void;
  private readonly requestReset: () => void;

  constructor(opts: SystemControlPortAOptions = {}) {
    this.sectionName = opts.sectionName ?? 'port92';
    this.onA20 = opts.onA20 ?? (() => {});
    this.requestReset = opts.requestReset ?? (() => {});
  }

  attach(bus: IoBus): void {
    bus.register(0x92, { in8: () => this.value, out8: (_p, v) => this.write(v) }, this.sectionName);
  }

  /** Fast A20 requested (the board ORs it with the keyboard controller's A20 line). */
  get a20(): boolean {
    return (this.value & FAST_A20) !== 0;
  }

  reset(): void {
    const had = this.a20;
    this.value = 0;
    if (had) this.onA20();
  }

  write(v: number): void {
    const old = this.value;
    this.value = v & (FAST_A20 | FAST_RESET);
    if (((old ^ v) & FAST_A20) !== 0) this.onA20();
    if ((old & FAST_RESET) === 0 && (v & FAST_RESET) !== 0) this.requestReset();
  }

  saveState(): StateRecord {
    return { value: this.value };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.value = num(record, 'value') & (FAST_A20 | FAST_RESET);
  }
}
