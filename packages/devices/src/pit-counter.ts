/**
 * One counter of an Intel 8254 (datasheet 231164, "Modes of operation"), computed rather than
 * ticked: its state is the tick at which the counting element (CE) was last loaded and what it
 * was loaded with, so the count and OUT at any later tick are a formula, and so is the next tick
 * at which OUT changes (what the Pit8254 schedules a clock event for).
 *
 * Ticks are CLK falling edges, numbered from guest time 0. A count written between edges is
 * loaded into the CE on the next edge and decremented on the ones after, so in mode 0 OUT goes
 * high N+1 edges after an N is written, as the datasheet says.
 *
 * Simplification: in mode 3 a count written while counting takes effect at the end of the
 * current period rather than the current half-period.
 */
import type { StateRecord } from '@ferry86/mmu';
import { bool, num, require } from './stateful-util.ts';

/** What the counter is doing. */
export const enum CounterPhase {
  /** Control word written, no count yet: OUT at its initial level, not counting. */
  Idle = 0,
  Running = 1,
  /** GATE low in a mode where that suspends counting (0, 2, 3, 4). */
  Paused = 2,
  /** Modes 1 and 5: count written, waiting for a GATE rising edge. */
  WaitTrigger = 3,
  /** Mode 0, first byte of a two-byte count written: counting stopped, OUT low. */
  Held = 4,
}

export type PitAccess = 1 | 2 | 3; // LSB only, MSB only, LSB then MSB

/** Fields saved per counter (prefixed with "c0_", "c1_", "c2_" in the PIT's record). */
export const COUNTER_FIELDS = {
  modeBits: 'u8',
  bcd: 'bool',
  access: 'u8',
  count: 'u32',
  writeMsbNext: 'bool',
  writeLsb: 'u8',
  readMsbNext: 'bool',
  latchCount: 'u16',
  latchBytes: 'u8',
  latchMsbNext: 'bool',
  statusLatched: 'bool',
  latchStatus: 'u8',
  gate: 'bool',
  phase: 'u8',
  baseTick: 'f64',
  baseRemaining: 'f64',
  period: 'u32',
  pendingPeriod: 'u32',
  switchTick: 'f64',
  frozen: 'u16',
  outHeld: 'bool',
  nullUntil: 'f64',
} as const;

export class PitCounter {
  /** Mode bits as written (status reports them); `mode` folds 6/7 onto 2/3. */
  modeBits = 0;
  bcd = false;
  access: PitAccess = 3;
  /** Last count written, as a number of clocks (a written 0 means 65536, or 10000 in BCD). */
  count = 0x10000;
  writeMsbNext = false;
  writeLsb = 0;
  readMsbNext = false;
  latchCount = 0;
  /** Bytes of the latched count still to be read (0: no count latched). */
  latchBytes = 0;
  latchMsbNext = false;
  statusLatched = false;
  latchStatus = 0;
  gate: boolean;
  phase = CounterPhase.Idle;
  /** Tick at which the CE held `baseRemaining` (modes 0,1,4,5) or was loaded with `period` (2,3). */
  baseTick = 0;
  /** Modes 0,1,4,5: clocks until the terminal count, as of baseTick (≤ 0 once passed). */
  baseRemaining = 0;
  /** Modes 2,3: reload value. */
  period = 0x10000;
  /** Modes 2,3: a count written while counting, loaded at `switchTick` (0: none). */
  pendingPeriod = 0;
  switchTick = 0;
  /** Count shown while not running. */
  frozen = 0;
  /** OUT while not running. */
  outHeld = false;
  /** The count register has not reached the CE before this tick (status bit 6, NULL COUNT). */
  nullUntil = 0;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  get mode(): number {
    return this.modeBits > 5 ? this.modeBits - 4 : this.modeBits;
  }

  private get modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  // ---- programming ------------------------------------------------------------------------------

