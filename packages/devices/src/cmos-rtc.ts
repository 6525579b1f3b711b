/**
 * Motorola MC146818A real-time clock with its 128 bytes of CMOS RAM, as on a PC/AT: index port
 * 0x70 (bit 7 masks NMI), data port 0x71, interrupt output on IRQ8 (slave PIC input 0).
 *
 * The clock is derived, never ticked: the calendar time is `baseSeconds` at guest time `baseNs`
 * and advances one second per guest second (DESIGN §2.3), so what the guest reads is a pure
 * function of the machine's history. Flags (PF/AF/UF in register C) are computed on demand for
 * the interval since they were last brought up to date; a clock event is scheduled only while an
 * enabled interrupt (PIE/AIE/UIE) can fire.
 *
 * Register map (datasheet "Address map"): 0-9 time, alarm and date; A-D control/status;
 * 0x0E-0x7F battery-backed RAM, where the PC BIOS keeps its configuration (memory sizes at
 * 0x15-0x18, 0x30-0x31, 0x34-0x35, the century at 0x32).
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { bool, bytes, checkSchema, num, require } from './stateful-util.ts';
import type { ClockTimer, VirtualClock } from './virtual-clock.ts';

// Register indexes.
const SEC = 0x00;
const SEC_ALARM = 0x01;
const MIN = 0x02;
const MIN_ALARM = 0x03;
const HOUR = 0x04;
const HOUR_ALARM = 0x05;
const WEEKDAY = 0x06;
const DAY = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
/** Century, kept by the PC's RTC (IBM AT convention; ACPI FADT points here too). */
const CENTURY = 0x32;

// Register A.
const A_UIP = 0x80;
const A_DV_MASK = 0x70;
/** Divider bits 010: the 32.768 kHz time base, oscillator running, clock counting. */
const A_DV_NORMAL = 0x20;
// Register B.
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_SQWE = 0x08;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
// Register C.
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
// Register D.
const D_VRT = 0x80;

const NS_PER_S = 1e9;
/** Update cycle length with a 32.768 kHz time base (datasheet tUC). */
const UPDATE_CYCLE_NS = 1984e3;
/** UIP rises this long before the update cycle begins (datasheet tBUC). */
const UIP_LEAD_NS = 244e3;
const TIMEBASE_HZ = 32768;
/** Alarm bytes with the two high bits set match any value ("don't care", datasheet). */
const ALARM_DONT_CARE = 0xc0;
/** Checksummed BIOS configuration area 0x10-0x2D; sum at 0x2E (high) / 0x2F (low). */
const CHECKSUM_FROM = 0x10;
const CHECKSUM_TO = 0x2d;

/** 2024-01-01T00:00:00Z: the clock's start in deterministic mode unless configured. */
export const DEFAULT_RTC_START_MS = Date.UTC(2024, 0, 1);

const RTC_SCHEMA: SectionSchema = {
  type: 'mc146818',
  version: 1,
  fields: {
    index: 'u8',
    nmiMasked: 'bool',
    ram: 'bytes',
    baseSeconds: 'f64',
    baseNs: 'f64',
    flagsSyncedNs: 'f64',
    irqLevel: 'bool',
  },
};

export interface CmosRtcOptions {
  clock: VirtualClock;
  /** The IRQ# output, as a level (true: interrupt requested). */
  setIrq: (level: boolean) => void;
  /** Calendar time at guest time 0, in ms since 1970-01-01 UTC (default DEFAULT_RTC_START_MS). */
  startMs?: number;
  /** Guest RAM in bytes, for the BIOS memory-size fields. */
  ramBytes?: number;
  sectionName?: string;
  timerName?: string;
}

export class CmosRtc implements Stateful {
  readonly sectionName: string;
  readonly schema = RTC_SCHEMA;

