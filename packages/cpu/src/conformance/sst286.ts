/**
 * Runner for the SingleStepTests 80286 real-mode vectors (see shared/conformance/README.md):
 * each test loads registers and RAM into a real-mode CPU with 16 MiB of flat RAM, runs until the
 * HLT that follows the instruction (or the exception handler), and compares registers, FLAGS
 * under `x386.flags_mask`, and RAM. I/O reads return 0xFF.
 *
 * Node-only (reads gzip files); the file-system modules are imported lazily so that importing
 * @ferry86/cpu in a browser does not pull them in.
 */
import { Mmu, PhysicalMemory } from '@ferry86/mmu';
import { ATTR_REAL_CODE, ATTR_REAL_DATA, CR0_ET, CS, DS, ES, SS } from '../constants.ts';
import { Cpu } from '../cpu.ts';
import { NO_INTERRUPTS, NO_IO } from '../types.ts';

export interface ConformanceFailure {
  idx: number;
  name: string;
  why: string;
}

export interface ConformanceFileResult {
  name: string;
  passed: number;
  failed: number;
  failures: ConformanceFailure[];
}

export interface ConformanceResult {
  files: ConformanceFileResult[];
  passed: number;
  failed: number;
}

export interface ConformanceOptions {
  /** Which files to run: a substring or pattern of the file name, or a predicate. */
  filter?: string | RegExp | ((name: string) => boolean);
}

type Regs16 = Record<string, number>;
interface SstState {
  regs: Regs16;
  ram: [number, number][];
}
interface SstTest {
  idx: number;
  name: string;
  bytes: number[];
  initial: SstState;
  final: SstState;
  exception?: { number: number; flag_address: number };
  x386: { flags_mask: number; gp13_may_be_ss12: boolean };
}

const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
const SEGS: [string, number][] = [
  ['es', ES],
  ['cs', CS],
  ['ss', SS],
  ['ds', DS],
];
/** Instruction budget per test: REP string ops re-execute once per 16 Ki iterations. */
const BUDGET = 1000;

/** One machine reused for every test of a run. */
class Harness {
  readonly phys = new PhysicalMemory({ ramSize: 16 << 20 });
  readonly mmu = new Mmu(this.phys);
  // The vectors come from an 80286 with an empty coprocessor socket.
  readonly cpu = new Cpu(this.mmu, NO_IO, NO_INTERRUPTS, { fpu: false });

  run(t: SstTest): string | null {
    const { phys, cpu } = this;
    const init = t.initial;
    for (const [a, v] of init.ram) phys.writePhys8(a, v);
    let aliasSs = false;
    if (t.x386.gp13_may_be_ss12 && t.exception?.number === 13) {
      // A 386 raises #SS where the 286 raised #GP: point vector 12 at the #GP handler.
      aliasSs = true;
      for (let k = 0; k < 4; k++) phys.writePhys8(48 + k, phys.readPhys8(52 + k));
    }
    try {
      this.load(init.regs);
      let steps = 0;
      while (!cpu.halted && steps < BUDGET) {
        steps += cpu.run(BUDGET - steps);
        if (cpu.stopReason === 'shutdown' || cpu.stopReason === 'absent') break;
      }
      if (cpu.shutdown) return 'triple fault (shutdown)';
      if (!cpu.halted) return `did not reach HLT within ${BUDGET} instructions`;
      return this.compare(t);
    } catch (e) {
      return `host error: ${(e as Error).message}`;
    } finally {
      for (const [a] of init.ram) phys.writePhys8(a, 0);
      for (const [a] of t.final.ram) phys.writePhys8(a, 0);
      if (aliasSs) for (let k = 0; k < 4; k++) phys.writePhys8(48 + k, 0);
    }
  }

  private load(r: Regs16): void {
    const cpu = this.cpu;
    cpu.halted = false;
    cpu.shutdown = false;
    cpu.shadow = false;
    cpu.pendingIrq = -1;
    cpu.cr0 = CR0_ET;
    cpu.mmu.setControl(cpu.cr0, 0, 0);
    cpu.cpl = 0;
    cpu.idtrBase = 0;
    cpu.idtrLimit = 0x3ff;
    cpu.fOp = 0;
    cpu.flags = (r.flags! & 0x7fd7) | 2;
    for (const [name, seg] of SEGS) {
      const sel = r[name]!;
      cpu.setSegCache(seg, sel, sel << 4, 0xffff, seg === CS ? ATTR_REAL_CODE : ATTR_REAL_DATA);
    }
    for (let n = 0; n < 8; n++) cpu.r32[n] = r[GPR16[n]!]!;
    cpu.eip = r.ip!;
  }

