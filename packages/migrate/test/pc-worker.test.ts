import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WORKER_BUNDLE, SerialAssembler, VmWorker } from '../src/index.ts';
import { bundleWorkerEntry } from './bundle.ts';
import { until } from './wait.ts';
import { heartbeats, heartbeatsContinuous, TOYOS } from './toyos.ts';

// The real worker entry, bundled into a temp dir so this test does not depend on a previous build.
const bundle = bundleWorkerEntry('../src/worker/vm-worker.ts');


describe('toyos in worker threads', () => {
  const workers: VmWorker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('the default bundle is dist/vm-worker.mjs at the workspace root', () => {
    expect(fileURLToPath(DEFAULT_WORKER_BUNDLE)).toBe(fileURLToPath(new URL('../../../dist/vm-worker.mjs', import.meta.url)));
  });

  it('migrates a running toyos worker to worker and back; the console never skips or repeats a line', async () => {
    const [a, b] = await Promise.all([VmWorker.spawn({ bundle }), VmWorker.spawn({ bundle })]);
    workers.push(a, b);
    let text = '';
    const serial = new SerialAssembler((bytes) => (text += String.fromCharCode(...bytes)));
    await a.subscribeSerial(serial);
    await b.subscribeSerial(serial);
    await a.create({ memoryMiB: 24 });
    await a.loadMultiboot(TOYOS, 'workers=2');
    await a.start();
    await until(() => text.includes('tick 3\r\n'), () => text.slice(-300));

    const there = await VmWorker.migrate(a, b);
    expect(there.stats.status).toBe('completed');
    expect(there.stats.downtimeMs).toBeGreaterThan(0);
    expect((await a.status()).fenced).toBe(true);
    expect((await b.status()).running).toBe(true);
    const t1 = heartbeats(text).at(-1)!;
    await b.sendSerial('echo over there\r');
    await until(() => text.includes('\r\nover there\r\n') && heartbeats(text).at(-1)! >= t1 + 3, () => text.slice(-300));

    // And back into the first worker, which takes a machine again as a fresh destination.
    const back = await VmWorker.migrate(b, a);
    expect(back.stats.status).toBe('completed');
    const t2 = heartbeats(text).at(-1)!;
    await a.sendSerial('echo back home\r');
    await until(() => text.includes('\r\nback home\r\n') && heartbeats(text).at(-1)! >= t2 + 3, () => text.slice(-300));
    await a.pause();

    expect(heartbeatsContinuous(text)).toBe(true);
    expect(text).not.toMatch(/ERROR|PANIC/);
  });
});
