/**
 * Every stream format version this build has ever written must stay readable (issue 5 item 2):
 * the checked-in snapshots of each older version (test/fixtures/snapshots, made by
 * make-fixtures.ts) restore with today's reader to the digest they were saved with, and the
 * restored guest continues exactly like a fresh boot run to the same instruction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createPcMachine, FORMAT_VERSION, readStreamHeader, DEFAULT_LIMITS, restoreSnapshot, restoreSnapshotChain, stateDigest } from '../src/index.ts';
import { boot, runTo, type FixtureInfo } from './fixtures/snapshots/make-fixtures.ts';

const DIR = fileURLToPath(new URL('./fixtures/snapshots/', import.meta.url));
const infos = readdirSync(DIR)
  .filter((f) => /^v\d+-.*\.json$/.test(f))
  .sort()
  .map((f) => ({ base: f.slice(0, -'.json'.length), info: JSON.parse(readFileSync(DIR + f, 'utf8')) as FixtureInfo }));
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(DIR + name));

describe('snapshots of every format version restore and continue exactly', () => {
  it('has fixtures of format version 1 (the oldest) and none newer than this build', () => {
    const versions = new Set(infos.map((i) => i.info.formatVersion));
    expect(versions.has(1)).toBe(true);
    expect(Math.max(...versions)).toBeLessThanOrEqual(FORMAT_VERSION);
  });

  for (const { base, info } of infos) {
    it(`${base} (format v${info.formatVersion}, ${info.image} at ${info.at})`, () => {
      const chain = base.endsWith('-chain');
      const snaps = chain ? [file(`${base}-base.snap`), file(`${base}-link.snap`)] : [file(`${base}.snap`)];
      const header = readStreamHeader(snaps[0]!, DEFAULT_LIMITS);
      expect(header.formatVersion).toBe(info.formatVersion);
      const m = createPcMachine(header.config);
      const r = chain ? restoreSnapshotChain(m, snaps) : restoreSnapshot(m, snaps[0]!);
      // The END frame's digest, verified over the received state, is the one saved with the file.
      expect(r.digest).toBe(info.digest);
      expect(m.instructionCount).toBe(info.at);
      // Continuation: restored and freshly booted guests agree after more instructions.
      runTo(m, info.at + info.continueFor);
      const fresh = boot(info.image, info.cmdline, info.config.memoryMiB, info.at + info.continueFor);
      expect(stateDigest(m)).toBe(stateDigest(fresh));
    });
  }
});
