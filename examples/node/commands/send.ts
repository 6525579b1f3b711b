/**
 * `ferry86 send`: boots a guest, runs it for a while with COM1 on stdout, then migrates it live
 * over TCP to a `ferry86 receive` while it keeps running, and prints the migration's figures.
 * After the handover this process's copy is fenced (never runs again) and the command exits.
 */
import { loadLinux } from '@ferry86/devices';
import {
  MigrationError,
  MigrationSource,
  StreamSocketTransport,
  createPcMachine,
  stateDigest,
  type MigratablePc,
  type MigrationMode,
  type MigrationStats,
} from '@ferry86/migrate';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ConsoleOut, STOPS, describeMigrationError, describeRound, describeSocketError, mib, parseHostPort } from './migration-cli.ts';
import { UsageError, parseCount, parseOptions } from './usage.ts';

const USAGE = `usage: ferry86 send --to HOST:PORT (--multiboot FILE | --kernel FILE) [options]

  --to HOST:PORT          where 'ferry86 receive' listens
  --multiboot FILE        boot a Multiboot v1 kernel (e.g. examples/toyos/toyos.bin)
  --kernel FILE           boot a Linux kernel (bzImage or ELF32 vmlinux)
  --initrd FILE           initial RAM disk for --kernel
  --append CMDLINE        kernel command line
  --mem MiB               guest RAM, default 64
  --deterministic         pure virtual time (default: realtime pacing)
  --after N               run N instructions before migrating, default 30000000
  --mode MODE             pre-copy (default), post-copy or hybrid (one pre-copy round, then post-copy)
  --compress              DEFLATE the pages on the wire (for slow links)
  --downtime-limit MS     stop iterating once the rest should transfer within MS, default 300
  --max-rounds N          pre-copy rounds before stopping anyway, default 30

The guest's console (COM1) goes to stdout until the guest stops for the final copy; the
receiver's console continues from the next byte. Progress and figures go to stderr.
Exit status: 0 migrated, 1 the migration failed (the guest did not move).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: argv,
    options: {
      to: { type: 'string' },
      multiboot: { type: 'string' },
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      append: { type: 'string' },
      mem: { type: 'string' },
      deterministic: { type: 'boolean' },
      after: { type: 'string' },
      'downtime-limit': { type: 'string' },
      mode: { type: 'string' },
      compress: { type: 'boolean' },
      'max-rounds': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.to === undefined) throw new UsageError('--to HOST:PORT is required');
  const to = parseHostPort(values.to);
  if ((values.multiboot === undefined) === (values.kernel === undefined)) throw new UsageError('give exactly one of --multiboot FILE or --kernel FILE');
  if (values.initrd !== undefined && values.kernel === undefined) throw new UsageError('--initrd only applies to --kernel');
  const memoryMiB = values.mem === undefined ? 64 : parseCount('mem', values.mem, 2, 2048);
  const after = values.after === undefined ? 30_000_000 : parseCount('after', values.after, 0);
  const mode = (values.mode ?? 'pre-copy') as MigrationMode;
  if (!['pre-copy', 'post-copy', 'hybrid'].includes(mode)) throw new UsageError(`--mode must be pre-copy, post-copy or hybrid, not "${values.mode}"`);
  const downtimeLimitMs = values['downtime-limit'] === undefined ? 300 : parseCount('downtime-limit', values['downtime-limit'], 1);
  const maxRounds = values['max-rounds'] === undefined ? 30 : parseCount('max-rounds', values['max-rounds'], 1, 1000);

  const image = readImage(values.multiboot ?? values.kernel!);
  const m = createPcMachine({ memoryMiB, pacing: values.deterministic ? 'deterministic' : 'realtime' });
  if (values.multiboot !== undefined) m.loadMultiboot(image, values.append ?? '');
  else {
    const initrd = values.initrd === undefined ? undefined : readImage(values.initrd);
    loadLinux(m.pc, image, { cmdline: values.append ?? '', ...(initrd ? { initrd } : {}) });
  }
  const out = new ConsoleOut();
  m.setSerialOutput((b) => out.push(b));
  const where = `${to.host}:${to.port}`;

  // Run a while first, so that there is a live guest with dirty memory to move.
  const stopped = await runFor(m, after, out);
  if (stopped) {
    process.stderr.write(`ferry86 send: the guest stopped (${stopped}) at instruction ${m.instructionCount}; nothing to migrate\n`);
    return 1;
  }

  let socket: Socket;
  try {
    socket = await open(to.host, to.port);
  } catch (e) {
    process.stderr.write(`ferry86 send: ${describeSocketError(e as NodeJS.ErrnoException, where)}\n`);
    return 1;
  }
  process.stderr.write(`ferry86 send: migrating to ${where} at instruction ${m.instructionCount} (${memoryMiB} MiB of RAM), the guest keeps running\n`);

  let printed = 0;
  const source = new MigrationSource(m, {
    mode,
    compress: values.compress === true,
    downtimeLimitMs,
    maxRounds,
    extraParts: [out.state],
    runSlice: () => {
      const r = m.run(200_000);
      out.flush();
      return !STOPS.has(r.reason);
    },
    onStop: () => out.flush(),
    onProgress: (s: MigrationStats) => {
      for (; printed < s.rounds.length; printed++) process.stderr.write(`ferry86 send: ${describeRound(s.rounds[printed]!)}\n`);
    },
  });
  const transport = new StreamSocketTransport(socket);
  let stats: MigrationStats;
  try {
    stats = await source.migrate(transport);
  } catch (e) {
    out.flush();
    if (!(e instanceof MigrationError)) throw e;
    process.stderr.write(`ferry86 send: ${describeMigrationError(e)}\nferry86 send: the guest stays here (not moved) at instruction ${m.instructionCount}\n`);
    return 1;
  } finally {
    source.dispose();
  }
  out.flush();
  process.stderr.write(
    `ferry86 send: migrated at instruction ${m.instructionCount}: downtime ${stats.downtimeMs.toFixed(1)} ms (expected ${stats.expectedDowntimeMs.toFixed(1)}, limit ${downtimeLimitMs}), ` +
      `total ${stats.totalTimeMs.toFixed(0)} ms, ${stats.rounds.length} rounds (${stats.convergence}), ${mib(stats.bytesTransferred)} sent ` +
      `(${stats.ram.zeroPages} zero pages, ${stats.ram.fullPages} full pages, RAM ${mib(stats.ram.totalBytes)}), ` +
      `${mib(stats.bandwidthBytesPerSec)}/s; state digest ${stateDigest(m, [out.state])}\n`,
  );
  return 0;
}

/** Runs the guest for n instructions, console to stdout. Returns why it stopped early, if it did. */
async function runFor(m: MigratablePc, n: number, out: ConsoleOut): Promise<string | null> {
  const end = m.instructionCount + n;
  while (m.instructionCount < end) {
    const r = m.run(Math.min(1_000_000, end - m.instructionCount));
    out.flush();
    if (STOPS.has(r.reason)) return r.reason;
    // Realtime pacing idles when ahead of the wall clock: sleep, rather than spin, then.
    await new Promise((resolve) => (r.reason === 'idle' && r.instructions === 0 ? setTimeout(resolve, 1) : setImmediate(resolve)));
  }
  return null;
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function readImage(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read "${path}": ${(e as Error).message}`);
  }
}

export const sendCommand = { summary: 'boot a guest, then migrate it live over TCP to ferry86 receive', usage: USAGE, main };