  /** Control word for this counter (not latch, not read-back), written at tick `t`. */
  control(value: number, t: number): void {
    this.frozen = this.countAt(t);
    this.modeBits = (value >> 1) & 7;
    this.bcd = (value & 1) !== 0;
    this.access = ((value >> 4) & 3) as PitAccess;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latchBytes = 0;
    this.statusLatched = false;
    this.phase = CounterPhase.Idle;
    this.pendingPeriod = 0;
    this.outHeld = this.mode !== 0; // mode 0 starts low, every other mode high
    this.nullUntil = Infinity;
  }

  /** A byte written to the counter's port at tick `t`. */
  writeByte(value: number, t: number): void {
    switch (this.access) {
      case 1:
        this.loadCount(value, t);
        break;
      case 2:
        this.loadCount(value << 8, t);
        break;
      default:
        if (!this.writeMsbNext) {
          this.writeLsb = value;
          this.writeMsbNext = true;
          if (this.mode === 0) {
            // Datasheet mode 0: writing the first byte disables counting and sets OUT low at once.
            this.frozen = this.countAt(t);
            this.phase = CounterPhase.Held;
            this.outHeld = false;
          }
        } else {
          this.writeMsbNext = false;
          this.loadCount(this.writeLsb | (value << 8), t);
        }
    }
  }

  /** A complete count register value `raw` (binary or BCD digits) written at tick `t`. */
  private loadCount(raw: number, t: number): void {
    let n = this.bcd ? fromBcd(raw) : raw;
    if (n === 0) n = this.modulus;
    this.count = n;
    const next = t + 1;
    switch (this.mode) {
      case 0:
      case 4:
        this.baseTick = next;
        this.baseRemaining = n;
        this.outHeld = this.mode === 4;
        this.phase = this.gate ? CounterPhase.Running : CounterPhase.Paused;
        this.nullUntil = next;
        break;
      case 1:
      case 5:
        // Takes effect at the next trigger; a one-shot in progress is not disturbed.
        if (this.phase !== CounterPhase.Running) {
          this.phase = CounterPhase.WaitTrigger;
          this.outHeld = true;
        }
        this.nullUntil = Infinity;
        break;
      default: // 2, 3
        if (this.phase === CounterPhase.Running && t >= this.baseTick) {
          this.settle(t);
          const k = Math.floor((t - this.baseTick) / this.period) + 1;
          this.pendingPeriod = n;
          this.switchTick = this.baseTick + k * this.period;
          this.nullUntil = this.switchTick;
        } else if (this.phase === CounterPhase.Running) {
          this.period = n; // not yet loaded: the new count simply replaces it
          this.pendingPeriod = 0;
        } else if (this.gate) {
          this.phase = CounterPhase.Running;
          this.baseTick = next;
          this.period = n;
          this.pendingPeriod = 0;
          this.nullUntil = next;
        } else {
          this.phase = CounterPhase.Paused;
          this.frozen = n % this.modulus;
          this.outHeld = true;
        }
    }
  }

  /** Counter latch command: freezes the count for reading (ignored if one is already latched). */
  latch(t: number): void {
    if (this.latchBytes !== 0) return;
    this.latchCount = this.encode(this.countAt(t));
    this.latchBytes = this.access === 3 ? 2 : 1;
    this.latchMsbNext = this.access === 2;
  }

  /** Read-back status latch (ignored if a status is already latched). */
  latchStatusByte(t: number): void {
    if (this.statusLatched) return;
    this.latchStatus =
      (this.outAt(t) ? 0x80 : 0) |
      (t < this.nullUntil ? 0x40 : 0) |
      (this.access << 4) |
      (this.modeBits << 1) |
      (this.bcd ? 1 : 0);
    this.statusLatched = true;
  }