  /** The 128 bytes; time registers here are valid only while the clock is stopped. */
  private readonly ram = new Uint8Array(128);
  private index = 0;
  private nmi = false;
  /** Whole calendar seconds since 1970 at guest time `baseNs` (a second boundary). */
  private baseSeconds = 0;
  private baseNs = 0;
  /** PF/AF/UF in ram[REG_C] account for everything up to this guest time. */
  private flagsSyncedNs = 0;
  private irqLevel = false;
  private readonly clock: VirtualClock;
  private readonly setIrqLine: (level: boolean) => void;
  private readonly timer: ClockTimer;
  private readonly startMs: number;
  private readonly ramBytes: number;

  constructor(opts: CmosRtcOptions) {
    this.sectionName = opts.sectionName ?? 'rtc';
    this.clock = opts.clock;
    this.setIrqLine = opts.setIrq;
    this.startMs = opts.startMs ?? DEFAULT_RTC_START_MS;
    if (!Number.isFinite(this.startMs)) throw new RangeError(`RTC start ${this.startMs} is not a time`);
    this.ramBytes = opts.ramBytes ?? 0;
    this.timer = opts.clock.timer(opts.timerName ?? `${this.sectionName}.event`, (due) => this.onEvent(due));
    this.powerOn();
  }

  attach(bus: IoBus): void {
    bus.register(0x70, { in8: () => 0xff, out8: (_p, v) => this.writeIndex(v) }, this.sectionName);
    bus.register(0x71, { in8: () => this.readData(), out8: (_p, v) => this.writeData(v) }, this.sectionName);
  }

  /** NMI disabled by the last write to port 0x70 (bit 7). */
  get nmiMasked(): boolean {
    return this.nmi;
  }

  /** The IRQ# output (true: asserted). */
  get irq(): boolean {
    return this.irqLevel;
  }

  /** Current calendar time in ms since 1970 UTC, whole seconds (what the guest would read). */
  currentTimeMs(): number {
    return this.currentSeconds() * 1000;
  }

  /** A byte of CMOS RAM as the guest would read it (no side effects). */
  peek(index: number): number {
    if (index <= YEAR || index === CENTURY) return this.timeRegister(index & 0x7f);
    if (index === REG_A) return this.regA();
    if (index === REG_D) return D_VRT;
    return this.ram[index & 0x7f]!;
  }

  /** Battery-backed contents as a fresh battery would leave them, with the BIOS fields filled in. */
  private powerOn(): void {
    this.ram.fill(0);
    this.ram[REG_A] = A_DV_NORMAL | 0x06; // 1024 Hz periodic rate, as the PC BIOS programs it
    this.ram[REG_B] = B_24H;
    this.ram[REG_D] = D_VRT;
    this.baseSeconds = Math.floor(this.startMs / 1000);
    this.baseNs = 0;
    this.flagsSyncedNs = 0;
    this.writeBiosFields();
  }

  /** The BIOS configuration a PC's setup program would have stored (IBM AT technical reference). */
  private writeBiosFields(): void {
    const r = this.ram;
    const kib = Math.floor(this.ramBytes / 1024);
    const base = Math.min(640, kib);
    r[0x15] = base & 0xff;
    r[0x16] = base >> 8;
    const ext = Math.min(0xffff, Math.max(0, kib - 1024));
    r[0x17] = r[0x30] = ext & 0xff;
    r[0x18] = r[0x31] = ext >> 8;
    // RAM above 16 MiB in 64 KiB units (limited to below 4 GiB).
    const above16 = Math.min(0xffff, Math.max(0, Math.floor((this.ramBytes - 16 * 1048576) / 65536)));
    r[0x34] = above16 & 0xff;
    r[0x35] = above16 >> 8;
    r[0x10] = 0; // no floppy drives
    r[0x12] = 0; // no hard disks
    r[0x14] = 0; // equipment: no diskette, EGA/VGA display (bits 5-4 = 00), no coprocessor reported
    r[0x0e] = 0; // diagnostic status: all good
    this.updateChecksum();
  }

  private updateChecksum(): void {
    let sum = 0;
    for (let i = CHECKSUM_FROM; i <= CHECKSUM_TO; i++) sum += this.ram[i]!;
    this.ram[0x2e] = (sum >> 8) & 0xff;
    this.ram[0x2f] = sum & 0xff;
  }

