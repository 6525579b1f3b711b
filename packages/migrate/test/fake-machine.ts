import { PhysicalMemory, StateError, type SectionSchema, type StateRecord, type Stateful } from '@ferry86/mmu';
import type { MigratableMachine } from '../src/index.ts';

/** A CPU stand-in whose state exercises every scalar field type and a schema upgrade (v1 → v2). */
export class FakeCpu implements Stateful {
  readonly sectionName = 'cpu0';
  static readonly schemaV2: SectionSchema = {
    type: 'fake-cpu',
    version: 2,
    minVersion: 1,
    fields: { lcg: 'u32', count: 'f64', flags: 'u8', label: 'string', big: 'u64', neg: 'i32', on: 'bool', regs: 'u32[]', w: 'u16' },
    upgrade: (from, r) => {
      if (from !== 1) throw new Error(`no upgrade from ${from}`);
      return { ...r, on: true };
    },
  };
  schema: SectionSchema = FakeCpu.schemaV2;
  lcg = 12345;
  count = 0;
  flags = 0x42;
  label = 'fake cpu ✓';
  big = 0xfedcba9876543210n;
  neg = -7;
  on = false;
  regs = new Uint32Array([1, 2, 3, 0xffffffff]);
  w = 0xbeef;

  saveState(): StateRecord {
    return { lcg: this.lcg, count: this.count, flags: this.flags, label: this.label, big: this.big, neg: this.neg, on: this.on, regs: this.regs.slice(), w: this.w };
  }
  loadState(r: StateRecord): void {
    this.lcg = r.lcg as number;
    this.count = r.count as number;
    this.flags = r.flags as number;
    this.label = r.label as string;
    this.big = r.big as bigint;
    this.neg = r.neg as number;
    this.on = r.on as boolean;
    this.regs = (r.regs as Uint32Array).slice();
    this.w = r.w as number;
  }
}

/** A device stand-in with byte and array fields and an invariant check. */
export class FakeDevice implements Stateful {
  readonly sectionName = 'dev0';
  readonly schema: SectionSchema = {
    type: 'fake-device',
    version: 1,
    fields: { fifo: 'bytes', w16: 'u16[]', i32s: 'i32[]', f64s: 'f64[]', port: 'u16' },
  };
  fifo = new Uint8Array([1, 2, 3]);
  w16 = new Uint16Array([0xffff, 7]);
  i32s = new Int32Array([-1, 5]);
  f64s = new Float64Array([Math.PI, -0, Infinity]);
  port = 0x3f8;

  saveState(): StateRecord {
    return { fifo: this.fifo.slice(), w16: this.w16.slice(), i32s: this.i32s.slice(), f64s: this.f64s.slice(), port: this.port };
  }
  checkState(r: StateRecord): void {
    if ((r.port as number) > 0x3ff) throw new StateError(this.sectionName, `port 0x${(r.port as number).toString(16)} is not an ISA port`);
  }
  loadState(r: StateRecord): void {
    this.fifo = (r.fifo as Uint8Array).slice();
    this.w16 = (r.w16 as Uint16Array).slice();
    this.i32s = (r.i32s as Int32Array).slice();
    this.f64s = (r.f64s as Float64Array).slice();
    this.port = r.port as number;
  }
}

export interface FakeConfig {
  ramKiB: number;
  /** Pages the guest writes most (the working set); it also writes elsewhere now and then. */
  hotPages: number;
}

/**
 * A machine whose "guest" is an LCG writing RAM through PhysicalMemory (so real dirty logs see
 * it). Its whole behaviour derives from its state, so a migrated copy continues identically.
 */
export class FakeMachine implements MigratableMachine {
  readonly memory: PhysicalMemory;
  readonly cpu = new FakeCpu();
  readonly dev = new FakeDevice();
  constructor(readonly config: FakeConfig) {
    this.memory = new PhysicalMemory({ ramSize: config.ramKiB * 1024 });
  }
  get instructionCount(): number {
    return this.cpu.count;
  }
  stateParts(): Stateful[] {
    return [this.memory, this.cpu, this.dev];
  }
  run(max: number): { reason: string; instructions: number } {
    const mem = this.memory;
    const pages = mem.pageCount;
    const hot = Math.min(this.config.hotPages, pages);
    let x = this.cpu.lcg;
    for (let i = 0; i < max; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const page = (x & 0xf000) === 0 ? (x >>> 8) % pages : (x >>> 8) % hot;
      mem.writePhys32(page * 4096 + (x & 0xffc), x);
    }
    this.cpu.lcg = x;
    this.cpu.count += max;
    return { reason: 'limit', instructions: max };
  }
}

/**
 * Fills some pages with recognisable data and leaves the rest zero. Writes RAM directly, so it
 * tells the memory which pages it wrote (markWritten), as every writer of `ram` must.
 */
export function scribble(m: FakeMachine, everyNth = 3): void {
  const ram = m.memory.ram;
  for (let p = 0; p < m.memory.pageCount; p += everyNth) {
    for (let i = 0; i < 4096; i += 64) ram[p * 4096 + i] = (p * 31 + i) & 0xff || 1;
    m.memory.markWritten(p);
  }
}

/** The fake guest prints one letter every OUTPUT_EVERY instructions. */
export const OUTPUT_EVERY = 500;

/** The serial output a fake guest that executed `instructions` has produced in total. */
export function expectedFakeOutput(instructions: number): string {
  let s = '';
  for (let c = 1; c * OUTPUT_EVERY <= instructions; c++) s += String.fromCharCode(97 + (c % 26));
  return s;
}

/** FakeMachine with a serial line, for the worker runtime. Input bytes steer the guest's LCG. */
export class FakeHostedMachine extends FakeMachine {
  private sink: ((b: number) => void) | null = null;
  inputBytes = 0;

  serialInput(bytes: Uint8Array): void {
    for (const b of bytes) this.cpu.lcg = (Math.imul(this.cpu.lcg ^ b, 31) + 7) >>> 0;
    this.inputBytes += bytes.length;
  }

  setSerialOutput(sink: ((b: number) => void) | null): void {
    this.sink = sink;
  }

  override run(max: number): { reason: string; instructions: number } {
    const start = this.cpu.count;
    const r = super.run(max);
    for (let c = Math.floor(start / OUTPUT_EVERY) + 1; c * OUTPUT_EVERY <= start + max; c++) this.sink?.(97 + (c % 26));
    return r;
  }
}
