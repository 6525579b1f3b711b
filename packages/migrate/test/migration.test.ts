import { describe, expect, it } from 'vitest';
import {
  createLoopbackPair,
  MigrationError,
  MigrationSource,
  MigrationTarget,
  stateDigest,
  type MigrationStats,
} from '../src/index.ts';
import { FakeMachine, scribble, type FakeConfig } from './fake-machine.ts';

const CONFIG: FakeConfig = { ramKiB: 4096, hotPages: 24 };

function sourceMachine(): FakeMachine {
  const m = new FakeMachine(CONFIG);
  scribble(m, 3);
  m.run(10_000);
  return m;
}

function target(): MigrationTarget<FakeMachine> {
  return new MigrationTarget<FakeMachine>({ createMachine: (c) => new FakeMachine(c as FakeConfig) });
}

describe('pre-copy live migration (fake machine, loopback transport)', () => {
  it('converges while the guest keeps dirtying pages, and the destination is the same guest', async () => {
    const src = sourceMachine();
    let fenced = false;
    const progress: MigrationStats[] = [];
    const source = new MigrationSource(src, {
      sliceInstructions: 2_000,
      stepBytes: 256 * 1024,
      chunkSize: 128 * 1024,
      windowBytes: 512 * 1024,
      onFence: () => (fenced = true),
      onProgress: (s) => progress.push(s),
    });
    const [a, b] = createLoopbackPair();
    const received = target().receive(b);
    const stats = await source.migrate(a);
    const { machine: dst, digest } = await received;

    expect(fenced).toBe(true);
    expect(source.isFenced).toBe(true);
    expect(stats.status).toBe('completed');
    // The guest ran during pre-copy, so later rounds were needed and the final one was small.
    expect(src.instructionCount).toBeGreaterThan(10_000);
    expect(stats.rounds.length).toBeGreaterThanOrEqual(2);
    const last = stats.rounds.at(-1)!;
    expect(last.stopAndCopy).toBe(true);
    expect(last.pages).toBeLessThan(src.memory.pageCount);
    expect(stats.rounds[0]!.pages).toBe(src.memory.pageCount);
    expect(stats.ram.zeroPages + stats.ram.fullPages).toBe(stats.rounds.reduce((n, r) => n + r.pages, 0));
    expect(stats.downtimeMs).toBeGreaterThan(0);
    expect(stats.bytesTransferred).toBeGreaterThan(stats.ram.transferredBytes);
    expect(progress.length).toBeGreaterThan(1);

    // Identical RAM and state, and the two continue identically.
    expect(Buffer.from(dst.memory.ram).equals(Buffer.from(src.memory.ram))).toBe(true);
    expect(stateDigest(dst)).toBe(stateDigest(src));
    expect(digest).toBe(stateDigest(src));
    src.run(5000);
    dst.run(5000);
    expect(stateDigest(dst)).toBe(stateDigest(src));
  });

  it('compressed: fewer bytes on the wire, the same guest', async () => {
    const plain = sourceMachine();
    const packed = sourceMachine();
    const run = async (m: FakeMachine, compress: boolean) => {
      const source = new MigrationSource(m, { guestRunning: false, compress });
      const [a, b] = createLoopbackPair();
      const received = target().receive(b);
      const stats = await source.migrate(a);
      return { stats, dst: (await received).machine };
    };
    const p = await run(plain, false);
    const z = await run(packed, true);
    expect(z.stats.bytesTransferred).toBeLessThan(p.stats.bytesTransferred / 2);
    expect(stateDigest(z.dst)).toBe(stateDigest(packed));
    expect(stateDigest(z.dst)).toBe(stateDigest(p.dst));
  });

  it('a paused guest migrates in one round plus an empty final round', async () => {
    const src = sourceMachine();
    const source = new MigrationSource(src, { guestRunning: false });
    const [a, b] = createLoopbackPair();
    const received = target().receive(b);
    const stats = await source.migrate(a);
    const { machine } = await received;
    expect(stats.rounds.map((r) => r.pages)).toEqual([src.memory.pageCount, 0]);
    expect(stateDigest(machine)).toBe(stateDigest(src));
  });

  for (const failAt of [1, 5, 'end', 'ready'] as const) {
    it(`a failure before READY (${failAt}) resumes the source; a retry is complete and identical`, async () => {
      const src = sourceMachine();
      const source = new MigrationSource(src, { sliceInstructions: 2_000, chunkSize: 64 * 1024, windowBytes: 256 * 1024 });
      const [a, b] = createLoopbackPair();
      let failed: MigrationTarget<FakeMachine> | null = target();
      const dead = failed.receive(b).catch((e: unknown) => e);
      if (failAt === 'ready') {
        // The destination's READY never arrives: its link breaks as it answers.
        b.fault = (data) => (new Uint8Array(data)[0] === 3 ? 'close' : 'deliver');
      } else {
        a.fault = (data, i) => {
          const last = new DataView(data).getUint32(4, true) < 64 * 1024 - 100;
          return (failAt === 'end' ? last && i > 3 : i === failAt) ? 'close' : 'deliver';
        };
      }
      const err = await source.migrate(a).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).code).toBe('transport-closed');
      expect(source.isFenced).toBe(false);
      expect(source.stats.status).toBe('failed');
      expect(await dead).toBeInstanceOf(MigrationError);
      failed = null;

      // The source is still authoritative: it runs on, then a retry to a fresh target succeeds.
      src.run(3000);
      const [c, d] = createLoopbackPair();
      const received = target().receive(d);
      const stats = await source.migrate(c);
      const { machine } = await received;
      expect(stats.status).toBe('completed');
      expect(stats.rounds[0]!.pages).toBe(src.memory.pageCount);
      expect(Buffer.from(machine.memory.ram).equals(Buffer.from(src.memory.ram))).toBe(true);
      expect(stateDigest(machine)).toBe(stateDigest(src));
    });
  }

  it('a destination that rejects the stream makes the source resume with its reason', async () => {
    const src = sourceMachine();
    const source = new MigrationSource(src, { guestRunning: false });
    const [a, b] = createLoopbackPair();
    const wrong = new MigrationTarget<FakeMachine>({ machine: new FakeMachine({ ramKiB: 4096, hotPages: 1 }) });
    const dead = wrong.receive(b).catch((e: unknown) => e);
    const err = (await source.migrate(a).catch((e: unknown) => e)) as MigrationError;
    expect(err.code).toBe('target-error');
    expect(err.message).toMatch(/config-mismatch/);
    expect(((await dead) as MigrationError).code).toBe('stream-error');
    expect(source.isFenced).toBe(false);
  });

  it('a destination that never answers times out and the source resumes', async () => {
    const src = new FakeMachine({ ramKiB: 64, hotPages: 2 });
    const source = new MigrationSource(src, { guestRunning: false, readyTimeoutMs: 50, ackTimeoutMs: 50 });
    const [a, b] = createLoopbackPair();
    b.listen({ message: () => {}, close: () => {} }); // a silent peer
    const err = (await source.migrate(a).catch((e: unknown) => e)) as MigrationError;
    expect(err.code).toBe('timeout');
    expect(source.isFenced).toBe(false);
  });

  it('a fenced source refuses to migrate again', async () => {
    const src = sourceMachine();
    const source = new MigrationSource(src, { guestRunning: false });
    const [a, b] = createLoopbackPair();
    const received = target().receive(b);
    await source.migrate(a);
    await received;
    const [c] = createLoopbackPair();
    await expect(source.migrate(c)).rejects.toThrow(/fenced/);
  });

  it("verifyRam 'full' catches a RAM write the dirty log never saw, and the source resumes", async () => {
    const src = sourceMachine();
    let slices = 0;
    const source = new MigrationSource(src, {
      verifyRam: 'full',
      stepBytes: 64 * 1024,
      runSlice: () => {
        // Page 0 went out in the first step; now change it behind the dirty log's back.
        if (++slices === 3) src.memory.ram[100] ^= 0xff;
        return true;
      },
    });
    const [a, b] = createLoopbackPair();
    const dead = target().receive(b).catch((e: unknown) => e);
    const err = (await source.migrate(a).catch((e: unknown) => e)) as MigrationError;
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.code).toBe('target-error');
    expect(err.message).toMatch(/digest-mismatch/);
    expect(((await dead) as MigrationError).code).toBe('stream-error');
    expect(source.isFenced).toBe(false);
  });
});
