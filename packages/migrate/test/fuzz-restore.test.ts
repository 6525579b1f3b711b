/**
 * Fuzzes snapshot restore with mutated snapshots of a real toyos machine (issue 5).
 *
 * Every case must end in one of two ways:
 *  - rejected with a typed error (SnapshotFormatError, or StateError from a part's check) and the
 *    target machine untouched;
 *  - accepted, and then the target must be digest-identical to the source (the mutation hit
 *    nothing meaningful, e.g. a skippable flag) — except for "forged" cases, which rewrite a
 *    section value AND recompute the digest (what an attacker or a buggy writer could produce):
 *    those may be accepted only if the part's checks let the state in, and the machine must then
 *    run without a host exception.
 *
 * CI runs FUZZ_CASES_CI cases from a fixed seed; FERRY86_FUZZ_CASES=N (and FERRY86_FUZZ_SEED)
 * runs a longer local session. A failing case prints its index, seed and mutation so it can be
 * replayed.
 *
 * "Untouched" is checked cheaply on every case — a dirty log on the target (every RAM write path,
 * fillPage included, marks it) must collect nothing and every part's encoded state must equal the
 * baseline — and with a full stateDigest every DIGEST_EVERY cases and at the end.
 */
import { StateError } from '@ferry86/mmu';
import { describe, expect, it } from 'vitest';
import {
  allParts,
  IncrementalSnapshotter,
  restoreSnapshotChain,
  saveSnapshot,
  SnapshotFormatError,
  SnapshotRestorer,
  stateDigest,
  yieldToEventLoop,
  streamDeflateCodec,
  type MigratablePc,
  type PageCodec,
} from '../src/index.ts';
import { encodeParts } from '../src/digest/stateDigest.ts';
import { Mutator, rng } from './mutator.ts';
import { bootToyos, runTo } from './toyos-machine.ts';

const FUZZ_CASES_CI = 10_000;
const CASES = Number(process.env.FERRY86_FUZZ_CASES ?? FUZZ_CASES_CI);
const SEED = Number(process.env.FERRY86_FUZZ_SEED ?? 0x5eed_f86);
const DIGEST_EVERY = 97;
const CHAIN_CASES = Math.ceil(CASES / 10);
const COMPRESSED_CASES = Math.ceil(CASES / 4);
const ASYNC_CASES = Math.ceil(CASES / 20);
/** Small worker regions keep the snapshot (and so each case) small: the fuzzer is after structure, not bulk. */
const FUZZ_CMDLINE = 'workers=2 pages=8';
/**
 * Forged fields whose accepted values can hang the run loop: checks missing in other packages,
 * reported to their owners. Forged values there are still restored (typed errors only, target
 * untouched); only the run afterwards is skipped. Remove an entry when its check lands.
 */
const RUN_SKIPPED = new Set<string>([]);

async function fuzzRestore(
  kind: string,
  save: (m: MigratablePc) => Uint8Array,
  cases: number,
  seed: number,
  /** Restore through pushAsync with this (asynchronous-only) decompressor, as a browser would. */
  asyncCodec?: PageCodec,
): Promise<void> {
  const { m: source } = bootToyos(3_000_000, FUZZ_CMDLINE);
  const good = save(source);
  const sourceDigest = stateDigest(source);

  // A target with its own, different state (same configuration).
  const { m: target } = bootToyos(1_000_000, FUZZ_CMDLINE);
  const log = target.memory.createDirtyLog('fuzz-untouched');
  let baseline = encodeParts(allParts(target));
  let baselineDigest = stateDigest(target);
  const rebaseline = (digest = stateDigest(target)): void => {
    log.collect();
    baseline = encodeParts(allParts(target));
    baselineDigest = digest;
  };

  const r = rng(seed);
  const mut = new Mutator(good, source, r);
  const problems: string[] = [];
  const tally: Record<string, number> = {};
  let accepted = 0;
  let forgedAccepted = 0;
  const t0 = performance.now();

  for (let i = 0; i < cases && problems.length < 20; i++) {
    if (i % 250 === 0) await yieldToEventLoop(); // keep the test worker answering vitest's RPCs
    const c = mut.next();
    if (process.env.FERRY86_FUZZ_TRACE) process.stderr.write(`${i} ${c.what}\n`);
    const tc = performance.now();
    const label = `${kind} case ${i} (seed ${seed}): ${c.what}`;
    let err: unknown = null;
    try {
      // Feed in a few pieces, as a file read or a wire would.
      const cut = Math.floor(r() * c.bytes.length);
      if (asyncCodec) {
        const rs = new SnapshotRestorer(target, { codec: asyncCodec });
        await rs.pushAsync(c.bytes.subarray(0, cut));
        await rs.pushAsync(c.bytes.subarray(cut));
        await rs.finishAsync();
      } else {
        const rs = new SnapshotRestorer(target);
        rs.push(c.bytes.subarray(0, cut));
        rs.push(c.bytes.subarray(cut));
        rs.finish();
      }
    } catch (e) {
      err = e;
    }
    if (err !== null) {
      const typed = err instanceof SnapshotFormatError || err instanceof StateError;
      const key = err instanceof SnapshotFormatError ? err.code : (err as Error)?.name ?? String(err);
      tally[key] = (tally[key] ?? 0) + 1;
      if (!typed) {
        problems.push(`${label}: crashed with ${(err as Error)?.stack ?? String(err)}`);
        continue;
      }
      const touched = log.collect();
      const now = encodeParts(allParts(target));
      const changed = now.filter((s, k) => !bytesEqual(s.payload, baseline[k]!.payload)).map((s) => s.name);
      if (touched.length > 0 || changed.length > 0) {
        problems.push(`${label}: failed (${(err as Error).message}) but changed ${touched.length} RAM pages and sections [${changed}]`);
        rebaseline();
      } else if (i % DIGEST_EVERY === 0 && stateDigest(target) !== baselineDigest) {
        problems.push(`${label}: failed but the target's digest changed`);
        rebaseline();
      }
      if (process.env.FERRY86_FUZZ_TRACE) process.stderr.write(`  ${(performance.now() - tc).toFixed(1)} ms\n`);
      continue;
    }
    tally.accepted = (tally.accepted ?? 0) + 1;
    if (!c.forged) {
      accepted++;
      const d = stateDigest(target);
      if (d !== sourceDigest) problems.push(`${label}: ACCEPTED a corrupt state (digest differs from the source)`);
      rebaseline(d);
    } else {
      forgedAccepted++;
      if (!RUN_SKIPPED.has(c.forged)) try {
        // The parts' checks let this state in: running it must be a guest event, not a host crash.
        for (let k = 0, left = 20_000; k < 50 && left > 0; k++) {
          const x = target.run(left);
          left -= x.instructions;
          if (x.reason !== 'limit' && x.reason !== 'idle') break;
        }
      } catch (e) {
        {
          problems.push(`${label}: accepted, then the machine crashed the host: ${(e as Error)?.stack ?? String(e)}`);
        }
      }
      rebaseline();
    }
    if (process.env.FERRY86_FUZZ_TRACE) process.stderr.write(`  ${(performance.now() - tc).toFixed(1)} ms\n`);
  }
  const ms = performance.now() - t0;
  console.log(`${kind} snapshot ${good.length} bytes, ${mut.frames.length} frames`);
  console.log(
    `fuzz (${kind}): ${cases} cases in ${ms.toFixed(0)} ms (seed ${seed}); accepted unchanged ${accepted}, forged states accepted ${forgedAccepted}; outcomes ${JSON.stringify(tally)}`,
  );
  expect(problems).toEqual([]);
  expect(stateDigest(target)).toBe(baselineDigest);
}

