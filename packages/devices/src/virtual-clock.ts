/**
 * Guest time (DESIGN §2.3).
 *
 * Every guest-visible clock (PIT, UART timeouts, TSC, later the RTC and APIC timer) reads this
 * one clock, and its time is a pure function of the machine's history:
 *
 *     nowNs = instructions × nsPerInstruction + idleNs
 *
 * where `instructions` is the number of instructions retired and `idleNs` the time skipped while
 * the CPU sat in HLT. Host wall time never enters it, so the same image and the same inputs give
 * the same guest, instruction for instruction. The 'realtime' pacing mode only decides *when* the
 * host lets time pass (sleeping while virtual time is ahead of the wall, skipping HLT idle no
 * further than the wall): it never changes what the guest sees for a given history.
 *
 * Timed events belong to named timers, registered once by their owner, so that a snapshot can
 * record pending events as (timer name, due time) and a restore can re-arm them exactly; a
 * closure could not travel in a snapshot.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { StateError, checkSchema, num, require, str } from './stateful-util.ts';

export type Pacing = 'deterministic' | 'realtime';

/** Called when the timer's due time has been reached; `dueNs` is the time it was set for. */
export type TimerCallback = (dueNs: number) => void;

export interface VirtualClockOptions {
  /** Guest nanoseconds per retired instruction (default 10: a 100 MIPS virtual CPU). */
  nsPerInstruction?: number;
  pacing?: Pacing;
  /** Host wall clock in milliseconds, for realtime pacing (default performance.now). */
  wallClockMs?: () => number;
  sectionName?: string;
}

/** One named event source. It has at most one pending occurrence (re-scheduling moves it). */
export class ClockTimer {
  /** Due time in guest ns; meaningful only while `pending`. */
  dueNs = 0;
  pending = false;
  /** Tie-break among timers due at the same time: earlier schedule() fires first. */
  seq = 0;

  constructor(private readonly clock: VirtualClock, readonly name: string, readonly callback: TimerCallback) {}

  /** Sets (or moves) the single pending occurrence to `atNs`. */
  schedule(atNs: number): void {
    this.clock.schedule(atNs, this);
  }

  cancel(): void {
    this.clock.cancel(this);
  }
}

/** A timer name was registered twice, or an unknown one was used. */
export class ClockTimerError extends Error {
  override readonly name = 'ClockTimerError';
}

const CLOCK_SCHEMA: SectionSchema = {
  type: 'virtual-clock',
  version: 1,
  fields: {
    instructions: 'f64',
    idleNs: 'f64',
    nsPerInstruction: 'f64',
    nextSeq: 'f64',
    // Pending events in firing order: JSON array of timer names, with parallel due times and
    // tie-break sequence numbers.
    eventTimers: 'string',
    eventDueNs: 'f64[]',
    eventSeq: 'f64[]',
  },
};

/** Timer names are identifiers like "pit0" or "com1.timeout". */
/**
 * Guest time is a float64 count of ns: past 2^53 ns (about 104 days) adding a timer period of a
 * few ns no longer changes it, and an event would re-fire forever. Restored states must stay below.
 */
const MAX_GUEST_NS = 2 ** 53;
/** 1 ms per instruction: slower pacing than any machine we model (a 1 kHz CPU). */
const MAX_NS_PER_INSTRUCTION = 1e6;
const TIMER_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

export class VirtualClock implements Stateful {
  readonly sectionName: string;
  readonly schema = CLOCK_SCHEMA;
  pacing: Pacing;

  private k: number;
  private retired = 0;
  private idle = 0;
  private counter: (() => number) | null = null;
  private readonly timers = new Map<string, ClockTimer>();
  /** Pending timers sorted by (dueNs, seq). A handful of entries: a sorted array beats a heap. */
  private readonly queue: ClockTimer[] = [];
  private nextSeq = 0;
  private readonly wallMs: () => number;
  private anchorWallMs = 0;
  private anchorVirtNs = 0;
  private anchored = false;
  private earlierListener: ((dueNs: number) => void) | null = null;

  constructor(opts: VirtualClockOptions = {}) {
    const k = opts.nsPerInstruction ?? 10;
    if (!(k > 0 && k <= MAX_NS_PER_INSTRUCTION)) throw new RangeError(`nsPerInstruction must be a positive number up to ${MAX_NS_PER_INSTRUCTION}, not ${k}`);
    this.k = k;
    this.pacing = opts.pacing ?? 'deterministic';
    this.wallMs = opts.wallClockMs ?? (() => performance.now());
    this.sectionName = opts.sectionName ?? 'clock';
  }

  get nsPerInstruction(): number {
    return this.k;
  }

  /** Instructions retired so far (from the live counter when the machine installed one). */
  get instructions(): number {
    return this.counter !== null ? this.counter() : this.retired;
  }

  /** Guest ns skipped while the CPU was halted. */
  get idleNs(): number {
    return this.idle;
  }

  /** Current guest time in ns. */
  nowNs(): number {
    return this.instructions * this.k + this.idle;
  }

  /** Alias of nowNs() (contract name). */
  now(): number {
    return this.nowNs();
  }

