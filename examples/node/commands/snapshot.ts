/**
 * `ferry86 snapshot`: boots a Multiboot kernel with pure virtual time, runs it to exactly
 * instruction N (so the same command always writes the same snapshot) and saves a snapshot,
 * with the pages touched in the last instructions before it recorded as its working set
 * (lazy restore loads them first).
 */
import { createPcMachine, recordWorkingSet, stateDigest, writeSnapshotToFile, type MigratablePc, type SnapshotStats } from '@ferry86/migrate';
import { readFileSync } from 'node:fs';
import { UsageError, parseCount, parseOptions } from './usage.ts';

const USAGE = `usage: ferry86 snapshot --multiboot FILE --at N --out FILE [options]

  --multiboot FILE        Multiboot v1 kernel to boot
  --append CMDLINE        kernel command line
  --at N                  take the snapshot after exactly N instructions
  --mem MiB               guest RAM, default 64
  --working-set N         record the pages touched in the last N instructions before the
                          snapshot (default 1000000, 0 = none)
  --out FILE              where to write the snapshot
  --compress              compress RAM pages (DEFLATE; zero pages are left out either way)

Time is purely virtual (deterministic): the same command writes the same snapshot.
Progress goes to stderr.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: argv,
    options: {
      multiboot: { type: 'string' },
      append: { type: 'string' },
      at: { type: 'string' },
      mem: { type: 'string' },
      'working-set': { type: 'string' },
      out: { type: 'string' },
      compress: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.multiboot === undefined) throw new UsageError('--multiboot FILE is required');
  if (values.at === undefined) throw new UsageError('--at N is required');
  if (values.out === undefined) throw new UsageError('--out FILE is required');
  const at = parseCount('at', values.at, 0);
  const memoryMiB = values.mem === undefined ? 64 : parseCount('mem', values.mem, 2, 2048);
  const window = Math.min(at, values['working-set'] === undefined ? 1_000_000 : parseCount('working-set', values['working-set'], 0));
  let image: Uint8Array;
  try {
    image = new Uint8Array(readFileSync(values.multiboot));
  } catch (e) {
    throw new UsageError(`cannot read "${values.multiboot}": ${(e as Error).message}`);
  }

  const m = createPcMachine({ memoryMiB, pacing: 'deterministic' });
  m.loadMultiboot(image, values.append ?? '');
  const t0 = performance.now();
  const progress = new Progress(at);
  if (!(await runTo(m, at - window, progress))) return 1;
  let ws: Uint32Array | undefined;
  if (window > 0) {
    ws = recordWorkingSet(m, m.pc.phys.presence, window);
    if (m.instructionCount !== at) {
      process.stderr.write(`\nferry86 snapshot: the guest stopped at instruction ${m.instructionCount} while recording its working set\n`);
      return 1;
    }
  }
  progress.done();
  // Streamed to the file chunk by chunk (no copy of RAM in memory), with progress in pages.
  const saving = new Progress(m.memory.pageCount, 'pages saved');
  let stats: SnapshotStats;
  try {
    stats = await writeSnapshotToFile(m, values.out, {
      workingSet: ws,
      compress: values.compress === true,
      onProgress: (done) => saving.at(done),
    });
  } catch (e) {
    saving.done();
    process.stderr.write(`ferry86 snapshot: cannot write "${values.out}": ${(e as Error).message}\n`);
    return 1;
  }
  saving.done();
  const packed = values.compress
    ? `, compressed: RAM pages ${mib(stats.rawPageBytes)} -> ${mib(stats.compressedPageBytes)} MiB (${(stats.rawPageBytes / Math.max(1, stats.compressedPageBytes)).toFixed(2)}x)`
    : '';
  process.stderr.write(
    `ferry86 snapshot: ${values.out}: ${stats.bytes} bytes at instruction ${m.instructionCount}` +
      `${ws ? `, working set ${ws.length} pages` : ''}, digest ${stateDigest(m)} (${((performance.now() - t0) / 1000).toFixed(1)} s)${packed}\n`,
  );
  return 0;
}

function mib(n: number): string {
  return (n / (1 << 20)).toFixed(2);
}

/** Runs to exactly `target` instructions; false (with a message) if the guest cannot get there. */
async function runTo(m: MigratablePc, target: number, progress: Progress): Promise<boolean> {
  let waits = 0;
  while (m.instructionCount < target) {
    const r = m.run(Math.min(5_000_000, target - m.instructionCount));
    progress.at(m.instructionCount);
    if (r.reason === 'idle' && r.waitMs === Infinity) {
      // Deterministic time, no input: a guest waiting in HLT for the host never gets further.
      if (++waits > 3) {
        process.stderr.write(`\nferry86 snapshot: the guest waits for input at instruction ${m.instructionCount} and cannot reach ${target}\n`);
        return false;
      }
    } else if (r.reason !== 'limit' && r.reason !== 'idle') {
      process.stderr.write(`\nferry86 snapshot: the guest stopped (${r.reason}) at instruction ${m.instructionCount}\n`);
      return false;
    } else {
      waits = 0;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return true;
}

/** Progress on stderr: a line redrawn twice a second on a terminal, else a line every 5 s. */
export class Progress {
  private last = 0;
  private shown = false;

  constructor(private readonly total: number, private readonly what = 'instructions') {}

  at(n: number): void {
    const now = performance.now();
    const tty = process.stderr.isTTY === true;
    if (this.last === 0) this.last = now;
    if (now - this.last < (tty ? 500 : 5000)) return;
    this.last = now;
    const pct = this.total > 0 ? ` (${((100 * n) / this.total).toFixed(0)}%)` : '';
    const line = `ferry86: ${n.toLocaleString('en')} / ${this.total.toLocaleString('en')} ${this.what}${pct}`;
    if (tty) {
      this.shown = true;
      process.stderr.write(`\r${line}   `);
    } else {
      process.stderr.write(`${line}\n`);
    }
  }

  done(): void {
    if (this.shown) process.stderr.write('\n');
    this.shown = false;
  }
}

export const snapshotCommand = { summary: 'boot a multiboot kernel, run it to instruction N and save a snapshot', usage: USAGE, main };
