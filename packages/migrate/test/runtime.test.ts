import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { MigrationError, SerialAssembler, VmRuntime, type MessagePortLike } from '../src/index.ts';
import { until } from './wait.ts';
import { expectedFakeOutput, FakeHostedMachine, type FakeConfig } from './fake-machine.ts';

const CONFIG: FakeConfig = { ramKiB: 2048, hotPages: 16 };
const factory = (c: unknown): FakeHostedMachine => new FakeHostedMachine(c as FakeConfig);


describe('VmRuntime (in one thread, MessageChannel between runtimes)', () => {
  it('migrates a running guest; its serial output is gap-free and duplicate-free across the handover', async () => {
    const src = new VmRuntime(factory, { sliceInstructions: 1000 });
    const dst = new VmRuntime(factory, { sliceInstructions: 1000 });
    let text = '';
    const serial = new SerialAssembler((b) => (text += new TextDecoder().decode(b)));
    src.subscribeSerial((c) => serial.push(c));
    dst.subscribeSerial((c) => serial.push(c));
    src.create(CONFIG);
    src.start();
    await until(() => src.instructionCount() > 20_000);

    const { port1, port2 } = new MessageChannel();
    const [sent, got] = await Promise.all([
      src.migrateTo(port1 as unknown as MessagePortLike, { downtimeLimitMs: 50 }),
      dst.receiveFrom(port2 as unknown as MessagePortLike),
    ]);
    expect(sent.wasRunning).toBe(true);
    expect(sent.stats.status).toBe('completed');
    expect(got.digest).toBe(dst.digest());
    expect(src.status().fenced).toBe(true);
    expect(() => src.start()).toThrow(/migrated away/);
    const handedOver = dst.instructionCount();
    expect(handedOver).toBe(src.instructionCount());
    expect(dst.digest()).toBe(src.digest());

    dst.start();
    await until(() => dst.instructionCount() > handedOver + 20_000);
    await dst.pause();
    expect(text).toBe(expectedFakeOutput(dst.instructionCount()));
    expect(text.length).toBeGreaterThan(80);
  });

  it('the source keeps running when the destination cannot build the machine', async () => {
    const src = new VmRuntime(factory, { sliceInstructions: 1000 });
    const dst = new VmRuntime(() => {
      throw new Error('no such machine here');
    });
    src.create(CONFIG);
    src.start();
    const { port1, port2 } = new MessageChannel();
    const [sent, got] = await Promise.allSettled([
      src.migrateTo(port1 as unknown as MessagePortLike),
      dst.receiveFrom(port2 as unknown as MessagePortLike),
    ]);
    expect(sent.status).toBe('rejected');
    expect((sent as PromiseRejectedResult).reason).toBeInstanceOf(MigrationError);
    expect(((sent as PromiseRejectedResult).reason as MigrationError).code).toBe('target-error');
    expect(got.status).toBe('rejected');
    const st = src.status();
    expect(st.fenced).toBe(false);
    expect(st.running).toBe(true);
    const n = src.instructionCount();
    await until(() => src.instructionCount() > n);
    await src.pause();
  });

  it('snapshots a running guest and restores it, serial position included', async () => {
    const a = new VmRuntime(factory, { sliceInstructions: 1000 });
    a.create(CONFIG);
    a.step(12_345);
    const snap = await a.saveSnapshot();
    const b = new VmRuntime(factory);
    b.create(CONFIG);
    await b.restoreSnapshot(snap);
    expect(b.digest()).toBe(a.digest());
    expect(b.status().serialPosition).toBe(a.status().serialPosition);
  });
});
