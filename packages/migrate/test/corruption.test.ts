import { describe, expect, it } from 'vitest';
import { FRAME_FLAG_SKIPPABLE, restoreSnapshot, saveSnapshot, SnapshotFormatError, stateDigest, type SnapshotErrorCode } from '../src/index.ts';
import { FakeCpu, FakeMachine, scribble } from './fake-machine.ts';
import { buildStream, frameBoundaries } from './stream-builder.ts';
import { crc32c } from '../src/format/crc32c.ts';
import type { StateRecord } from '@ferry86/mmu';

const CONFIG = { ramKiB: 64, hotPages: 4 };

function source(): FakeMachine {
  const m = new FakeMachine(CONFIG);
  scribble(m, 2);
  m.run(300);
  return m;
}

/** A target with state of its own, to show a failed restore leaves it untouched. */
function target(): FakeMachine {
  const m = new FakeMachine(CONFIG);
  m.run(50);
  return m;
}

function expectRejected(bytes: Uint8Array, code?: SnapshotErrorCode | SnapshotErrorCode[], message?: RegExp): SnapshotFormatError {
  const dst = target();
  const before = stateDigest(dst);
  let err: unknown = null;
  try {
    restoreSnapshot(dst, bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SnapshotFormatError);
  const e = err as SnapshotFormatError;
  if (code) expect(Array.isArray(code) ? code : [code]).toContain(e.code);
  if (message) expect(e.message).toMatch(message);
  expect(stateDigest(dst)).toBe(before);
  return e;
}

describe('hostile streams are rejected with a typed error and the target is untouched', () => {
  const good = saveSnapshot(source(), { chunkSize: 64 * 1024 });

  it('accepts the unmodified stream (control)', () => {
    const dst = target();
    restoreSnapshot(dst, good);
    expect(stateDigest(dst)).toBe(stateDigest(source()));
  });

  it('truncation at every frame boundary, inside the header and inside frames', () => {
    const bounds = frameBoundaries(good);
    expect(bounds.at(-1)).toBe(good.length);
    for (const b of bounds.slice(0, -1)) {
      expectRejected(good.subarray(0, b), 'truncated');
      expectRejected(good.subarray(0, b + 5), 'truncated');
    }
    for (const b of [0, 3, 8, 15, 16, 20, bounds[0]! - 1]) expectRejected(good.subarray(0, b), 'truncated');
  });

  it('every single-bit flip is caught; flips inside a frame body are CRC mismatches naming the frame', () => {
    const bounds = frameBoundaries(good);
    const positions = new Set<number>();
    for (let i = 0; i < bounds[0]!; i++) positions.add(i); // whole header
    for (let f = 0; f < bounds.length - 1; f++) {
      for (let i = 0; i < 12; i++) positions.add(bounds[f]! + i); // frame headers
      positions.add(bounds[f]! + 12); // first payload byte
      positions.add(bounds[f + 1]! - 1); // CRC
      positions.add(Math.floor((bounds[f]! + bounds[f + 1]!) / 2));
    }
    for (const pos of positions) {
      const bit = pos % 8;
      const bad = good.slice();
      bad[pos]! ^= 1 << bit;
      const f = bounds.findIndex((b, i) => pos >= b && pos < (bounds[i + 1] ?? Infinity));
      const inBody = f >= 0 && pos >= bounds[f]! + 12;
      const e = expectRejected(bad, inBody ? 'crc-mismatch' : undefined);
      if (inBody) expect(e.message).toBe(`CRC mismatch in frame ${f}`);
    }
  });

  it('bad magic, unsupported format version', () => {
    const a = good.slice();
    a[1] = 0x47;
    expectRejected(a, 'bad-magic');
    expectRejected(new TextEncoder().encode('{"not": "a snapshot"}'), 'bad-magic');
    const b = good.slice();
    b[8] = 3;
    expectRejected(b, 'unsupported-version', /stream format version 3 is newer than this build reads \(versions 1\.\.2\)/);
    const c = good.slice();
    c[8] = 0;
    expectRejected(c, 'unsupported-version', /stream format version 0 is older than this build reads \(versions 1\.\.2\)/);
  });

  it('oversize lengths fail before any data is buffered', () => {
    const bounds = frameBoundaries(good);
    const hdr = good.slice(0, bounds[0]! + 12);
    new DataView(hdr.buffer).setUint32(bounds[0]! + 8, 0xfffffff0, true);
    expectRejected(hdr, 'frame-too-large');
    const h2 = good.slice(0, 16);
    new DataView(h2.buffer).setUint32(12, 0x7fffffff, true);
    expectRejected(h2, 'limit-exceeded');
  });

  it('a lost frame is out of sequence; bytes after END are rejected', () => {
    const bounds = frameBoundaries(good);
    const dropped = new Uint8Array([...good.subarray(0, bounds[1]!), ...good.subarray(bounds[2]!)]);
    expectRejected(dropped, 'out-of-sequence');
    expectRejected(new Uint8Array([...good, 0]), 'trailing-data');
  });

  it('wrong machine configuration or RAM size', () => {
    const m = source();
    expectRejected(buildStream(m, { config: { ramKiB: 64, hotPages: 5 } }), 'config-mismatch');
    const big = new FakeMachine({ ramKiB: 64, hotPages: 4 });
    expectRejected(buildStream(big, { pageCount: 15 }), ['config-mismatch', 'page-out-of-range']);
  });

  it('page numbers out of range and pages that never arrive', () => {
    const m = source();
    expectRejected(buildStream(m, { beforeSections: (enc) => enc.zeroRun(10, 7) }), 'page-out-of-range', /pages 10\.\.16 are outside RAM \(0\.\.15\)/);
    expectRejected(buildStream(m, { beforeSections: (enc) => enc.fullPages(new Uint8Array(17 * 4096), [16], 0, 1) }), 'page-out-of-range');
    expectRejected(buildStream(m, { skipPages: true, beforeSections: (enc) => (enc.zeroRun(0, 15), 15) }), 'page-missing', /page 15/);
  });

  it('section versions outside what the build accepts; older versions are upgraded', () => {
    const m = source();
    const v3 = new FakeCpu();
    v3.schema = { ...FakeCpu.schemaV2, version: 3 };
    expectRejected(buildStream(m, { parts: [m.memory, v3, m.dev] }), 'section-version', /section "cpu0" version 3 is newer than this build accepts \(1\.\.2\)/);
    const v0 = new FakeCpu();
    v0.schema = { ...FakeCpu.schemaV2, version: 0 };
    expectRejected(buildStream(m, { parts: [m.memory, v0, m.dev] }), 'section-version', /older than this build accepts \(1\.\.2\)/);

    // A version 1 record (no "on" field) loads through the upgrade.
    const v1 = new FakeCpu();
    const { on: _on, ...v1fields } = FakeCpu.schemaV2.fields;
    v1.schema = { type: 'fake-cpu', version: 1, fields: v1fields };
    v1.saveState = function (this: FakeCpu): StateRecord {
      const r = FakeCpu.prototype.saveState.call(this);
      delete r.on;
      return r;
    };
    const dst = target();
    restoreSnapshot(dst, buildStream(m, { parts: [m.memory, v1, m.dev] }));
    expect(dst.cpu.on).toBe(true);
  });

  it('unknown, missing, duplicated, mistyped and invalid sections', () => {
    const m = source();
    const alien = { sectionName: 'alien0', schema: { type: 'alien', version: 1, fields: { x: 'u8' as const } }, saveState: () => ({ x: 1 }), loadState: () => {} };
    expectRejected(buildStream(m, { parts: [...m.stateParts(), alien] }), 'unknown-section', /unknown section "alien0"/);
    // An optional unknown section is skipped.
    const optional = { ...alien, schema: { ...alien.schema, optional: true } };
    const dst = target();
    restoreSnapshot(dst, buildStream(m, { parts: [...m.stateParts(), optional] }));
    expect(stateDigest(dst)).toBe(stateDigest(m));

    expectRejected(buildStream(m, { parts: [m.memory, m.cpu] }), 'missing-section', /no section "dev0"/);
    expectRejected(buildStream(m, { parts: [m.memory, m.cpu, m.dev, m.dev] }), 'duplicate-section');
    const renamed = new FakeCpu();
    renamed.schema = { ...FakeCpu.schemaV2, type: 'other-cpu' };
    expectRejected(buildStream(m, { parts: [m.memory, renamed, m.dev] }), 'section-type');
    m.dev.port = 0x1234;
    expectRejected(buildStream(m), 'bad-section', /section "dev0": port 0x1234 is not an ISA port/);
  });

  it('a digest that does not match the state', () => {
    expectRejected(buildStream(source(), { digest: new Uint32Array([1, 2, 3, 4]) }), 'digest-mismatch', /state digest mismatch/);
  });

  it('unknown frame types: mandatory ones fail, skippable ones are ignored; delta records are refused', () => {
    const m = source();
    // Hand-made frame of type 77 inserted before the END frame, with sequence numbers fixed up.
    const withFrame = (flags: number): Uint8Array => {
      const s = buildStream(m);
      const bounds = frameBoundaries(s);
      const endAt = bounds.at(-2)!;
      const frame = new Uint8Array(12 + 3 + 4);
      const v = new DataView(frame.buffer);
      frame[0] = 77;
      frame[1] = flags;
      v.setUint32(4, bounds.length - 2, true);
      v.setUint32(8, 3, true);
      v.setUint32(15, crc32c(frame, 0, 15), true);
      const end = s.slice(endAt);
      const ev = new DataView(end.buffer);
      ev.setUint32(4, bounds.length - 1, true);
      ev.setUint32(end.length - 4, crc32c(end, 0, end.length - 4), true);
      return new Uint8Array([...s.subarray(0, endAt), ...frame, ...end]);
    };
    expectRejected(withFrame(0), 'unknown-frame');
    const dst = target();
    restoreSnapshot(dst, withFrame(FRAME_FLAG_SKIPPABLE));
    expect(stateDigest(dst)).toBe(stateDigest(m));

    const delta = buildStream(m, { beforeSections: (enc) => (enc.fullPages(m.memory.ram, [1], 0, 1), 1) });
    // Turn that last Pages frame's record kind into 2 (delta) and fix its CRC.
    const bounds = frameBoundaries(delta);
    const fi = bounds.length - 2 - 4; // END, 3 sections, then our frame
    const start = bounds[fi]!;
    const bad = delta.slice();
    bad[start + 12 + 4 + 4] = 2;
    const len = new DataView(bad.buffer).getUint32(start + 8, true);
    new DataView(bad.buffer).setUint32(start + 12 + len, crc32c(bad, start, start + 12 + len), true);
    expectRejected(bad, 'unsupported-record', /sub-page delta/);
  });
});

describe('a part that fails to load after its checks passed', () => {
  it('is rolled back with every part loaded before it; RAM is not touched; the error is typed', () => {
    const src = source();
    const bytes = saveSnapshot(src);
    const dst = target();
    const before = stateDigest(dst);
    // dev0 loads after cpu0: cpu0 is loaded, then dev0 throws a host error (not a StateError).
    const load = dst.dev.loadState.bind(dst.dev);
    let calls = 0;
    dst.dev.loadState = (r: StateRecord): void => {
      if (calls++ === 0) throw new RangeError('Invalid DataView length 80');
      load(r);
    };
    const e = expectRejectedBy(dst, bytes);
    expect(e.code).toBe('bad-section');
    expect(e.message).toMatch(/section "dev0" passed its checks but could not be loaded: Invalid DataView length 80/);
    expect(stateDigest(dst)).toBe(before);
  });
});

function expectRejectedBy(dst: FakeMachine, bytes: Uint8Array): SnapshotFormatError {
  try {
    restoreSnapshot(dst, bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotFormatError);
    return e as SnapshotFormatError;
  }
  throw new Error('the restore was accepted');
}
