import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { MigrationError, SerialAssembler, VmWorker } from '../src/index.ts';
import { bundleWorkerEntry } from './bundle.ts';
import { until } from './wait.ts';
import { expectedFakeOutput, type FakeConfig } from './fake-machine.ts';

// The workers host the fake machine.
const bundle = bundleWorkerEntry('./fixtures/fake-vm-worker.ts');
const spawn = (): Promise<VmWorker> => VmWorker.spawn({ bundle });
const CONFIG: FakeConfig = { ramKiB: 8192, hotPages: 64 };


describe('live migration between two worker threads (MessagePort transport)', () => {
  const workers: VmWorker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('moves a running guest worker to worker; same state, one continuous serial stream', async () => {
    const [a, b] = await Promise.all([spawn(), spawn()]);
    workers.push(a, b);
    let text = '';
    const serial = new SerialAssembler((bytes) => (text += new TextDecoder().decode(bytes)));
    await a.subscribeSerial(serial);
    await b.subscribeSerial(serial);
    await a.create(CONFIG);
    await a.start();
    await until(async () => (await a.instructionCount()) > 50_000);
    await a.sendSerial('hello');

    const r = await VmWorker.migrate(a, b, { downtimeLimitMs: 100 });
    expect(r.stats.status).toBe('completed');
    expect(r.stats.rounds.length).toBeGreaterThanOrEqual(2);
    expect(r.wasRunning).toBe(true);
    expect((await a.status()).fenced).toBe(true);
    await expect(a.start()).rejects.toThrow(/migrated away/);

    // The destination was started by migrate(); let it run, then compare with the expected guest.
    const atHandover = (await a.instructionCount());
    await until(async () => (await b.instructionCount()) > atHandover + 50_000);
    await b.pause();
    const n = await b.instructionCount();
    await until(async () => serial.next >= Math.floor(n / 500));
    expect(text).toBe(expectedFakeOutput(n));

    // A snapshot of the destination restores into a third worker with the same digest.
    const snap = await b.saveSnapshot();
    const c = await spawn();
    workers.push(c);
    await c.create(CONFIG);
    await c.restoreSnapshot(snap);
    expect(await c.digest()).toBe(await b.digest());
  });

  it('typed errors cross the worker boundary; a failed migration leaves the source running', async () => {
    const [a, b] = await Promise.all([spawn(), spawn()]);
    workers.push(a, b);
    await a.create(CONFIG);
    await b.create({ ramKiB: 4096, hotPages: 1 });
    await b.start(); // busy: refuses to receive
    await a.start();
    const err = await VmWorker.migrate(a, b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const st = await a.status();
    expect(st.fenced).toBe(false);
    expect(st.running).toBe(true);
    await b.pause();
    await a.pause(); // a paused source migrates in one round and the destination stays paused
    const again = await VmWorker.migrate(a, b);
    expect(again.wasRunning).toBe(false);
    expect((await b.status()).running).toBe(false);
    expect(again.stats.status).toBe('completed');
    expect(await b.digest()).toBe(await a.digest());
  });
});
