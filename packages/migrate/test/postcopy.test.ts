import { describe, expect, it } from 'vitest';
import {
  createLoopbackPair,
  createPcMachine,
  MigrationError,
  MigrationSource,
  MigrationTarget,
  stateDigest,
  yieldToEventLoop,
  type MigratablePc,
  type MigrationMode,
  type PostCopyPager,
} from '../src/index.ts';
import { PostCopyQueue } from '../src/migration/PostCopyQueue.ts';
import { bootToyos, runTo } from './toyos-machine.ts';

const START = 3_000_000;
/** Instructions the destination runs after the handover. */
const AFTER = 2_000_000;

function target(): MigrationTarget<MigratablePc> {
  return new MigrationTarget<MigratablePc>({ createMachine: (c) => createPcMachine(c as { memoryMiB: number }) });
}

/** Runs the destination's guest to exactly `end` instructions through the post-copy pager. */
async function runPostCopy(m: MigratablePc, pager: PostCopyPager, end: number): Promise<void> {
  while (m.instructionCount < end) {
    const r = await pager.run(end - m.instructionCount);
    if (r.reason !== 'limit' && r.reason !== 'idle') throw new Error(`toyos stopped: ${r.reason}`);
    await yieldToEventLoop();
  }
}

async function migrate(mode: MigrationMode) {
  const { m: src, out: srcOut } = bootToyos(START);
  // A tiny downtime limit, so that the hybrid's first round does not converge by itself.
  const source = new MigrationSource(src, { mode, sliceInstructions: 20_000, stepBytes: 256 * 1024, downtimeLimitMs: 0.001 });
  const [a, b] = createLoopbackPair();
  const received = target().receive(b);
  const migrated = source.migrate(a);
  const { machine: dst, postCopy, digest } = await received;
  const handover = src.instructionCount;
  const handoverDigest = stateDigest(src);
  const srcText = srcOut();
  let dstText = '';
  dst.setSerialOutput((c) => (dstText += String.fromCharCode(c)));
  expect(digest).toBe('');
  expect(postCopy).toBeDefined();
  // The guest runs while its pages are still arriving.
  await runPostCopy(dst, postCopy!, handover + AFTER);
  const stats = await migrated;
  expect(await postCopy!.complete).toBe(handoverDigest);
  return { src, dst, stats, pager: postCopy!, handover, text: srcText + dstText };
}

describe('post-copy and hybrid live migration (toyos, loopback transport)', () => {
  it('post-copy: the guest runs on the destination at once, every page is sent exactly once, and it is the same guest', async () => {
    const { src, dst, stats, pager, handover, text } = await migrate('post-copy');
    expect(source(src)).toBe(true);
    expect(stats.status).toBe('completed');
    expect(stats.mode).toBe('post-copy');
    expect(stats.convergence).toBe('post-copy');
    // One pass over RAM, after the handover; no page twice.
    expect(stats.rounds.length).toBe(1);
    expect(stats.rounds[0]!.pages).toBe(src.memory.pageCount);
    expect(stats.ram.zeroPages + stats.ram.fullPages).toBe(src.memory.pageCount);
    // The destination's guest touched absent pages and got them out of turn.
    expect(pager.stats.faults).toBeGreaterThan(0);
    expect(stats.postcopy!.requests).toBeGreaterThan(0);
    expect(stats.postcopy!.requestedPages + stats.postcopy!.pushedPages).toBe(src.memory.pageCount);
    expect(pager.done).toBe(true);
    expect(dst.pc.phys.presence.absentCount).toBe(0);
    // The same guest as one that never moved: console and state at the same instruction.
    const { m: ref, out: refOut } = bootToyos(START);
    runTo(ref, handover + AFTER);
    expect(dst.instructionCount).toBe(handover + AFTER);
    expect(text).toBe(refOut());
    expect(stateDigest(dst)).toBe(stateDigest(ref));
  });

  it('hybrid: one pre-copy round while the guest runs, then post-copy for what it dirtied', async () => {
    const { src, dst, stats, handover, text } = await migrate('hybrid');
    expect(stats.mode).toBe('hybrid');
    expect(stats.convergence).toBe('post-copy');
    expect(stats.rounds.length).toBe(2);
    expect(stats.rounds[0]!.pages).toBe(src.memory.pageCount);
    expect(stats.rounds[1]!.pages).toBeLessThan(src.memory.pageCount);
    expect(handover).toBeGreaterThan(START); // the guest ran during the first round
    const { m: ref, out: refOut } = bootToyos(START);
    runTo(ref, handover + AFTER);
    expect(text).toBe(refOut());
    expect(stateDigest(dst)).toBe(stateDigest(ref));
  });

  it('a channel that breaks after the handover is a postcopy-failed on both sides (the source stays fenced)', async () => {
    const { m: src } = bootToyos(START);
    const source = new MigrationSource(src, { mode: 'post-copy', postCopyStepPages: 8 });
    const [a, b] = createLoopbackPair();
    const received = target().receive(b);
    const migrated = source.migrate(a);
    migrated.catch(() => {});
    const { machine: dst, postCopy } = await received;
    a.fault = () => 'close'; // the link breaks at the source's next message: both ends learn it
    await expect(migrated).rejects.toMatchObject({ code: 'postcopy-failed' });
    expect(source.isFenced).toBe(true);
    const err = await postCopy!.complete.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).code).toBe('postcopy-failed');
    await expect(runPostCopy(dst, postCopy!, dst.instructionCount + AFTER)).rejects.toMatchObject({ code: 'postcopy-failed' });
  });
});

describe('PostCopyQueue', () => {
  it('sends every page once, requested ones first, ignoring requests for sent or queued pages', () => {
    const q = new PostCopyQueue(Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 9]), 16);
    const batch = new Uint32Array(3);
    const take = () => Array.from(batch.subarray(0, q.take(batch)));
    expect(take()).toEqual([0, 1, 2]);
    q.request([7, 1, 6, 7, 8, 15]); // 1 was sent, 7 twice, 8 and 15 are not in the rest
    expect(take()).toEqual([6, 7]);
    expect(take()).toEqual([3, 4, 5]);
    q.request([9]);
    expect(take()).toEqual([9]);
    expect(take()).toEqual([]);
    expect(q.left).toBe(0);
    expect(q.requestedPages + q.pushedPages).toBe(9);
  });
});

function source(m: MigratablePc): boolean {
  return m.instructionCount === START; // post-copy stops the source guest at once
}
