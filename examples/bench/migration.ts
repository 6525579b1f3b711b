/**
 * Migration figures for toyos with 64 MiB of RAM running its memory workload: repeated live
 * migrations between two Node worker threads in each mode — pre-copy, post-copy, hybrid —
 * (downtime p50/p99, total time, bytes, pages the destination asked for).
 *
 * The peer has no live migration; the way to move a v86 VM is save_state() on one instance and
 * restore_state() on another, with the guest stopped throughout. That stop-the-world time is
 * measured on the same guest in the same run and printed beside our downtime.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SerialAssembler, VmWorker, type MigrationMode, type MigrationStats } from '@ferry86/migrate';
import { fmt, percentile, printTable } from './report.ts';
import { peerSaveRestore } from './v86-peer.ts';

const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL('../toyos/toyos.bin', import.meta.url))));
const MEMORY_MIB = 64;

async function untilText(get: () => string, re: RegExp): Promise<void> {
  while (!re.test(get())) await new Promise((r) => setTimeout(r, 5));
}

/** Boots toyos in one worker and migrates it back and forth `runs` times in `mode`. */
async function series(mode: MigrationMode, runs: number): Promise<MigrationStats[]> {
  const [a, b] = await Promise.all([VmWorker.spawn(), VmWorker.spawn()]);
  const stats: MigrationStats[] = [];
  let text = '';
  try {
    const serial = new SerialAssembler((bytes) => {
      for (const x of bytes) text += String.fromCharCode(x);
    });
    await a.subscribeSerial(serial);
    await b.subscribeSerial(serial);
    await a.create({ memoryMiB: MEMORY_MIB, pacing: 'deterministic' });
    await a.loadMultiboot(TOYOS, '');
    await a.start();
    await untilText(() => text, /tick 2\r\n/);
    let [src, dst] = [a, b];
    for (let i = 0; i < runs; i++) {
      const r = await VmWorker.migrate(src, dst, { mode });
      stats.push(r.stats);
      [src, dst] = [dst, src];
      await new Promise((r) => setTimeout(r, 200)); // let the workload dirty memory again
    }
    if (/ERROR|PANIC/.test(text)) throw new Error(`the guest reported a failure:\n${text.slice(-500)}`);
  } finally {
    await Promise.all([a.terminate(), b.terminate()]);
  }
  return stats;
}

const MODES: readonly MigrationMode[] = ['pre-copy', 'post-copy', 'hybrid'];

export async function benchMigration(quick: boolean): Promise<void> {
  const runs = quick ? 6 : 20;
  const p = (xs: number[], q: number, digits?: number) => fmt(percentile(xs, q), digits);
  const rows = [];
  let preCopyP50 = 0;
  for (const mode of MODES) {
    const stats = await series(mode, runs);
    const down = stats.map((s) => s.downtimeMs);
    const total = stats.map((s) => s.totalTimeMs);
    const sent = stats.map((s) => s.bytesTransferred / (MEMORY_MIB << 20));
    const rounds = stats.map((s) => s.rounds.length);
    const requested = stats.map((s) => s.postcopy?.requestedPages ?? 0);
    if (mode === 'pre-copy') preCopyP50 = percentile(down, 50);
    rows.push({
      label: mode,
      cells: [p(down, 50), p(down, 99), p(total, 50, 0), p(total, 99, 0), p(sent, 50, 2), String(percentile(rounds, 50)), String(percentile(requested, 50))],
    });
  }
  printTable(
    `Live migration, toyos ${MEMORY_MIB} MiB with its 2-worker memory workload, ${runs} migrations per mode between worker threads`,
    ['downtime p50 ms', 'p99', 'total p50 ms', 'p99', 'sent ÷ RAM p50', 'rounds p50', 'pages on demand p50'],
    rows,
  );

  const peer = await peerSaveRestore({ image: TOYOS, memoryMiB: MEMORY_MIB, startMarker: 'tick 2\r\n', runs: quick ? 3 : 5 });
  printTable(
    'Guest stopped while moving the VM (same guest): ferry86 live pre-copy vs v86 save_state + restore_state',
    ['p50 ms', 'p99 ms', 'ferry86 pre-copy p50 ÷ this'],
    [
      { label: 'ferry86 pre-copy downtime', cells: [fmt(preCopyP50), '', '1.00'] },
      ...peer.map((x) => ({ label: x.label, cells: [fmt(x.p50Ms), fmt(x.p99Ms), fmt(preCopyP50 / x.p50Ms, 3)] })),
    ],
  );
}