  /**
   * Makes the clock read the instruction count from `counter` (the CPU's retired-instruction
   * count, kept current during a run slice) so that a device reading the time in the middle of
   * a slice sees the exact instruction boundary, not the start of the slice.
   */
  setInstructionCounter(counter: (() => number) | null): void {
    if (counter === null) this.retired = this.instructions;
    this.counter = counter;
  }

  /**
   * Called whenever an event is scheduled earlier than every pending one, so that a run loop that
   * sized its slice on the old next event can end the slice early.
   */
  onEarlierEvent(listener: ((dueNs: number) => void) | null): void {
    this.earlierListener = listener;
  }

  // ---- timers -----------------------------------------------------------------------------------

  /** Registers a named timer. Names are unique within a clock: they identify events in snapshots. */
  timer(name: string, callback: TimerCallback): ClockTimer {
    if (!TIMER_NAME.test(name)) throw new ClockTimerError(`timer name "${name}" must be 1-64 characters of [A-Za-z0-9_.:-]`);
    if (this.timers.has(name)) throw new ClockTimerError(`timer "${name}" is already registered`);
    const t = new ClockTimer(this, name, callback);
    this.timers.set(name, t);
    return t;
  }

  /** Sets `timer`'s pending occurrence to `atNs` (replacing any earlier one) and returns it. */
  schedule(atNs: number, timer: ClockTimer | string): ClockTimer {
    const t = typeof timer === 'string' ? this.lookup(timer) : timer;
    if (!Number.isFinite(atNs)) throw new RangeError(`timer "${t.name}": due time ${atNs} is not a finite number`);
    if (t.pending) this.remove(t);
    t.dueNs = atNs;
    t.seq = this.nextSeq++;
    t.pending = true;
    const wasFirst = this.queue.length === 0 || atNs < this.queue[0]!.dueNs;
    this.insert(t);
    if (wasFirst && this.earlierListener !== null) this.earlierListener(atNs);
    return t;
  }

  cancel(timer: ClockTimer | string): void {
    const t = typeof timer === 'string' ? this.lookup(timer) : timer;
    if (t.pending) this.remove(t);
  }

  /** Due time of the next pending event, or Infinity. */
  nextEventNs(): number {
    return this.queue.length > 0 ? this.queue[0]!.dueNs : Infinity;
  }

  /** Instructions to retire before the next event is due (0 if already due, Infinity if none). */
  instructionsUntilNextEvent(): number {
    if (this.queue.length === 0) return Infinity;
    const d = this.queue[0]!.dueNs - this.nowNs();
    return d <= 0 ? 0 : Math.ceil(d / this.k);
  }

  /** Pending events in firing order (for inspection and tests). */
  pendingEvents(): { timer: string; dueNs: number }[] {
    return this.queue.map((t) => ({ timer: t.name, dueNs: t.dueNs }));
  }

  // ---- time passing -----------------------------------------------------------------------------

  /**
   * Accounts for `instructionsRetired` more instructions (ignored for the count when a live
   * counter is installed: it already includes them) and fires every event now due, in time order.
   */
  advance(instructionsRetired: number): void {
    if (this.counter === null) this.retired += instructionsRetired;
    this.fireDue(this.nowNs());
  }

  /** Fires every event due at the current time (the run loop calls this at slice boundaries). */
  fireDueEvents(): void {
    this.fireDue(this.nowNs());
  }

  /** Alias of advance() (contract name). */
  advanceInstructions(n: number): void {
    this.advance(n);
  }

  /**
   * HLT skip-ahead: lets guest time jump to the next event and fires it (and anything due at the
   * same time). Returns false if nothing is pending.
   */
  skipToNextEvent(): boolean {
    if (this.queue.length === 0) return false;
    this.skipTo(this.queue[0]!.dueNs);
    return true;
  }

  /**
   * Lets idle guest time pass up to `targetNs` (never backwards), firing each event due by then
   * with the clock standing at that event's due time.
   */
  skipTo(targetNs: number): void {
    const q = this.queue;
    while (q.length > 0 && q[0]!.dueNs <= targetNs) {
      const t = q.shift()!;
      t.pending = false;
      this.idleUntil(t.dueNs);
      t.callback(t.dueNs);
    }
    this.idleUntil(targetNs);
  }

  /** Sets idle time so that nowNs() is exactly (or, after rounding, just past) `ns`, if that is ahead. */
  private idleUntil(ns: number): void {
    if (ns <= this.nowNs()) return;
    const base = this.instructions * this.k;
    this.idle = ns - base;
    // base + (ns - base) can round below ns; step up to the next representable value(s).
    while (base + this.idle < ns) this.idle += Math.max(Math.abs(this.idle) * Number.EPSILON, Number.MIN_VALUE);
  }

  private fireDue(limitNs: number): void {
    const q = this.queue;
    while (q.length > 0 && q[0]!.dueNs <= limitNs) {
      const t = q.shift()!;
      t.pending = false;
      t.callback(t.dueNs);
    }
  }

  // ---- realtime pacing --------------------------------------------------------------------------

