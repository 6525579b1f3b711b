/**
 * System control port B at 0x61 (IBM PC/AT technical reference; Intel 82371 PIIX "NMI status and
 * control register"): bit 0 drives the 8254 counter 2 GATE, bit 1 the speaker data enable,
 * bits 2-3 mask parity/channel-check NMIs. Reads add two inputs: bit 4 toggles with every DRAM
 * refresh request (counter 1's 15.085 µs period on a PC, here derived from the virtual clock)
 * and bit 5 is counter 2's OUT. Operating systems time short delays and calibrate the TSC
 * against these two bits.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import type { Pit8254 } from './pit8254.ts';
import { checkSchema, num } from './stateful-util.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** DRAM refresh request period: PIT counter 1 programmed with 18 by the BIOS (18 / 1.193182 MHz). */
export const REFRESH_PERIOD_NS = (18 * 1e9) / 1193182;
const WRITABLE = 0x0f;
const REFRESH_TOGGLE = 0x10;
const TIMER2_OUT = 0x20;

const PORT_B_SCHEMA: SectionSchema = { type: 'system-control-port-b', version: 1, fields: { value: 'u8' } };

export class SystemControlPortB implements Stateful {
  readonly sectionName: string;
  readonly schema = PORT_B_SCHEMA;
  private value = 0;

  constructor(private readonly pit: Pit8254, private readonly clock: VirtualClock, sectionName = 'port61') {
    this.sectionName = sectionName;
  }

  attach(bus: IoBus): void {
    bus.register(0x61, { in8: () => this.read(), out8: (_p, v) => this.write(v) }, this.sectionName);
  }

  /** Power-on: gate low, speaker off, NMIs unmasked. */
  reset(): void {
    this.write(0);
  }

  /** Speaker data enable (bit 1) and gate (bit 0) both set: the speaker follows counter 2. */
  get speakerOn(): boolean {
    return (this.value & 3) === 3;
  }

  read(): number {
    let v = this.value;
    if ((Math.floor(this.clock.nowNs() / REFRESH_PERIOD_NS) & 1) !== 0) v |= REFRESH_TOGGLE;
    if (this.pit.getOutput(2)) v |= TIMER2_OUT;
    return v;
  }

  write(v: number): void {
    this.value = v & WRITABLE;
    this.pit.setGate(2, (v & 1) !== 0);
  }

  saveState(): StateRecord {
    return { value: this.value };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
  }

  /** The gate itself travels in the PIT's record. */
  loadState(record: StateRecord): void {
    this.checkState(record);
    this.value = num(record, 'value') & WRITABLE;
  }
}
