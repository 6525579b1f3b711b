/**
 * `ferry86 restore`: restores a snapshot into a fresh machine in this process (eagerly, or
 * lazily: the guest starts before its RAM is loaded) and continues it with COM1 on stdio.
 */
import {
  createPcMachine,
  DEFAULT_LIMITS,
  fileChunks,
  LazyRestorer,
  readStreamHeader,
  restoreFreshFrom,
  SnapshotFormatError,
  type MigratablePc,
  type RestoreResult,
} from '@ferry86/migrate';
import { readFileSync, statSync } from 'node:fs';
import { Progress } from './snapshot.ts';
import { runOnConsole } from './guest-console.ts';
import { UsageError, parseCount, parseOptions } from './usage.ts';

const USAGE = `usage: ferry86 restore FILE [options]

  --lazy                  start the guest before its RAM is loaded: pages load when first
                          touched, the snapshot's recorded working set first, the rest in
                          the background
  --max-instructions N    stop after N more instructions

The machine is built from the configuration the snapshot names; compressed snapshots
(ferry86 snapshot --compress) and those of older format versions are read too. COM1 is connected to
stdin/stdout as raw bytes; the run ends when stdin is closed and the guest waits for input,
or on Ctrl-C.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: argv,
    options: {
      lazy: { type: 'boolean' },
      'max-instructions': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one snapshot FILE');
  const file = positionals[0]!;
  const max = values['max-instructions'] === undefined ? Infinity : parseCount('max-instructions', values['max-instructions'], 1);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new UsageError(`cannot read "${file}": ${(e as Error).message}`);
  }

  const t0 = performance.now();
  let m: MigratablePc;
  let lazy: LazyRestorer | null = null;
  let result: RestoreResult | null = null;
  try {
    if (values.lazy) {
      // Lazy restore keeps the snapshot as the index it loads pages from: read it whole.
      const bytes = new Uint8Array(readFileSync(file));
      const header = readStreamHeader(bytes, DEFAULT_LIMITS);
      m = createPcMachine(header.config);
      lazy = LazyRestorer.open(m, m.pc.phys.presence, bytes);
      lazy.start();
    } else {
      // Eager: streamed from the file into a fresh machine, pages straight into its RAM.
      const progress = new Progress(size, 'bytes read');
      const r = await restoreFreshFrom(fileChunks(file), createPcMachine, { onProgress: (n) => progress.at(n) });
      progress.done();
      m = r.machine;
      result = r.result;
    }
  } catch (e) {
    if (e instanceof SnapshotFormatError) {
      process.stderr.write(`ferry86 restore: ${file}: ${e.message} (${e.code})\n`);
      return 1;
    }
    throw e;
  }
  const start = m.instructionCount;
  const format = result ? `, format v${result.formatVersion}${result.compressed ? ' compressed' : ''}` : '';
  process.stderr.write(
    `ferry86 restore: ${file}: ${values.lazy ? 'lazy' : 'eager'} restore at instruction ${start} in ${(performance.now() - t0).toFixed(1)} ms` +
      `${lazy ? `, working set ${lazy.workingSetPages.length} pages` : ''}${format}\n`,
  );

  const why = await runOnConsole(m, (n) => (lazy ? lazy.run(n) : m.run(n)), max, out);
  const pages = lazy ? `; ${lazy.stats.demandFetches} pages loaded on demand, ${lazy.stats.prefetched} ahead, ${lazy.stats.remaining} never needed` : '';
  process.stderr.write(`\nferry86 restore: ${why} after ${m.instructionCount - start} instructions (at ${m.instructionCount})${pages}\n`);
  return 0;
}

/** Guest output to stdout in batches. */
const out = {
  buf: [] as number[],
  push(b: number): void {
    this.buf.push(b);
    if (this.buf.length >= 4096) this.flush();
  },
  flush(): void {
    if (this.buf.length === 0) return;
    process.stdout.write(Uint8Array.from(this.buf));
    this.buf.length = 0;
  },
};

export const restoreCommand = { summary: 'restore a snapshot (eagerly or lazily) and continue it with COM1 on stdio', usage: USAGE, main };
