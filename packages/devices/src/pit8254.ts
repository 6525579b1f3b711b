/**
 * Intel 8254 programmable interval timer as wired in a PC: 1.193182 MHz on every CLK input,
 * counter 0's OUT to IRQ0, counter 1 (DRAM refresh) unwired, counter 2's GATE and OUT to port
 * 0x61 (the speaker/NMI status port, owned elsewhere: this class only exposes the pins).
 * Ports 0x40-0x42 are the counters, 0x43 the control word register (datasheet 231164).
 *
 * Nothing is ticked. Counter 0's next OUT change is computed and a clock event is scheduled for
 * exactly that moment, so the timer costs nothing between interrupts and its IRQ0 edges land at
 * the same guest instant however the run loop slices execution.
 */
import type { FieldType, SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { COUNTER_FIELDS, PitCounter } from './pit-counter.ts';
import { bool, checkSchema } from './stateful-util.ts';
import type { ClockTimer, VirtualClock } from './virtual-clock.ts';

/** Input clock of every counter, Hz (the PC's 14.31818 MHz crystal divided by 12). */
export const PIT_HZ = 1193182;
const NS_PER_TICK = 1e9 / PIT_HZ;

/** Guest time of CLK edge `tick`. */
export function pitTickToNs(tick: number): number {
  return tick * NS_PER_TICK;
}

/** The last CLK edge at or before `ns` — exact inverse of pitTickToNs despite rounding. */
export function pitNsToTick(ns: number): number {
  let t = Math.floor(ns / NS_PER_TICK);
  if (pitTickToNs(t + 1) <= ns) t++;
  else if (pitTickToNs(t) > ns) t--;
  return t;
}

function pitSchema(): SectionSchema {
  const fields: Record<string, FieldType> = { irq0Level: 'bool' };
  for (let c = 0; c < 3; c++) {
    for (const [name, type] of Object.entries(COUNTER_FIELDS)) fields[`c${c}_${name}`] = type;
  }
  return { type: 'pit8254', version: 1, fields };
}

const PIT_SCHEMA = pitSchema();

export interface Pit8254Options {
  /** Receives counter 0's OUT, i.e. the IRQ0 line. */
  onIrq0?: (level: boolean) => void;
  sectionName?: string;
  timerName?: string;
}

export class Pit8254 implements Stateful {
  readonly sectionName: string;
  readonly schema = PIT_SCHEMA;
  /** GATE 0 and 1 are tied high on a PC; GATE 2 follows port 0x61 bit 0 (low at reset). */
  readonly counters: readonly [PitCounter, PitCounter, PitCounter] = [
    new PitCounter(true), new PitCounter(true), new PitCounter(false),
  ];
  private irq0Level = false;
  private readonly onIrq0: (level: boolean) => void;
  private readonly timer: ClockTimer;

  constructor(private readonly clock: VirtualClock, opts: Pit8254Options = {}) {
    this.sectionName = opts.sectionName ?? 'pit';
    this.onIrq0 = opts.onIrq0 ?? (() => {});
    this.timer = clock.timer(opts.timerName ?? 'pit0', (dueNs) => this.syncIrq0(pitNsToTick(dueNs)));
  }

  /** The current CLK edge. */
  tick(): number {
    return pitNsToTick(this.clock.nowNs());
  }

  attach(bus: IoBus): void {
    bus.register(0x40, { in8: (p) => this.readPort(p), out8: (p, v) => this.writePort(p, v) }, 'pit', 4);
  }

  /** Power-on: counters idle (not counting until programmed), IRQ0 low. */
  reset(): void {
    const gates = [true, true, false];
    for (let c = 0; c < 3; c++) {
      const k = new PitCounter(gates[c]!);
      Object.assign(this.counters[c]!, k);
    }
    this.timer.cancel();
    if (this.irq0Level) {
      this.irq0Level = false;
      this.onIrq0(false);
    }
  }

  // ---- pins -------------------------------------------------------------------------------------

  /** Drives a counter's GATE input (counter 2: port 0x61 bit 0). */
  setGate(counter: number, level: boolean): void {
    this.counters[counter]!.setGate(level, this.tick());
    if (counter === 0) this.syncIrq0(this.tick());
  }

  getGate(counter: number): boolean {
    return this.counters[counter]!.gate;
  }

  /** A counter's OUT pin now (counter 2: port 0x61 bit 5). */
  getOutput(counter: number): boolean {
    return this.counters[counter]!.outAt(this.tick());
  }

  // ---- ports ------------------------------------------------------------------------------------

  readPort(port: number): number {
    const n = port & 3;
    if (n === 3) return 0xff; // the control word register cannot be read
    return this.counters[n]!.readByte(this.tick());
  }

  writePort(port: number, value: number): void {
    const n = port & 3;
    const t = this.tick();
    if (n !== 3) {
      this.counters[n]!.writeByte(value & 0xff, t);
      if (n === 0) this.syncIrq0(t);
      return;
    }
    const sc = value >> 6;
    if (sc === 3) {
      // Read-back command (8254 only): bit 5 low = latch count, bit 4 low = latch status,
      // bits 3-1 select counters 2-0.
      for (let c = 0; c < 3; c++) {
        if ((value & (2 << c)) === 0) continue;
        const k = this.counters[c]!;
        if ((value & 0x10) === 0) k.latchStatusByte(t);
        if ((value & 0x20) === 0) k.latch(t);
      }
      return;
    }
    const k = this.counters[sc]!;
    if ((value & 0x30) === 0) {
      k.latch(t); // counter latch command
      return;
    }
    k.control(value, t);
    if (sc === 0) this.syncIrq0(t);
  }

  // ---- IRQ0 -------------------------------------------------------------------------------------

  /** Brings IRQ0 to counter 0's OUT at tick `t` and schedules the next change. */
  private syncIrq0(t: number): void {
    const k = this.counters[0];
    const level = k.outAt(t);
    if (level !== this.irq0Level) {
      this.irq0Level = level;
      this.onIrq0(level);
    }
    const next = k.nextOutChange(t);
    if (next === Infinity) this.timer.cancel();
    else this.timer.schedule(pitTickToNs(next));
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    const r: StateRecord = { irq0Level: this.irq0Level };
    for (let c = 0; c < 3; c++) this.counters[c]!.saveTo(`c${c}_`, r);
    return r;
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    for (let c = 0; c < 3; c++) PitCounter.check(this.sectionName, `c${c}_`, record);
  }

  /** Loads counter state. The pending IRQ0 event travels in the clock's record, not here. */
  loadState(record: StateRecord): void {
    this.checkState(record);
    for (let c = 0; c < 3; c++) this.counters[c]!.loadFrom(`c${c}_`, record);
    this.irq0Level = bool(record, 'irq0Level');
  }
}