  /** A read of the counter's port at tick `t`: latched status, latched count, or the live count. */
  readByte(t: number): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.latchStatus;
    }
    if (this.latchBytes !== 0) {
      const v = this.latchMsbNext ? this.latchCount >> 8 : this.latchCount & 0xff;
      this.latchMsbNext = !this.latchMsbNext;
      this.latchBytes--;
      return v;
    }
    const c = this.encode(this.countAt(t));
    switch (this.access) {
      case 1:
        return c & 0xff;
      case 2:
        return c >> 8;
      default: {
        const msb = this.readMsbNext;
        this.readMsbNext = !msb;
        return msb ? c >> 8 : c & 0xff;
      }
    }
  }

  /** GATE input changed at tick `t` (datasheet "Gate pin operations summary"). */
  setGate(level: boolean, t: number): void {
    if (level === this.gate) return;
    this.gate = level;
    const mode = this.mode;
    if (mode === 0 || mode === 4) {
      if (!level && this.phase === CounterPhase.Running) {
        this.outHeld = this.outAt(t);
        this.baseRemaining = this.remainingAt(t);
        this.baseTick = t;
        this.phase = CounterPhase.Paused;
      } else if (level && this.phase === CounterPhase.Paused) {
        this.baseTick = t; // counting resumes on the next edge
        this.phase = CounterPhase.Running;
      }
    } else if (mode === 1 || mode === 5) {
      if (level && this.phase !== CounterPhase.Idle) {
        // Trigger: the count register is (re)loaded on the next edge.
        this.baseTick = t + 1;
        this.baseRemaining = this.count;
        this.phase = CounterPhase.Running;
        this.nullUntil = t + 1;
      }
    } else if (!level) {
      if (this.phase === CounterPhase.Running) {
        this.frozen = this.countAt(t);
        this.outHeld = true; // modes 2/3: GATE low forces OUT high
        this.phase = CounterPhase.Paused;
      }
    } else if (this.phase === CounterPhase.Paused) {
      this.baseTick = t + 1; // rising GATE reloads the initial count on the next edge
      this.period = this.count;
      this.pendingPeriod = 0;
      this.phase = CounterPhase.Running;
      this.nullUntil = t + 1;
    }
  }

  // ---- evaluation -------------------------------------------------------------------------------

  /** Modes 0,1,4,5: clocks left until the terminal count at tick `t` (≤ 0 after it). */
  private remainingAt(t: number): number {
    return this.baseRemaining - Math.max(0, t - this.baseTick);
  }

  /** Apply a pending mode 2/3 reload whose tick has passed. */
  private settle(t: number): void {
    if (this.pendingPeriod !== 0 && t >= this.switchTick) {
      this.baseTick = this.switchTick;
      this.period = this.pendingPeriod;
      this.pendingPeriod = 0;
    }
  }

  /** The (base, period) regime in force at tick `t` for modes 2/3. */
  private regimeBase(t: number): number {
    return this.pendingPeriod !== 0 && t >= this.switchTick ? this.switchTick : this.baseTick;
  }

  private regimePeriod(t: number): number {
    return this.pendingPeriod !== 0 && t >= this.switchTick ? this.pendingPeriod : this.period;
  }

  /** The CE contents (binary, 0..modulus-1) at tick `t`. */
  countAt(t: number): number {
    const m = this.modulus;
    switch (this.phase) {
      case CounterPhase.Running:
        break;
      case CounterPhase.Paused:
        return this.mode === 0 || this.mode === 4 ? wrap(this.baseRemaining, m) : this.frozen;
      default:
        return this.frozen;
    }
    const mode = this.mode;
    if (mode === 2 || mode === 3) {
      const base = this.regimeBase(t);
      const n = this.regimePeriod(t);
      if (t < base) return this.frozen;
      const p = (t - base) % n;
      if (mode === 2) return wrap(n - p, m);
      return wrap(squareWaveCount(n, p), m);
    }
    if (t < this.baseTick) return wrap(this.baseRemaining, m);
    return wrap(this.remainingAt(t), m);
  }

  /** OUT at tick `t`. */
  outAt(t: number): boolean {
    if (this.phase !== CounterPhase.Running) return this.outHeld;
    switch (this.mode) {
      case 0:
        return this.remainingAt(t) <= 0;
      case 1:
        return t < this.baseTick || this.remainingAt(t) <= 0;
      case 4:
      case 5:
        return t < this.baseTick || this.remainingAt(t) !== 0;
      default:
        return regimeOut(this.mode, this.regimeBase(t), this.regimePeriod(t), t);
    }
  }

  /** The first tick after `t` at which OUT changes, or Infinity. */
  nextOutChange(t: number): number {
    if (this.phase !== CounterPhase.Running) return Infinity;
    const mode = this.mode;
    if (mode === 0) {
      const tz = this.baseTick + this.baseRemaining;
      return this.baseRemaining > 0 && tz > t ? tz : Infinity;
    }
    if (mode === 1) {
      if (this.baseTick > t && this.baseRemaining > 0) return this.baseTick;
      const tz = this.baseTick + this.baseRemaining;
      return tz > t ? tz : Infinity;
    }
    if (mode === 4 || mode === 5) {
      const tz = this.baseTick + this.baseRemaining;
      if (tz > t) return tz;
      if (tz + 1 > t) return tz + 1;
      return Infinity;
    }
    // Modes 2, 3, possibly with a reload of a new count pending.
    if (this.pendingPeriod !== 0 && t < this.switchTick) {
      const s = this.switchTick;
      const c = regimeNext(mode, this.baseTick, this.period, t);
      if (c < s) return c;
      if (regimeOut(mode, this.baseTick, this.period, s - 1) !== regimeOut(mode, s, this.pendingPeriod, s)) return s;
      return regimeNext(mode, s, this.pendingPeriod, s);
    }
    return regimeNext(mode, this.regimeBase(t), this.regimePeriod(t), t);
  }

  private encode(count: number): number {
    return this.bcd ? toBcd(count) : count;
  }

  // ---- state ------------------------------------------------------------------------------------

  saveTo(prefix: string, out: StateRecord): void {
    out[prefix + 'modeBits'] = this.modeBits;
    out[prefix + 'bcd'] = this.bcd;
    out[prefix + 'access'] = this.access;
    out[prefix + 'count'] = this.count;
    out[prefix + 'writeMsbNext'] = this.writeMsbNext;
    out[prefix + 'writeLsb'] = this.writeLsb;
    out[prefix + 'readMsbNext'] = this.readMsbNext;
    out[prefix + 'latchCount'] = this.latchCount;
    out[prefix + 'latchBytes'] = this.latchBytes;
    out[prefix + 'latchMsbNext'] = this.latchMsbNext;
    out[prefix + 'statusLatched'] = this.statusLatched;
    out[prefix + 'latchStatus'] = this.latchStatus;
    out[prefix + 'gate'] = this.gate;
    out[prefix + 'phase'] = this.phase;
    out[prefix + 'baseTick'] = this.baseTick;
    out[prefix + 'baseRemaining'] = this.baseRemaining;
    out[prefix + 'period'] = this.period;
    out[prefix + 'pendingPeriod'] = this.pendingPeriod;
    out[prefix + 'switchTick'] = this.switchTick;
    out[prefix + 'frozen'] = this.frozen;
    out[prefix + 'outHeld'] = this.outHeld;
    out[prefix + 'nullUntil'] = this.nullUntil === Infinity ? -1 : this.nullUntil;
  }

  /** Invariants of one counter's fields (types were checked against the schema already). */
  static check(section: string, prefix: string, r: StateRecord): void {
    const f = (name: string): number => num(r, prefix + name);
    const what = (name: string): string => `${prefix}${name}`;
    require(section, f('access') >= 1 && f('access') <= 3, `${what('access')} must be 1, 2 or 3`);
    require(section, f('modeBits') <= 7, `${what('modeBits')} must be 0-7`);
    require(section, f('phase') <= CounterPhase.Held, `${what('phase')} ${f('phase')} is not a counter phase`);
    require(section, f('latchBytes') <= 2, `${what('latchBytes')} must be 0-2`);
    const modulus = bool(r, prefix + 'bcd') ? 10000 : 0x10000;
    for (const name of ['count', 'period'] as const) {
      require(section, f(name) >= 1 && f(name) <= modulus, `${what(name)} ${f(name)} is outside 1..${modulus}`);
    }
    require(section, f('pendingPeriod') <= modulus, `${what('pendingPeriod')} is outside 0..${modulus}`);
    require(section, f('frozen') < modulus, `${what('frozen')} is outside the counter range`);
    for (const name of ['baseTick', 'baseRemaining', 'switchTick', 'nullUntil'] as const) {
      require(section, Number.isSafeInteger(f(name)), `${what(name)} must be an integer tick`);
    }
    require(section, f('nullUntil') >= -1, `${what('nullUntil')} must be a tick or -1`);
  }

  loadFrom(prefix: string, r: StateRecord): void {
    const f = (name: string): number => num(r, prefix + name);
    this.modeBits = f('modeBits');
    this.bcd = bool(r, prefix + 'bcd');
    this.access = f('access') as PitAccess;
    this.count = f('count');
    this.writeMsbNext = bool(r, prefix + 'writeMsbNext');
    this.writeLsb = f('writeLsb');
    this.readMsbNext = bool(r, prefix + 'readMsbNext');
    this.latchCount = f('latchCount');
    this.latchBytes = f('latchBytes');
    this.latchMsbNext = bool(r, prefix + 'latchMsbNext');
    this.statusLatched = bool(r, prefix + 'statusLatched');
    this.latchStatus = f('latchStatus');
    this.gate = bool(r, prefix + 'gate');
    this.phase = f('phase') as CounterPhase;
    this.baseTick = f('baseTick');
    this.baseRemaining = f('baseRemaining');
    this.period = f('period');
    this.pendingPeriod = f('pendingPeriod');
    this.switchTick = f('switchTick');
    this.frozen = f('frozen');
    this.outHeld = bool(r, prefix + 'outHeld');
    this.nullUntil = f('nullUntil') === -1 ? Infinity : f('nullUntil');
  }
}