  /** Ties the current guest time to the current wall time (start of a realtime run, after a restore). */
  anchorToWall(): void {
    this.anchorWallMs = this.wallMs();
    this.anchorVirtNs = this.nowNs();
    this.anchored = true;
  }

  /** The guest time that corresponds to "now" on the wall clock under realtime pacing. */
  wallEquivalentNs(): number {
    if (!this.anchored) this.anchorToWall();
    return this.anchorVirtNs + (this.wallMs() - this.anchorWallMs) * 1e6;
  }

  /**
   * How far guest time is ahead of the wall (negative: behind). When the guest falls behind by
   * more than `maxLagNs` (a slow host), the anchor slides so that the guest is not later asked to
   * catch up in a burst: guest time then simply runs slower than the wall.
   */
  aheadOfWallNs(maxLagNs = 250e6): number {
    let ahead = this.nowNs() - this.wallEquivalentNs();
    if (ahead < -maxLagNs) {
      this.anchorVirtNs += ahead + maxLagNs;
      ahead = -maxLagNs;
    }
    return ahead;
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    return {
      instructions: this.instructions,
      idleNs: this.idle,
      nsPerInstruction: this.k,
      nextSeq: this.nextSeq,
      eventTimers: JSON.stringify(this.queue.map((t) => t.name)),
      eventDueNs: Float64Array.from(this.queue, (t) => t.dueNs),
      eventSeq: Float64Array.from(this.queue, (t) => t.seq),
    };
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    const instructions = num(record, 'instructions');
    const idle = num(record, 'idleNs');
    const k = num(record, 'nsPerInstruction');
    const nextSeq = num(record, 'nextSeq');
    require(s, Number.isSafeInteger(instructions) && instructions >= 0, `instruction count ${instructions} is not a non-negative integer`);
    require(s, Number.isFinite(idle) && idle >= 0 && idle <= MAX_GUEST_NS, `idle time ${idle} is not a number of ns from 0 to 2^53`);
    require(s, Number.isFinite(k) && k > 0 && k <= MAX_NS_PER_INSTRUCTION, `nsPerInstruction ${k} is not a positive number up to ${MAX_NS_PER_INSTRUCTION}`);
    require(s, instructions * k + idle <= MAX_GUEST_NS, `guest time ${instructions * k + idle} ns is past 2^53 ns`);
    require(s, Number.isSafeInteger(nextSeq) && nextSeq >= 0, `nextSeq ${nextSeq} is not a non-negative integer`);
    const names = parseNames(s, str(record, 'eventTimers'));
    const due = record.eventDueNs as Float64Array;
    const seq = record.eventSeq as Float64Array;
    require(s, due.length === names.length && seq.length === names.length, 'event tables disagree in length');
    const seen = new Set<string>();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      require(s, this.timers.has(name), `pending event for timer "${name}", which this machine does not have`);
      require(s, !seen.has(name), `timer "${name}" has two pending events`);
      seen.add(name);
      require(s, Number.isFinite(due[i]!) && due[i]! >= 0 && due[i]! <= 2 * MAX_GUEST_NS, `event "${name}" has an invalid due time`);
      require(s, Number.isSafeInteger(seq[i]!) && seq[i]! >= 0 && seq[i]! < nextSeq, `event "${name}" has an invalid sequence number`);
      if (i > 0) {
        const ordered = due[i - 1]! < due[i]! || (due[i - 1] === due[i] && seq[i - 1]! < seq[i]!);
        require(s, ordered, 'pending events are not in firing order');
      }
    }
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    const names = JSON.parse(str(record, 'eventTimers')) as string[];
    const due = record.eventDueNs as Float64Array;
    const seq = record.eventSeq as Float64Array;
    for (const t of this.queue) t.pending = false;
    this.queue.length = 0;
    for (let i = 0; i < names.length; i++) {
      const t = this.timers.get(names[i]!)!;
      t.dueNs = due[i]!;
      t.seq = seq[i]!;
      t.pending = true;
      this.queue.push(t);
    }
    this.retired = num(record, 'instructions');
    this.idle = num(record, 'idleNs');
    this.k = num(record, 'nsPerInstruction');
    this.nextSeq = num(record, 'nextSeq');
    this.anchored = false;
  }

  // ---- internals --------------------------------------------------------------------------------

  private lookup(name: string): ClockTimer {
    const t = this.timers.get(name);
    if (!t) throw new ClockTimerError(`no timer named "${name}" is registered`);
    return t;
  }

  private insert(t: ClockTimer): void {
    const q = this.queue;
    let i = q.length;
    while (i > 0 && (q[i - 1]!.dueNs > t.dueNs || (q[i - 1]!.dueNs === t.dueNs && q[i - 1]!.seq > t.seq))) i--;
    q.splice(i, 0, t);
  }

  private remove(t: ClockTimer): void {
    const i = this.queue.indexOf(t);
    if (i >= 0) this.queue.splice(i, 1);
    t.pending = false;
  }
}

function parseNames(section: string, json: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new StateError(section, 'eventTimers is not valid JSON');
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new StateError(section, 'eventTimers is not an array of timer names');
  }
  return v as string[];
}
