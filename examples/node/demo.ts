/**
 * `pnpm demo`: boots the toy OS in one Node worker thread, lets it run its memory workload,
 * migrates it live (pre-copy) to a second worker, prints the migration statistics, and shows the
 * guest's console carrying on from the destination without a gap.
 *
 *   pnpm demo [--mem MiB] [--ticks-before N] [--ticks-after N]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SerialAssembler, VmWorker } from '@ferry86/migrate';
import { formatMigrationStats } from './format-stats.ts';

const { values } = parseArgs({
  options: {
    mem: { type: 'string', default: '64' },
    'ticks-before': { type: 'string', default: '5' },
    'ticks-after': { type: 'string', default: '5' },
  },
});
const memoryMiB = Number(values.mem);
const before = Number(values['ticks-before']);
const after = Number(values['ticks-after']);
if (!(memoryMiB >= 9) || !(before >= 1) || !(after >= 1)) {
  console.error('usage: pnpm demo [--mem MiB (>= 9)] [--ticks-before N] [--ticks-after N]');
  process.exit(2);
}

const image = new Uint8Array(readFileSync(fileURLToPath(new URL('../toyos/toyos.bin', import.meta.url))));
const tag = process.stdout.isTTY ? '\x1b[1m[demo]\x1b[0m' : '[demo]';
const say = (s: string) => process.stdout.write(`${tag} ${s}\n`);

let host = 'A';
let lastTick = 0;
let pending = '';
let resolveTick: (() => void) | undefined;
let waitFor = 0;
const serial = new SerialAssembler((bytes) => {
  pending += String.fromCharCode(...bytes);
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).replace(/\r/g, '');
    pending = pending.slice(nl + 1);
    if (line === '> ') continue;
    process.stdout.write(`  [worker ${host}] ${line}\n`);
    const m = /^tick (\d+)$/.exec(line);
    if (m) {
      lastTick = Number(m[1]);
      if (lastTick >= waitFor) resolveTick?.();
    }
  }
});
const untilTick = (n: number) =>
  new Promise<void>((resolve) => {
    waitFor = n;
    resolveTick = resolve;
    if (lastTick >= n) resolve();
  });

const [a, b] = await Promise.all([VmWorker.spawn(), VmWorker.spawn()]);
try {
  await a.subscribeSerial(serial);
  await b.subscribeSerial(serial);
  say(`booting toyos (${memoryMiB} MiB) in worker A`);
  await a.create({ memoryMiB, pacing: 'deterministic' });
  await a.loadMultiboot(image, '');
  await a.start();
  await untilTick(before);

  say('migrating live to worker B (pre-copy) while the workload runs ...');
  const result = await VmWorker.migrate(a, b);
  host = 'B';
  say(`migration finished:\n${formatMigrationStats(result.stats)}`);
  say(`destination verified state digest ${result.digest}`);

  const at = lastTick;
  await b.sendSerial('stats\r');
  await untilTick(at + after);
  say(`the guest carried on in worker B: heartbeats ${at + 1}..${lastTick} came from the destination, none lost or repeated`);
} finally {
  await Promise.all([a.terminate(), b.terminate()]);
}