/** OUT of a free-running mode 2 or 3 counter loaded with `n` at tick `base`, at tick `t`. */
function regimeOut(mode: number, base: number, n: number, t: number): boolean {
  if (t < base || n < 2) return true;
  const p = (t - base) % n;
  // Mode 2: low for the one clock when the count is 1. Mode 3: high for ⌈n/2⌉ clocks, then low.
  return mode === 2 ? p !== n - 1 : p < Math.ceil(n / 2);
}

/** First tick after `t` at which a mode 2/3 regime's OUT changes. */
function regimeNext(mode: number, base: number, n: number, t: number): number {
  if (n < 2) return Infinity;
  // Offsets (from base) of the changes within one period: fall then rise.
  const fall = mode === 2 ? n - 1 : Math.ceil(n / 2);
  const m = t + 1 - base; // smallest offset strictly after t
  if (m <= 0) return base + fall; // first change of the first period
  const k = Math.floor(m / n);
  const q = m - k * n; // position within period k
  if (q === 0) return base + k * n; // the reload (rise) is exactly at m
  if (q <= fall) return base + k * n + fall;
  return base + (k + 1) * n;
}

/**
 * Mode 3 count at position `p` of a period `n` (datasheet mode 3: decrement by two; an odd count
 * loads n-1 in the high half and takes three off on the first clock of the low half).
 */
function squareWaveCount(n: number, p: number): number {
  const even = n & ~1;
  const high = Math.ceil(n / 2);
  if (p < high) return Math.max(0, even - 2 * p);
  const q = p - high;
  if ((n & 1) === 0) return even - 2 * q;
  return q === 0 ? even : Math.max(0, even - 1 - 2 * q);
}

function wrap(v: number, m: number): number {
  const r = v % m;
  return r < 0 ? r + m : r;
}

export function toBcd(v: number): number {
  return (v % 10) | (Math.floor(v / 10) % 10) << 4 | (Math.floor(v / 100) % 10) << 8 | (Math.floor(v / 1000) % 10) << 12;
}

/** BCD digits to a number; a nibble above 9 counts as its binary value (the chip does not check). */
export function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}
