import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  createPcMachine,
  restoreSnapshot,
  saveSnapshot,
  SerialAssembler,
  stateDigest,
  VmRuntime,
  type MessagePortLike,
  type MigratablePc,
} from '../src/index.ts';
import { until } from './wait.ts';
import { heartbeats, heartbeatsContinuous, TOYOS } from './toyos.ts';

function runUntil(m: MigratablePc, out: () => string, done: (o: string) => boolean, max = 400e6): void {
  const start = m.instructionCount;
  while (!done(out())) {
    const r = m.run(1_000_000);
    if (r.reason !== 'limit' && r.reason !== 'idle') throw new Error(`guest stopped: ${r.reason}\n${out().slice(-500)}`);
    if (m.instructionCount - start > max) throw new Error(`guest too slow\n${out().slice(-500)}`);
  }
}


describe('PcMachine running toyos', () => {
  it('a snapshot taken while toyos runs restores into a fresh PC that continues identically', () => {
    const a = createPcMachine({ memoryMiB: 16 });
    a.loadMultiboot(TOYOS, 'workers=2');
    let outA = '';
    a.setSerialOutput((b) => (outA += String.fromCharCode(b)));
    runUntil(a, () => outA, (o) => o.includes('tick 2\r\n'));
    a.run(1_234_567); // somewhere in the middle of a slice
    const snap = saveSnapshot(a);

    const b = createPcMachine({ memoryMiB: 16 });
    let outB = '';
    b.setSerialOutput((x) => (outB += String.fromCharCode(x)));
    restoreSnapshot(b, snap);
    expect(stateDigest(b)).toBe(stateDigest(a));

    const mark = outA.length;
    a.run(25_000_000);
    b.run(25_000_000);
    expect(outB).toBe(outA.slice(mark));
    expect(outB).toMatch(/tick \d+/);
    expect(stateDigest(b)).toBe(stateDigest(a));
  });

  it('live-migrates running toyos between runtimes: same guest, heartbeats without gaps or repeats', async () => {
    const factory = createPcMachine;
    const src = new VmRuntime(factory, { sliceInstructions: 200_000 });
    const dst = new VmRuntime(factory, { sliceInstructions: 200_000 });
    let text = '';
    const serial = new SerialAssembler((b) => (text += String.fromCharCode(...b)));
    src.subscribeSerial((c) => serial.push(c));
    dst.subscribeSerial((c) => serial.push(c));
    src.create({ memoryMiB: 24 });
    src.loadMultiboot(TOYOS, 'workers=2');
    src.start();
    await until(() => text.includes('tick 3\r\n'), () => text.slice(-300));

    const { port1, port2 } = new MessageChannel();
    const [sent, got] = await Promise.all([
      src.migrateTo(port1 as unknown as MessagePortLike),
      dst.receiveFrom(port2 as unknown as MessagePortLike),
    ]);
    expect(sent.stats.status).toBe('completed');
    expect(sent.stats.rounds.length).toBeGreaterThanOrEqual(2);
    expect(got.digest).toBe(src.digest());
    expect(dst.digest()).toBe(src.digest());
    const lastTickBefore = heartbeats(text).at(-1)!;

    dst.start();
    dst.sendSerial(new TextEncoder().encode('echo migrated\r'));
    await until(() => text.includes('\r\nmigrated\r\n') && heartbeats(text).at(-1)! >= lastTickBefore + 3, () => text.slice(-300));
    await dst.pause();
    expect(heartbeatsContinuous(text)).toBe(true);
    expect(text).not.toMatch(/ERROR|PANIC/);
  });
});