describe('fuzzing snapshot restore with mutated toyos snapshots', () => {
  it(`${CASES} mutations: typed errors only, target untouched, accepted streams restore the exact state`, async () => {
    await fuzzRestore('plain', (m) => saveSnapshot(m, { chunkSize: 256 * 1024 }), CASES, SEED);
  });

  // Format version 2: the same, with RAM in CompressedPages frames (the inflater is reached
  // through fixed-up CRCs: corrupt DEFLATE, wrong lengths, swapped and duplicated blocks).
  it(`${COMPRESSED_CASES} mutations of a compressed snapshot: typed errors only, target untouched`, async () => {
    await fuzzRestore('compressed', (m) => saveSnapshot(m, { chunkSize: 256 * 1024, compress: true }), COMPRESSED_CASES, SEED ^ 0x2c0d);
  });

  it(`${ASYNC_CASES} mutations of a compressed snapshot restored through DecompressionStream (async path)`, async () => {
    await fuzzRestore('compressed-async', (m) => saveSnapshot(m, { chunkSize: 256 * 1024, compress: true }), ASYNC_CASES, SEED ^ 0xa5c, streamDeflateCodec()!);
  });

  it(`${CHAIN_CASES} mutations of an incremental link: typed errors only, target untouched, accepted chains exact`, async () => {
    const { m: source } = bootToyos(3_000_000, FUZZ_CMDLINE);
    const chain = new IncrementalSnapshotter(source, { chunkSize: 64 * 1024 });
    const base = chain.saveBytes('base').bytes;
    runTo(source, source.instructionCount + 700_000);
    const { bytes: link, info } = chain.saveBytes('link');
    const { m: target } = bootToyos(1_000_000, FUZZ_CMDLINE);
    let baseline = stateDigest(target);
    const r = rng(SEED ^ 0xc4a1);
    const mut = new Mutator(link, null, r);
    const problems: string[] = [];
    const tally: Record<string, number> = {};
    for (let i = 0; i < CHAIN_CASES && problems.length < 20; i++) {
      if (i % 100 === 0) await yieldToEventLoop();
      const c = mut.next();
      const label = `chain case ${i} (seed ${SEED}): ${c.what}`;
      try {
        restoreSnapshotChain(target, [base, c.bytes]);
      } catch (e) {
        const key = e instanceof SnapshotFormatError ? e.code : (e as Error)?.name ?? String(e);
        tally[key] = (tally[key] ?? 0) + 1;
        if (!(e instanceof SnapshotFormatError || e instanceof StateError)) problems.push(`${label}: crashed with ${(e as Error)?.stack ?? String(e)}`);
        else if (i % 7 === 0 && stateDigest(target) !== baseline) problems.push(`${label}: failed but changed the target`);
        continue;
      }
      tally.accepted = (tally.accepted ?? 0) + 1;
      baseline = stateDigest(target);
      if (baseline !== info.digest) problems.push(`${label}: ACCEPTED a chain whose state differs from the saved one`);
    }
    console.log(`chain fuzz: ${CHAIN_CASES} cases; outcomes ${JSON.stringify(tally)}`);
    expect(problems).toEqual([]);
    expect(stateDigest(target)).toBe(baseline);
  });
});

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
