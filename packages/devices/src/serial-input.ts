/**
 * Host input stamped with the guest instant at which it enters the machine (DESIGN §2.3).
 *
 * Each chunk carries (instruction count, guest ns). The machine delivers it at the first slice
 * boundary where the CPU has retired `atInstruction` instructions — and, if the CPU is halted
 * there, once idle guest time has reached `atNs` — so that a replay that feeds the same stamped
 * chunks gets the same guest, instruction for instruction. Chunks sent without a stamp are
 * stamped with the instant they are delivered, which is what an input log records.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { bytes, checkSchema, require } from './stateful-util.ts';

export interface StampedInput {
  /** Instruction count at which the bytes enter the machine. */
  atInstruction: number;
  /** Guest time at which they enter; -1: as soon as the count is reached. */
  atNs: number;
  bytes: Uint8Array;
}

const SERIAL_INPUT_SCHEMA: SectionSchema = {
  type: 'stamped-input',
  version: 1,
  fields: { atInstruction: 'f64[]', atNs: 'f64[]', lengths: 'u32[]', data: 'bytes' },
};

export class StampedInputQueue implements Stateful {
  readonly sectionName: string;
  readonly schema = SERIAL_INPUT_SCHEMA;
  /** Sorted by (atInstruction, atNs), ties in arrival order. */
  private readonly pending: StampedInput[] = [];

  constructor(sectionName = 'serial-input') {
    this.sectionName = sectionName;
  }

  get length(): number {
    return this.pending.length;
  }

  add(input: StampedInput): void {
    const p = this.pending;
    let i = p.length;
    while (i > 0 && (p[i - 1]!.atInstruction > input.atInstruction ||
      (p[i - 1]!.atInstruction === input.atInstruction && p[i - 1]!.atNs > input.atNs))) i--;
    p.splice(i, 0, input);
  }

  /** The next chunk due at instruction count `count` and guest time `nowNs`, removed from the queue. */
  takeDue(count: number, nowNs: number): StampedInput | null {
    const head = this.pending[0];
    if (!head) return null;
    if (head.atInstruction < count || (head.atInstruction === count && head.atNs <= nowNs)) {
      return this.pending.shift()!;
    }
    return null;
  }

  /** Removes and returns the next chunk whatever its stamp (null if none). */
  takeNext(): StampedInput | null {
    return this.pending.shift() ?? null;
  }

  /** Instructions to run before the next chunk's count is reached (Infinity if none ahead). */
  instructionsUntilNext(count: number): number {
    const head = this.pending[0];
    return head && head.atInstruction > count ? head.atInstruction - count : Infinity;
  }

  /** While halted at `count`: the guest time the next chunk waits for, or Infinity. */
  nextNsAt(count: number): number {
    const head = this.pending[0];
    return head && head.atInstruction <= count ? head.atNs : Infinity;
  }

  saveState(): StateRecord {
    const total = this.pending.reduce((n, c) => n + c.bytes.length, 0);
    const data = new Uint8Array(total);
    let off = 0;
    for (const c of this.pending) {
      data.set(c.bytes, off);
      off += c.bytes.length;
    }
    return {
      atInstruction: Float64Array.from(this.pending, (c) => c.atInstruction),
      atNs: Float64Array.from(this.pending, (c) => c.atNs),
      lengths: Uint32Array.from(this.pending, (c) => c.bytes.length),
      data,
    };
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    const at = record.atInstruction as Float64Array;
    const ns = record.atNs as Float64Array;
    const lengths = record.lengths as Uint32Array;
    require(s, at.length === ns.length && at.length === lengths.length, 'input tables disagree in length');
    let total = 0;
    for (let i = 0; i < at.length; i++) {
      require(s, Number.isSafeInteger(at[i]!) && at[i]! >= 0, `input ${i} has an invalid instruction stamp`);
      require(s, ns[i] === -1 || (Number.isFinite(ns[i]!) && ns[i]! >= 0), `input ${i} has an invalid time stamp`);
      if (i > 0) require(s, at[i - 1]! < at[i]! || (at[i - 1] === at[i] && ns[i - 1]! <= ns[i]!), 'inputs are not in stamp order');
      total += lengths[i]!;
    }
    require(s, total === bytes(record, 'data').length, 'input lengths do not add up to the data');
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    const at = record.atInstruction as Float64Array;
    const ns = record.atNs as Float64Array;
    const lengths = record.lengths as Uint32Array;
    const data = bytes(record, 'data');
    this.pending.length = 0;
    let off = 0;
    for (let i = 0; i < at.length; i++) {
      this.pending.push({ atInstruction: at[i]!, atNs: ns[i]!, bytes: data.slice(off, off + lengths[i]!) });
      off += lengths[i]!;
    }
  }
}
