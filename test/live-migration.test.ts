/**
 * The foundation's end-to-end promise: toyos boots in worker A and is migrated live between
 * workers A and B ten times while its memory workload runs. The embedder's console sees every
 * heartbeat exactly once, the guest's own checker finds no lost or stale page, and — guest time
 * being virtual — the final state equals that of an uninterrupted run to the same instruction.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SerialAssembler, VmWorker, type MigrationMode } from '@ferry86/migrate';

const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL('../examples/toyos/toyos.bin', import.meta.url))));
const CONFIG = { memoryMiB: 64, pacing: 'deterministic' };
const MIGRATIONS = 10;

const heartbeats = (text: string) => [...text.matchAll(/tick (\d+)\r\n/g)].map((m) => Number(m[1]));

/** Polls until cond holds; the bound only turns a hang into a failure with context. */
async function until(cond: () => boolean, context: () => string): Promise<void> {
  for (let i = 0; i < 60_000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`condition never held; output ends:\n${context()}`);
}

describe('live migration of a running toyos between worker threads', () => {
  const workers: VmWorker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  /**
   * Boots toyos in one worker, migrates it between two workers once per entry of `modes` while
   * its workload runs, and checks: every heartbeat exactly once, no ERROR from the guest's page
   * checker, the final digest equal to an uninterrupted run's; then that the checker is live.
   */
  async function migrateRepeatedly(modes: readonly MigrationMode[]): Promise<number[]> {
    const [a, b] = await Promise.all([VmWorker.spawn(), VmWorker.spawn()]);
    workers.push(a, b);
    let text = '';
    const serial = new SerialAssembler((bytes) => {
      for (const byte of bytes) text += String.fromCharCode(byte);
    });
    await a.subscribeSerial(serial);
    await b.subscribeSerial(serial);
    await a.create(CONFIG);
    await a.loadMultiboot(TOYOS, '');
    await a.start();
    await until(() => text.includes('tick 2\r\n'), () => text.slice(-500));

    let [src, dst] = [a, b];
    const downtimes: number[] = [];
    for (const mode of modes) {
      const before = heartbeats(text).at(-1)!;
      const r = await VmWorker.migrate(src, dst, { mode });
      expect(r.stats.status).toBe('completed');
      expect(r.stats.mode).toBe(mode);
      if (mode === 'post-copy') {
        // Every page exactly once, after the handover, some of them on the guest's demand.
        expect(r.stats.ram.zeroPages + r.stats.ram.fullPages).toBe(CONFIG.memoryMiB * 256);
        expect(r.stats.postcopy!.requestedPages + r.stats.postcopy!.pushedPages).toBe(CONFIG.memoryMiB * 256);
      }
      expect((await src.status()).fenced).toBe(true);
      downtimes.push(r.stats.downtimeMs);
      [src, dst] = [dst, src];
      // Let the guest make progress on its new host before moving it again.
      await until(() => heartbeats(text).at(-1)! >= before + 2, () => text.slice(-500));
    }
    await src.pause();
    const count = await src.instructionCount();
    const digest = await src.digest();

    const beats = heartbeats(text);
    expect(beats.length).toBeGreaterThan(2 * modes.length);
    expect(beats).toEqual(beats.map((_, i) => i + 1)); // gap-free and duplicate-free
    expect(text).not.toMatch(/ERROR|PANIC/);
    console.log(`${modes.length} migrations (${[...new Set(modes)].join(', ')}), downtime ms: ${downtimes.map((d) => d.toFixed(0)).join(' ')}; ${count} instructions`);

    // The same image with the same (no) input, run without interruption to the same instruction.
    const c = await VmWorker.spawn();
    workers.push(c);
    await c.create(CONFIG);
    await c.loadMultiboot(TOYOS, '');
    while ((await c.instructionCount()) < count) {
      await c.step(Math.min(50_000_000, count - (await c.instructionCount())));
    }
    expect(await c.instructionCount()).toBe(count);
    expect(await c.digest()).toBe(digest);

    // The checker is live on the final host: a deliberately rewound page is caught.
    await src.start();
    await src.sendSerial('corrupt\r');
    await until(() => /ERROR: worker 0 page \d+ value \d+ expected \d+/.test(text), () => text.slice(-500));
    return downtimes;
  }

  it(`survives ${MIGRATIONS} pre-copy migrations with nothing lost, and ends in the uninterrupted run's state`, async () => {
    await migrateRepeatedly(Array.from({ length: MIGRATIONS }, () => 'pre-copy' as const));
  });

  it('survives post-copy and hybrid migrations (the guest runs on while its pages arrive) the same way', async () => {
    await migrateRepeatedly(['post-copy', 'hybrid', 'post-copy', 'pre-copy', 'hybrid', 'post-copy']);
  });
});