  /**
   * The RESET# pin (datasheet "RESET"): clears the interrupt enables and flags; the time,
   * the alarm and the RAM survive, which is why a PC BIOS can read the shutdown byte (0x0F)
   * after a CPU reset.
   */
  reset(): void {
    this.sync(this.clock.nowNs());
    this.ram[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    this.ram[REG_C] = 0;
    this.index = 0;
    this.nmi = false;
    this.updateIrq();
    this.reschedule();
  }

  // ---- ports ------------------------------------------------------------------------------------

  writeIndex(v: number): void {
    this.nmi = (v & 0x80) !== 0;
    this.index = v & 0x7f;
  }

  readData(): number {
    const i = this.index;
    switch (i) {
      case REG_A:
        return this.regA();
      case REG_C: {
        // Reading C returns the flags and clears them, which also releases IRQ#.
        this.sync(this.clock.nowNs());
        const v = this.ram[REG_C]!;
        this.ram[REG_C] = 0;
        this.updateIrq();
        return v;
      }
      case REG_D:
        return D_VRT;
      default:
        if (i <= YEAR || i === CENTURY) return this.timeRegister(i);
        return this.ram[i]!;
    }
  }

  writeData(v: number): void {
    const i = this.index;
    const now = this.clock.nowNs();
    switch (i) {
      case REG_A: {
        this.sync(now);
        const wasRunning = this.running();
        const dvOld = this.ram[REG_A]! & A_DV_MASK;
        if (wasRunning) this.freeze();
        this.ram[REG_A] = v & 0x7f; // UIP is read-only
        if (!wasRunning && this.running()) {
          // Leaving divider reset, the first update comes half a second later (datasheet
          // "Divider stages"); otherwise the clock simply resumes from the frozen registers.
          this.thaw(now, dvOld !== A_DV_NORMAL ? now - NS_PER_S / 2 : now);
        }
        break;
      }
      case REG_B: {
        this.sync(now);
        const old = this.ram[REG_B]!;
        let nb = v;
        if ((v & B_SET) !== 0) nb &= ~B_UIE; // setting SET clears UIE (datasheet, register B)
        if ((old & B_SET) === 0 && (nb & B_SET) !== 0 && this.running()) this.freeze();
        this.ram[REG_B] = nb;
        if ((old & B_SET) !== 0 && (nb & B_SET) === 0 && (this.ram[REG_A]! & A_DV_MASK) === A_DV_NORMAL) this.thaw(now, now);
        break;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        if (i <= YEAR || i === CENTURY) {
          this.sync(now);
          const wasRunning = this.running();
          if (wasRunning) this.freeze();
          this.ram[i] = v;
          if (wasRunning) this.thaw(now, this.baseNsKeepingPhase(now));
        } else {
          this.ram[i] = v;
        }
        return;
    }
    this.updateIrq();
    this.reschedule();
  }

  // ---- time -------------------------------------------------------------------------------------

  /** The clock counts when the divider is in normal mode and SET is clear. */
  private running(): boolean {
    return (this.ram[REG_A]! & A_DV_MASK) === A_DV_NORMAL && (this.ram[REG_B]! & B_SET) === 0;
  }

  private currentSeconds(): number {
    if (!this.running()) return this.secondsFromRegisters();
    return this.baseSeconds + Math.floor((this.clock.nowNs() - this.baseNs) / NS_PER_S);
  }

  /** Copies the running time into the time registers (they now hold the time). */
  private freeze(): void {
    const s = this.currentSeconds();
    for (const i of [SEC, MIN, HOUR, WEEKDAY, DAY, MONTH, YEAR, CENTURY]) this.ram[i] = this.encodeField(i, s);
  }

  /** Starts counting from the time registers; the next second boundary is `phaseNs` + k s. */
  private thaw(now: number, phaseNs: number): void {
    this.baseSeconds = this.secondsFromRegisters();
    this.baseNs = phaseNs;
    this.flagsSyncedNs = now;
  }

  private baseNsKeepingPhase(now: number): number {
    return now - ((((now - this.baseNs) % NS_PER_S) + NS_PER_S) % NS_PER_S);
  }

  private regA(): number {
    const a = this.ram[REG_A]!;
    if (!this.running()) return a;
    // UIP is high from tBUC before the update cycle until the cycle ends at the second boundary,
    // so software that saw UIP low has at least 244 µs to read a consistent time.
    const phase = ((((this.clock.nowNs() - this.baseNs) % NS_PER_S) + NS_PER_S) % NS_PER_S);
    return phase >= NS_PER_S - UPDATE_CYCLE_NS - UIP_LEAD_NS ? a | A_UIP : a;
  }

  private timeRegister(i: number): number {
    if (!this.running()) return this.ram[i]!;
    if (i === SEC_ALARM || i === MIN_ALARM || i === HOUR_ALARM) return this.ram[i]!;
    return this.encodeField(i, this.currentSeconds());
  }

  /** Register `i` for calendar second `s`, in the data mode and hour format of register B. */
  private encodeField(i: number, s: number): number {
    const d = new Date(s * 1000);
    switch (i) {
      case SEC: return this.enc(d.getUTCSeconds());
      case MIN: return this.enc(d.getUTCMinutes());
      case HOUR: {
        const h = d.getUTCHours();
        if ((this.ram[REG_B]! & B_24H) !== 0) return this.enc(h);
        const h12 = h % 12 === 0 ? 12 : h % 12;
        return this.enc(h12) | (h >= 12 ? 0x80 : 0);
      }
      case WEEKDAY: return this.enc(d.getUTCDay() + 1);
      case DAY: return this.enc(d.getUTCDate());
      case MONTH: return this.enc(d.getUTCMonth() + 1);
      case YEAR: return this.enc(d.getUTCFullYear() % 100);
      case CENTURY: return this.enc(Math.floor(d.getUTCFullYear() / 100));
      default: return this.ram[i]!;
    }
  }

  private secondsFromRegisters(): number {
    const r = this.ram;
    const sec = this.dec(r[SEC]!);
    const min = this.dec(r[MIN]!);
    let hour: number;
    if ((r[REG_B]! & B_24H) !== 0) hour = this.dec(r[HOUR]!);
    else hour = (this.dec(r[HOUR]! & 0x7f) % 12) + ((r[HOUR]! & 0x80) !== 0 ? 12 : 0);
    const day = this.dec(r[DAY]!);
    const month = this.dec(r[MONTH]!);
    const year = this.dec(r[CENTURY]!) * 100 + this.dec(r[YEAR]!);
    const ms = Date.UTC(year, month - 1, day, hour, min, sec);
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  }

  private enc(v: number): number {
    if ((this.ram[REG_B]! & B_DM_BINARY) !== 0) return v;
    return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
  }

  private dec(v: number): number {
    if ((this.ram[REG_B]! & B_DM_BINARY) !== 0) return v;
    return (v >> 4) * 10 + (v & 0x0f);
  }

  // ---- interrupts -------------------------------------------------------------------------------

  /** Periodic interrupt period from rate select RS3-0 (datasheet table 4), 0 when off. */
  private periodNs(): number {
    const rs = this.ram[REG_A]! & 0x0f;
    if (rs === 0) return 0;
    const dv = this.ram[REG_A]! & A_DV_MASK;
    if (dv !== A_DV_NORMAL) return 0;
    // With a 32.768 kHz base, RS = 1 and 2 give 256 and 128 Hz, not 32768 and 16384 Hz.
    const divider = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
    return (NS_PER_S * divider) / TIMEBASE_HZ;
  }

  /** Sets PF/UF/AF for every periodic edge and update cycle in (flagsSyncedNs, now]. */
  private sync(now: number): void {
    const from = this.flagsSyncedNs;
    if (now <= from) return;
    this.flagsSyncedNs = now;
    const p = this.periodNs();
    if (p > 0 && Math.floor(now / p) > Math.floor(from / p)) this.ram[REG_C] |= C_PF;
    if (!this.running()) return;
    const first = Math.floor((from - this.baseNs) / NS_PER_S) + 1; // first boundary after `from`
    const last = Math.floor((now - this.baseNs) / NS_PER_S);
    if (last < first) return;
    this.ram[REG_C] |= C_UF;
    if ((this.ram[REG_C]! & C_AF) === 0 && this.alarmMatchesBetween(this.baseSeconds + first, this.baseSeconds + last)) {
      this.ram[REG_C] |= C_AF;
    }
  }

  /** Whether the alarm matches any calendar second in [a, b]. Only h:m:s take part. */
  private alarmMatchesBetween(a: number, b: number): boolean {
    const span = Math.min(b - a, 86400);
    for (let s = b - span; s <= b; s++) {
      if (this.alarmMatches(s)) return true;
    }
    return false;
  }

  private alarmMatches(s: number): boolean {
    const r = this.ram;
    const sod = ((s % 86400) + 86400) % 86400;
    const checks: [number, number][] = [
      [SEC_ALARM, SEC], [MIN_ALARM, MIN], [HOUR_ALARM, HOUR],
    ];
    for (const [ai, ti] of checks) {
      const a = r[ai]!;
      if ((a & ALARM_DONT_CARE) === ALARM_DONT_CARE) continue;
      if (a !== this.encodeField(ti, sod)) return false;
    }
    return true;
  }

  private updateIrq(): void {
    const b = this.ram[REG_B]!;
    let c = this.ram[REG_C]! & (C_PF | C_AF | C_UF);
    const active = ((c & C_PF) !== 0 && (b & B_PIE) !== 0) || ((c & C_AF) !== 0 && (b & B_AIE) !== 0) || ((c & C_UF) !== 0 && (b & B_UIE) !== 0);
    if (active) c |= C_IRQF;
    this.ram[REG_C] = c;
    if (active !== this.irqLevel) {
      this.irqLevel = active;
      this.setIrqLine(active);
    }
  }

  /** Schedules the next moment an enabled interrupt can fire (nothing when none is enabled). */
  private reschedule(): void {
    const b = this.ram[REG_B]!;
    const now = this.clock.nowNs();
    let next = Infinity;
    const p = this.periodNs();
    if ((b & B_PIE) !== 0 && p > 0) next = (Math.floor(now / p) + 1) * p;
    if ((b & (B_UIE | B_AIE)) !== 0 && this.running()) {
      next = Math.min(next, this.baseNs + (Math.floor((now - this.baseNs) / NS_PER_S) + 1) * NS_PER_S);
    }
    if (next === Infinity) this.timer.cancel();
    else this.timer.schedule(next);
  }

  private onEvent(dueNs: number): void {
    this.sync(Math.max(dueNs, this.clock.nowNs()));
    this.updateIrq();
    this.reschedule();
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    return {
      index: this.index,
      nmiMasked: this.nmi,
      ram: this.ram.slice(),
      baseSeconds: this.baseSeconds,
      baseNs: this.baseNs,
      flagsSyncedNs: this.flagsSyncedNs,
      irqLevel: this.irqLevel,
    };
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    require(s, num(record, 'index') < 128, `index ${num(record, 'index')} is not a CMOS address (0..127)`);
    require(s, bytes(record, 'ram').length === 128, `CMOS RAM is ${bytes(record, 'ram').length} bytes, not 128`);
    for (const f of ['baseSeconds', 'baseNs', 'flagsSyncedNs']) {
      require(s, Number.isFinite(num(record, f)), `${f} is not a finite number`);
    }
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.index = num(record, 'index');
    this.nmi = bool(record, 'nmiMasked');
    this.ram.set(bytes(record, 'ram'));
    this.baseSeconds = num(record, 'baseSeconds');
    this.baseNs = num(record, 'baseNs');
    this.flagsSyncedNs = num(record, 'flagsSyncedNs');
    this.irqLevel = bool(record, 'irqLevel');
  }
}
