/**
 * Migration figures for toyos with 64 MiB of RAM running its memory workload: repeated live
 * pre-copy migrations between two Node worker threads (downtime p50/p99, total time, bytes).
 *
 * The peer has no live migration; the way to move a v86 VM is save_state() on one instance and
 * restore_state() on another, with the guest stopped throughout. That stop-the-world time is
 * measured on the same guest in the same run and printed beside our downtime.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SerialAssembler, VmWorker, type MigrationStats } from '@ferry86/migrate';
import { fmt, percentile, printTable } from './report.ts';
import { peerSaveRestore } from './v86-peer.ts';

const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL('../toyos/toyos.bin', import.meta.url))));
const MEMORY_MIB = 64;

async function untilText(get: () => string, re: RegExp): Promise<void> {
  while (!re.test(get())) await new Promise((r) => setTimeout(r, 5));
}

export async function benchMigration(quick: boolean): Promise<void> {
  const runs = quick ? 6 : 20;
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
      const r = await VmWorker.migrate(src, dst);
      stats.push(r.stats);
      [src, dst] = [dst, src];
      await new Promise((r) => setTimeout(r, 200)); // let the workload dirty memory again
    }
    if (/ERROR|PANIC/.test(text)) throw new Error(`the guest reported a failure:\n${text.slice(-500)}`);
  } finally {
    await Promise.all([a.terminate(), b.terminate()]);
  }

  const down = stats.map((s) => s.downtimeMs);
  const total = stats.map((s) => s.totalTimeMs);
  const sent = stats.map((s) => s.bytesTransferred / (MEMORY_MIB << 20));
  const rounds = stats.map((s) => s.rounds.length);
  printTable(
    `Live migration, toyos ${MEMORY_MIB} MiB with its 2-worker memory workload, ${runs} pre-copy migrations between worker threads`,
    ['p50', 'p99', 'max'],
    [
      { label: 'downtime ms', cells: [fmt(percentile(down, 50)), fmt(percentile(down, 99)), fmt(Math.max(...down))] },
      { label: 'total time ms', cells: [fmt(percentile(total, 50), 0), fmt(percentile(total, 99), 0), fmt(Math.max(...total), 0)] },
      { label: 'bytes sent ÷ RAM', cells: [fmt(percentile(sent, 50), 2), fmt(percentile(sent, 99), 2), fmt(Math.max(...sent), 2)] },
      { label: 'rounds', cells: [percentile(rounds, 50), percentile(rounds, 99), Math.max(...rounds)] },
    ],
  );

  const peer = await peerSaveRestore({ image: TOYOS, memoryMiB: MEMORY_MIB, startMarker: 'tick 2\r\n', runs: quick ? 3 : 5 });
  const p50 = percentile(down, 50);
  printTable(
    'Guest stopped while moving the VM (same guest): ferry86 live pre-copy vs v86 save_state + restore_state',
    ['p50 ms', 'p99 ms', 'ferry86 p50 ÷ this'],
    [
      { label: 'ferry86 downtime', cells: [fmt(p50), fmt(percentile(down, 99)), '1.00'] },
      ...peer.map((p) => ({ label: p.label, cells: [fmt(p.p50Ms), fmt(p.p99Ms), fmt(p50 / p.p50Ms, 3)] })),
    ],
  );
}
