/**
 * A VM with a disk moves between worker threads: the destination is handed the same base image
 * (VmWorker.provide, "disk:primaryMaster"), the copy-on-write overlay travels in the migration
 * stream, and the toy OS reads back, in worker B, the shell log it wrote to its disk in worker A.
 * A destination given no image, or another image, refuses the stream with a typed error and the
 * source runs on.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationError, SerialAssembler, VmWorker } from '@ferry86/migrate';
import { blankDisk } from '../examples/toyos/run-qemu.mjs';

const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL('../examples/toyos/toyos.bin', import.meta.url))));
const CONFIG = { memoryMiB: 32, pacing: 'deterministic', disks: { primaryMaster: true } };

async function until(cond: () => boolean, context: () => string): Promise<void> {
  for (let i = 0; i < 60_000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`condition never held; output ends:\n${context()}`);
}

describe('live migration of a toyos with its disk between worker threads', () => {
  const workers: VmWorker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('the destination reads back what the source wrote to the disk; without the base image it refuses', async () => {
    const [a, b, c] = await Promise.all([VmWorker.spawn(), VmWorker.spawn(), VmWorker.spawn()]);
    workers.push(a, b, c);
    let text = '';
    const serial = new SerialAssembler((bytes) => {
      for (const byte of bytes) text += String.fromCharCode(byte);
    });
    await a.subscribeSerial(serial);
    await b.subscribeSerial(serial);
    const image = blankDisk();
    await a.provide('disk:primaryMaster', image);
    await a.create(CONFIG);
    await a.loadMultiboot(TOYOS, '');
    await a.start();
    await until(() => text.includes('disk log new') && text.includes('tick 1'), () => text.slice(-400));
    await a.sendSerial('echo written-in-worker-a\r');
    await until(() => /\r\nwritten-in-worker-a\r\n/.test(text), () => text.slice(-400));

    // Worker C has no image: it refuses the stream (typed), and A keeps running.
    await c.provide('disk:primaryMaster', new Uint8Array(image.length / 2));
    const refused = await VmWorker.migrate(a, c).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MigrationError);
    expect(String((refused as Error).message)).toMatch(/disk/i);
    expect((await a.status()).running).toBe(true);

    await b.provide('disk:primaryMaster', image);
    const r = await VmWorker.migrate(a, b);
    expect(r.stats.status).toBe('completed');
    const before = text.length;
    await b.sendSerial('log\r');
    await until(() => /record \d+: echo written-in-worker-a/.test(text.slice(before)), () => text.slice(-600));
    // The base image handed to the workers is a copy: the host's stays blank.
    expect(image.every((x) => x === 0)).toBe(true);
  });
});
