import { describe, expect, it } from 'vitest';
import {
  createPcMachine,
  LazyRestorer,
  recordWorkingSet,
  restoreSnapshot,
  saveSnapshot,
  SnapshotFormatError,
  stateDigest,
  streamDeflateCodec,
  type MigratablePc,
} from '../src/index.ts';
import { bootToyos, runTo } from './toyos-machine.ts';

/** Bigger than the other tests' machines so that loading RAM is a visible part of a restore. */
const MIB = 64;
const CMDLINE = 'workers=2 pages=256';
const WINDOW = 300_000;

function snapshotWithWorkingSet(): { bytes: Uint8Array; ws: Uint32Array; m: MigratablePc } {
  const { m } = bootToyos(4_000_000, CMDLINE, MIB);
  const ws = recordWorkingSet(m, m.pc.phys.presence, WINDOW);
  return { bytes: saveSnapshot(m, { workingSet: ws }), ws, m };
}

/** Runs `step` until COM1 output (since `from`) shows toyos answered `echo lazy`. */
function untilAnswered(out: () => string, step: () => void): void {
  for (let i = 0; i < 10_000 && !out().includes('\r\nlazy\r\n'); i++) step();
  expect(out()).toContain('\r\nlazy\r\n');
}

function withOutput(m: MigratablePc): () => string {
  let s = '';
  m.setSerialOutput((b) => (s += String.fromCharCode(b)));
  return () => s;
}

describe('lazy restore of toyos', () => {
  it('recording the working set does not change the guest', () => {
    const a = bootToyos(4_000_000, CMDLINE, MIB).m;
    const b = bootToyos(4_000_000, CMDLINE, MIB).m;
    runTo(a, a.instructionCount + WINDOW);
    const ws = recordWorkingSet(b, b.pc.phys.presence, WINDOW);
    expect(b.instructionCount).toBe(a.instructionCount);
    expect(stateDigest(b)).toBe(stateDigest(a));
    expect(b.pc.phys.presence.absentCount).toBe(0);
    // Kernel code and data, page tables and the workers' pages, each once.
    expect(ws.length).toBeGreaterThan(10);
    expect(new Set(ws).size).toBe(ws.length);
  });

  it('starts before RAM is loaded, answers on COM1, and ends digest-identical to an eager restore', () => {
    const { bytes, ws } = snapshotWithWorkingSet();
    const input = new TextEncoder().encode('echo lazy\r');

    type Mode = 'eager' | 'lazy' | 'lazy+ws';
    const restoreAndAnswer = (mode: Mode) => {
      const t0 = performance.now();
      const m = createPcMachine({ memoryMiB: MIB });
      const out = withOutput(m);
      let lazy: LazyRestorer | null = null;
      if (mode === 'eager') {
        restoreSnapshot(m, bytes);
      } else {
        lazy = LazyRestorer.open(m, m.pc.phys.presence, bytes);
        expect(Array.from(lazy.workingSetPages)).toEqual(Array.from(ws));
        lazy.start({ preloadWorkingSet: mode === 'lazy+ws' });
      }
      const step = (n: number): void => void (lazy ? lazy.run(n) : m.run(n));
      m.serialInput(input);
      step(1);
      const first = performance.now() - t0;
      const loadedAtFirst = lazy ? m.memory.pageCount - lazy.stats.remaining : m.memory.pageCount;
      untilAnswered(out, () => step(50_000));
      const answer = performance.now() - t0;
      return { m, out, lazy, first, answer, loadedAtFirst, stats: lazy ? { ...lazy.stats } : null };
    };
    // One unmeasured round first, so the figures compare restore paths rather than JIT warm-up.
    for (const mode of ['eager', 'lazy', 'lazy+ws'] as const) restoreAndAnswer(mode);
    const eager = restoreAndAnswer('eager');
    const lazyRuns = [restoreAndAnswer('lazy'), restoreAndAnswer('lazy+ws')];
    const lines = [
      `lazy restore, toyos ${MIB} MiB, snapshot ${(bytes.length / 1048576).toFixed(2)} MiB, working set ${ws.length} pages (last ${WINDOW} instructions):`,
      `  eager:   first instruction ${eager.first.toFixed(1)} ms, "echo" answered ${eager.answer.toFixed(1)} ms`,
    ];
    for (const [name, r] of [['lazy:   ', lazyRuns[0]!], ['lazy+ws:', lazyRuns[1]!]] as const) {
      lines.push(
        `  ${name} first instruction ${r.first.toFixed(1)} ms (${r.loadedAtFirst} pages in), "echo" answered ${r.answer.toFixed(1)} ms ` +
          `(${r.stats!.demandFetches} demand fetches, ${r.stats!.prefetched} prefetched, ${r.stats!.remaining} of ${r.m.memory.pageCount} still absent)`,
      );
    }
    console.log(lines.join('\n'));
    const e = eager.m;
    const outE = eager.out;
    for (const { m: l, out: outL, lazy } of lazyRuns) {
      expect(outL()).toBe(outE().slice(0, outL().length));
      const target = Math.max(e.instructionCount, l.instructionCount) + 1_000_000;
      runTo(e, target);
      while (l.instructionCount < target) lazy!.run(target - l.instructionCount);
      lazy!.finish();
      expect(lazy!.complete).toBe(true);
      expect(l.pc.phys.presence.absentCount).toBe(0);
      expect(stateDigest(l)).toBe(stateDigest(e));
      expect(outL()).toBe(outE());
    }
  });

  it('refuses a corrupt snapshot before the machine changes', () => {
    const { bytes } = snapshotWithWorkingSet();
    const bad = bytes.slice();
    bad[bad.length - 100]! ^= 1;
    const l = createPcMachine({ memoryMiB: MIB });
    const before = stateDigest(l);
    expect(() => LazyRestorer.open(l, l.pc.phys.presence, bad)).toThrow(SnapshotFormatError);
    expect(stateDigest(l)).toBe(before);
    expect(l.pc.phys.presence.absentCount).toBe(0);
  });

  it('openAsync reads a compressed snapshot with an asynchronous-only decompressor (browsers)', async () => {
    const { m } = bootToyos(4_000_000, CMDLINE, MIB);
    const ws = recordWorkingSet(m, m.pc.phys.presence, WINDOW);
    const bytes = saveSnapshot(m, { workingSet: ws, compress: true });
    const eager = createPcMachine({ memoryMiB: MIB });
    restoreSnapshot(eager, bytes);
    const l = createPcMachine({ memoryMiB: MIB });
    const web = streamDeflateCodec()!;
    expect(() => LazyRestorer.open(l, l.pc.phys.presence, bytes, { codec: web })).toThrow(/pushAsync/);
    const lazy = await LazyRestorer.openAsync(l, l.pc.phys.presence, bytes, { codec: web });
    expect(Array.from(lazy.workingSetPages)).toEqual(Array.from(ws));
    lazy.start({ preloadWorkingSet: true });
    const target = eager.instructionCount + 500_000;
    runTo(eager, target);
    while (l.instructionCount < target) lazy.run(target - l.instructionCount);
    lazy.finish();
    expect(stateDigest(l)).toBe(stateDigest(eager));
  });
});
