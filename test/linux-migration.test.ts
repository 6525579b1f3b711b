/**
 * Live migration of a real guest: Debian's Linux 6.1 (64 MiB, deterministic pacing) boots through
 * its /init (uname, /proc/cpuinfo, sha256 of known data, a shell loop, a gzip round trip) to the
 * interactive shell; a command typed there prints 20,000 numbered lines and exits, and the guest
 * reboots. While that command runs the guest moves three times: A → B pre-copy while it runs,
 * B → C post-copy (C runs the guest while its pages arrive), C → D hybrid (one pre-copy round,
 * then post-copy). Guest time is virtual, so the migrated guest must print exactly what a guest
 * that never moved prints from the same point, reset at the same instruction, and end in the same
 * whole-state digest; the reference is the state at the first migration, restored from a
 * snapshot into a fresh machine and run without interruption.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLinux, PcMachine } from '@ferry86/devices';
import {
  createLoopbackPair,
  MigratablePc,
  MigrationSource,
  MigrationTarget,
  restoreSnapshot,
  saveSnapshot,
  stateDigest,
  yieldToEventLoop,
  type MigrationMode,
  type MigrationStats,
  type PostCopyPager,
} from '@ferry86/migrate';
import { MARKERS } from './guests/initramfs.ts';
import { fetchLinux } from './guests/linux-files.ts';

const CONFIG = { memoryMiB: 64, pacing: 'deterministic' } as const;
/** Printed by our /init just before it starts the interactive shell (test/guests/initramfs.ts). */
const SHELL_MARKER = 'FERRY86-SHELL';
/** Typed at the shell: output while the guest moves, then `exit` (and /init reboots). */
const COMMAND = 'i=0; while [ $i -lt 20000 ]; do echo line-$i $((i * i)); i=$((i + 1)); done; exit\r';
const LIMIT = 20e9;

/** The guest on its current host, and the console it has printed there and before. */
interface Hosted {
  m: MigratablePc;
  pager: PostCopyPager | null;
}

let serial = '';
const sink = (b: number): void => {
  serial += String.fromCharCode(b);
};

/** Runs the hosted guest `n` instructions (or until it stops); returns the exit reason. */
async function run(h: Hosted, n: number): Promise<string> {
  const end = h.m.instructionCount + n;
  while (h.m.instructionCount < end) {
    const r = h.pager ? await h.pager.run(end - h.m.instructionCount) : h.m.run(end - h.m.instructionCount);
    await yieldToEventLoop();
    if (r.reason !== 'limit' && r.reason !== 'idle') return r.reason;
  }
  return 'limit';
}

/** Moves the guest to a fresh machine; the source keeps running during pre-copy rounds. */
async function migrate(from: Hosted, mode: MigrationMode): Promise<{ to: Hosted; stats: MigrationStats }> {
  const source = new MigrationSource(from.m, {
    mode,
    sliceInstructions: 1_000_000,
    // Hybrid: a limit no round meets, so that the post-copy phase surely runs.
    downtimeLimitMs: mode === 'hybrid' ? 0.001 : 300,
    onStop: () => from.m.setSerialOutput(null),
  });
  const [a, b] = createLoopbackPair();
  const received = new MigrationTarget<MigratablePc>({ createMachine: (c) => new MigratablePc(new PcMachine(c as typeof CONFIG)) }).receive(b);
  const migrated = source.migrate(a);
  const r = await received;
  r.machine.setSerialOutput(sink);
  const to: Hosted = { m: r.machine, pager: r.postCopy ?? null };
  if (to.pager) {
    // Post-copy: the guest runs on the destination while the source is still sending pages.
    expect(await run(to, 20_000_000), serial.slice(-1500)).toBe('limit');
  }
  const stats = await migrated;
  // The state verified on arrival is the source's at the stop (the fenced source never changes).
  expect(to.pager ? await to.pager.complete : r.digest).toBe(stateDigest(from.m));
  return { to, stats };
}

describe("live migration of Debian's Linux 6.1 while a shell command runs", () => {
  it('pre-copy, post-copy and hybrid moves leave the guest exactly as if it never moved', async () => {
    const files = fetchLinux();
    const pc = new PcMachine(CONFIG);
    const first = new MigratablePc(pc);
    first.setSerialOutput(sink);
    loadLinux(pc, new Uint8Array(readFileSync(files.kernel)), { cmdline: 'console=ttyS0 ferry86.shell', initrd: new Uint8Array(readFileSync(files.initrd)) });
    let h: Hosted = { m: first, pager: null };
    while (!serial.includes(`${SHELL_MARKER}\r\n`)) {
      expect(h.m.instructionCount, serial.slice(-1000)).toBeLessThan(LIMIT);
      expect(await run(h, 20_000_000)).toBe('limit');
    }
    await run(h, 100_000_000); // the prompt; the shell now waits for input
    // The reference point: a snapshot of the guest before the command is typed and it moves.
    const snapshot = saveSnapshot(first);
    const from = serial.length;
    first.serialInput(new TextEncoder().encode(COMMAND));

    const moves: string[] = [];
    for (const mode of ['pre-copy', 'post-copy', 'hybrid'] as const) {
      const { to, stats } = await migrate(h, mode);
      expect(stats.status).toBe('completed');
      moves.push(`${mode}: ${stats.rounds.length} rounds, downtime ${stats.downtimeMs.toFixed(0)} ms, ${(stats.bytesTransferred / 1048576).toFixed(1)} MiB` +
        (to.pager ? `, ${to.pager.stats.faults} faults, ${to.pager.stats.blockTimeMs.toFixed(0)} ms blocked` : ''));
      h = to;
      expect(await run(h, 30_000_000), serial.slice(-500)).toBe('limit');
    }
    let reason = 'limit';
    while (reason === 'limit' && h.m.instructionCount < LIMIT) reason = await run(h, 20_000_000);
    console.log(`Linux migrated 3 times while its shell command runs:\n  ${moves.join('\n  ')}\n  reset at ${h.m.instructionCount}`);
    expect(reason, serial.slice(-2000)).toBe('reset');
    let at = 0;
    for (const marker of Object.values(MARKERS)) {
      const i = serial.indexOf(marker, at);
      expect(i, `marker ${marker} missing or out of order`).toBeGreaterThanOrEqual(0);
      at = i + marker.length;
    }
    // Every line of the command, once and in order, across the four hosts.
    const lines = [...serial.slice(from).matchAll(/^line-(\d+) (\d+)\r?$/gm)];
    expect(lines.map((l) => Number(l[1]))).toEqual(Array.from({ length: 20000 }, (_, i) => i));
    expect(lines.every((l) => Number(l[2]) === Number(l[1]) ** 2)).toBe(true);

    // The guest that never moved, from the same point.
    const ref = new MigratablePc(new PcMachine(CONFIG));
    restoreSnapshot(ref, snapshot);
    let refSerial = '';
    ref.setSerialOutput((b) => (refSerial += String.fromCharCode(b)));
    ref.serialInput(new TextEncoder().encode(COMMAND));
    let refReason = 'limit';
    while (refReason === 'limit' && ref.instructionCount < LIMIT) refReason = await run({ m: ref, pager: null }, 20_000_000);
    expect(refReason).toBe('reset');
    expect(h.m.instructionCount).toBe(ref.instructionCount);
    expect(serial.slice(from)).toBe(refSerial);
    expect(stateDigest(h.m)).toBe(stateDigest(ref));
  });
});