  private compare(t: SstTest): string | null {
    const cpu = this.cpu;
    const fin = t.final.regs;
    const ini = t.initial.regs;
    const bad: string[] = [];
    const want = (k: string): number => (fin[k] ?? ini[k])!;
    for (let n = 0; n < 8; n++) {
      const k = GPR16[n]!;
      const got = cpu.r16[n * 2]!;
      if (got !== want(k)) bad.push(`${k}=${hex(got)} want ${hex(want(k))}`);
    }
    for (const [k, seg] of SEGS) {
      const got = cpu.segSel[seg]!;
      if (got !== want(k)) bad.push(`${k}=${hex(got)} want ${hex(want(k))}`);
    }
    if ((cpu.eip & 0xffff) !== want('ip')) bad.push(`ip=${hex(cpu.eip)} want ${hex(want('ip'))}`);
    const mask = t.x386.flags_mask;
    const flags = cpu.getEflags() & 0xffff;
    if ((flags & mask) !== (want('flags') & mask)) {
      bad.push(`flags=${hex(flags)} want ${hex(want('flags'))} (diff ${hex((flags ^ want('flags')) & mask)})`);
    }
    // The pushed FLAGS word sits above IP and CS at the final SS:SP. (The data set's
    // flag_address is one byte off when SP is odd, so it is recomputed here.)
    const fa = t.exception ? ((want('ss') << 4) + ((want('sp') + 4) & 0xffff)) : -1;
    for (const [a, v] of t.final.ram) {
      const got = this.phys.readPhys8(a);
      let m = 0xff;
      if (a === fa) m = mask & 0xff;
      else if (a === fa + 1) m = (mask >> 8) & 0xff;
      if ((got & m) !== (v & m)) bad.push(`[${hex(a)}]=${hex(got)} want ${hex(v)}`);
    }
    return bad.length === 0 ? null : bad.join(', ');
  }
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

async function readTests(path: string): Promise<SstTest[]> {
  const { readFile } = await import('node:fs/promises');
  const { gunzipSync } = await import('node:zlib');
  const data = await readFile(path);
  const text = path.endsWith('.gz') ? gunzipSync(data).toString('utf8') : data.toString('utf8');
  return JSON.parse(text) as SstTest[];
}

function runTests(h: Harness, name: string, tests: SstTest[]): ConformanceFileResult {
  const res: ConformanceFileResult = { name, passed: 0, failed: 0, failures: [] };
  for (const t of tests) {
    const why = h.run(t);
    if (why === null) res.passed++;
    else {
      res.failed++;
      res.failures.push({ idx: t.idx, name: t.name, why });
    }
  }
  return res;
}

/** Runs one sst286 file (`OP.json.gz`). */
export async function runConformanceFile(path: string): Promise<ConformanceFileResult> {
  const tests = await readTests(path);
  const name = path.split('/').pop()!.replace(/\.json(\.gz)?$/, '');
  return runTests(new Harness(), name, tests);
}

/** Runs every `*.json.gz` file in `dir` (optionally filtered by name). */
export async function runConformanceDir(dir: string, opts: ConformanceOptions = {}): Promise<ConformanceResult> {
  const { readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const f = opts.filter;
  const accept = (n: string): boolean =>
    f === undefined ? true : typeof f === 'string' ? n.includes(f) : f instanceof RegExp ? f.test(n) : f(n);
  const names = (await readdir(dir)).filter((n) => /\.json(\.gz)?$/.test(n) && accept(n)).sort();
  const h = new Harness();
  const out: ConformanceResult = { files: [], passed: 0, failed: 0 };
  for (const n of names) {
    const r = runTests(h, n.replace(/\.json(\.gz)?$/, ''), await readTests(join(dir, n)));
    out.files.push(r);
    out.passed += r.passed;
    out.failed += r.failed;
  }
  return out;
}
