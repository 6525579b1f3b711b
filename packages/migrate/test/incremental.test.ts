import { describe, expect, it } from 'vitest';
import {
  createPcMachine,
  IncrementalSnapshotter,
  restoreSnapshot,
  restoreSnapshotChain,
  restoreSnapshotChainAsync,
  SnapshotFormatError,
  streamDeflateCodec,
  stateDigest,
  type MigratablePc,
} from '../src/index.ts';
import { bootToyos, runTo, TOYOS_MIB } from './toyos-machine.ts';

function expectFormatError(f: () => unknown, code: string, message?: RegExp): void {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SnapshotFormatError);
  expect((err as SnapshotFormatError).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
}

/** toyos with its workers running, snapshotted every 1.5 M instructions. */
function chainOf(n: number, compress = false): { m: MigratablePc; snaps: Uint8Array[]; digests: string[]; pages: number[]; chain: IncrementalSnapshotter } {
  const { m } = bootToyos(3_000_000);
  const chain = new IncrementalSnapshotter(m, { chunkSize: 64 * 1024, compress });
  const snaps: Uint8Array[] = [];
  const digests: string[] = [];
  const pages: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) runTo(m, m.instructionCount + 1_500_000);
    const { bytes, info } = chain.saveBytes(`s${i}`);
    expect(info.digest).toBe(stateDigest(m));
    snaps.push(bytes);
    digests.push(info.digest);
    pages.push(info.pages);
  }
  return { m, snaps, digests, pages, chain };
}

function fresh(): MigratablePc {
  const m = createPcMachine({ memoryMiB: TOYOS_MIB });
  m.run(1000); // some state of its own, to be replaced
  return m;
}

describe('incremental snapshots of a running toyos', () => {
  it('a restored chain equals the live machine at every snapshot, and continues identically', () => {
    const { m, snaps, digests, pages } = chainOf(4);
    // Later links carry only the pages written since their parent (toyos's workers rewrite
    // their whole regions quickly, so bytes shrink less than page counts).
    expect(pages[0]).toBe(m.memory.pageCount);
    for (const p of pages.slice(1)) expect(p).toBeLessThan(m.memory.pageCount / 4);
    for (let k = 1; k <= snaps.length; k++) {
      const t = fresh();
      const r = restoreSnapshotChain(t, snaps.slice(0, k));
      expect(r.digest).toBe(digests[k - 1]);
      expect(stateDigest(t)).toBe(digests[k - 1]);
    }
    const t = fresh();
    restoreSnapshotChain(t, snaps);
    runTo(m, m.instructionCount + 2_000_000);
    runTo(t, t.instructionCount + 2_000_000);
    expect(stateDigest(t)).toBe(stateDigest(m));
  });

  it('names its parent: links out of order, missing or alone are refused and the target is untouched', () => {
    const { snaps } = chainOf(3);
    const t = fresh();
    const before = stateDigest(t);
    expectFormatError(() => restoreSnapshot(t, snaps[1]!), 'parent-mismatch', /incremental snapshot on top of "s0"/);
    expectFormatError(() => restoreSnapshotChain(t, [snaps[0]!, snaps[2]!]), 'parent-mismatch', /snapshot 2 of 2 in the chain: .*builds on "s1"/);
    expectFormatError(() => restoreSnapshotChain(t, [snaps[1]!, snaps[2]!]), 'parent-mismatch');
    expectFormatError(() => restoreSnapshotChain(t, [snaps[0]!, snaps[0]!]), 'parent-mismatch', /names no parent/);
    // A corrupt last link fails the whole chain.
    const bad = snaps[2]!.slice();
    bad[bad.length - 10]! ^= 4;
    expectFormatError(() => restoreSnapshotChain(t, [snaps[0]!, snaps[1]!, bad]), 'crc-mismatch', /snapshot 3 of 3/);
    expect(stateDigest(t)).toBe(before);
  });

  it('a save whose writer fails mid-stream leaves the chain valid and the next save complete', () => {
    const { m, snaps, chain } = chainOf(2);
    runTo(m, m.instructionCount + 1_500_000);
    // Snapshot sizes vary with the workload; fail after the first chunk of a multi-chunk save.
    let written = 0;
    expect(() =>
      chain.save((c) => {
        if (written > 0) throw new Error('disk full');
        written += c.length;
      }, 's2-failed'),
    ).toThrow('disk full');
    expect(chain.head?.name).toBe('s1');
    // An abandoned chunk generator rolls back the same way.
    const gen = chain.chunks('s2-abandoned');
    expect(gen.next().done).toBe(false);
    gen.return(undefined as never);
    expect(chain.head?.name).toBe('s1');

    runTo(m, m.instructionCount + 500_000);
    const { bytes, info } = chain.saveBytes('s2');
    expect(info.parent?.name).toBe('s1');
    expect(info.digest).toBe(stateDigest(m));
    const t = fresh();
    expect(restoreSnapshotChain(t, [...snaps, bytes]).digest).toBe(stateDigest(m));
    expect(stateDigest(t)).toBe(stateDigest(m));
  });

  it('compressed chains: smaller, and restored synchronously or with an asynchronous-only decompressor (browsers)', async () => {
    const plain = chainOf(3);
    const packed = chainOf(3, true);
    expect(packed.digests).toEqual(plain.digests);
    for (let i = 0; i < 3; i++) expect(packed.snaps[i]!.length).toBeLessThan(plain.snaps[i]!.length / 2);
    const a = fresh();
    expect(restoreSnapshotChain(a, packed.snaps).digest).toBe(plain.digests[2]);
    // DecompressionStream only, as in a browser: the synchronous restore refuses, the async one works.
    const web = streamDeflateCodec()!;
    const b = fresh();
    const before = stateDigest(b);
    expect(() => restoreSnapshotChain(b, packed.snaps, { codec: web })).toThrow(/pushAsync/);
    expect(stateDigest(b)).toBe(before);
    const r = await restoreSnapshotChainAsync(b, packed.snaps, { codec: web });
    expect(r.digest).toBe(plain.digests[2]);
    expect(stateDigest(b)).toBe(plain.digests[2]);
    // A corrupt link is named, and nothing changed.
    const bad = packed.snaps.map((x) => x.slice());
    bad[1]![bad[1]!.length - 40]! ^= 1;
    const c = fresh();
    const cBefore = stateDigest(c);
    await expect(restoreSnapshotChainAsync(c, bad, { codec: web })).rejects.toThrow(/snapshot 2 of 3 in the chain/);
    expect(stateDigest(c)).toBe(cBefore);
  });
});
