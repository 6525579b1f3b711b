/**
 * Format version 2: RAM page data compressed with DEFLATE (node:zlib synchronously, or
 * CompressionStream asynchronously), zero pages still elided, and every way a compressed frame
 * can lie rejected with a typed error before the target changes.
 */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  createPcMachine,
  DEFAULT_LIMITS,
  FORMAT_VERSION,
  FrameType,
  HEADER_FLAG_COMPRESSED,
  nodeDeflateCodec,
  readStreamHeader,
  restoreSnapshot,
  saveSnapshot,
  snapshotChunks,
  snapshotChunksAsync,
  SnapshotFormatError,
  SnapshotRestorer,
  stateDigest,
  streamDeflateCodec,
  type PageCodec,
  type SnapshotErrorCode,
  type SnapshotStats,
} from '../src/index.ts';
import { fixHeaderCrc, joinStream, splitStream, type RawFrame } from './stream-frames.ts';
import { bootToyos, runTo } from './toyos-machine.ts';

const { m: source } = bootToyos(3_000_000, 'workers=2 pages=8');
const sourceDigest = stateDigest(source);
const plain = saveSnapshot(source);
let stats: SnapshotStats | null = null;
const packed = saveSnapshot(source, { compress: true, onStats: (s) => (stats = s) });

function target() {
  return bootToyos(1_000_000, 'workers=2 pages=8').m;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

function expectRejected(bytes: Uint8Array, code: SnapshotErrorCode, message?: RegExp, codec?: PageCodec | null): void {
  const dst = target();
  const before = stateDigest(dst);
  let err: unknown = null;
  try {
    restoreSnapshot(dst, bytes, codec === undefined ? {} : { codec });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SnapshotFormatError);
  expect((err as SnapshotFormatError).code).toBe(code);
  if (message) expect((err as SnapshotFormatError).message).toMatch(message);
  expect(stateDigest(dst)).toBe(before);
}

/** The compressed stream with its first CompressedPages frame replaced by `f(frame)`. */
function withCompressedFrame(f: (payload: Uint8Array) => Uint8Array): Uint8Array {
  const { header, frames } = splitStream(packed);
  const i = frames.findIndex((x) => x.type === FrameType.CompressedPages);
  const out: RawFrame[] = [...frames];
  out[i] = { ...frames[i]!, payload: f(frames[i]!.payload) };
  return joinStream(header, out);
}

/** Offset of the compressed data in a CompressedPages payload (after index and codec bytes). */
function dataOffset(payload: Uint8Array): number {
  const count = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
  return 4 + 4 * count + ((count + 3) & ~3) + 4;
}

describe('compressed snapshots (format version 2)', () => {
  it('are much smaller, restore to the exact state and continue identically', () => {
    const h = readStreamHeader(packed, DEFAULT_LIMITS);
    expect(h.formatVersion).toBe(FORMAT_VERSION);
    expect(h.compressed).toBe(true);
    expect(readStreamHeader(plain, DEFAULT_LIMITS).compressed).toBe(false);
    expect(splitStream(packed).frames.some((f) => f.type === FrameType.CompressedPages)).toBe(true);
    expect(packed.length).toBeLessThan(plain.length / 2);
    expect(stats!.compressedPageBytes).toBeLessThan(stats!.rawPageBytes);
    // Zero pages are still elided: the compressed page data counts only the non-zero pages.
    expect(stats!.zeroPages + stats!.fullPages).toBe(source.memory.pageCount);
    expect(stats!.zeroPages).toBeGreaterThan(source.memory.pageCount / 2);

    const dst = target();
    const r = restoreSnapshot(dst, packed);
    expect(r.digest).toBe(sourceDigest);
    expect(r.compressed).toBe(true);
    expect(stateDigest(dst)).toBe(sourceDigest);
    const twin = bootToyos(3_000_000, 'workers=2 pages=8').m;
    runTo(dst, 3_500_000);
    runTo(twin, 3_500_000);
    expect(stateDigest(dst)).toBe(stateDigest(twin));
  });

  it('the same machine gives the same compressed bytes, whole or chunked, and chunks respect the chunk size', () => {
    expect(Buffer.from(saveSnapshot(source, { compress: true })).equals(Buffer.from(packed))).toBe(true);
    const chunks = [...snapshotChunks(source, { compress: true, chunkSize: 64 * 1024 })];
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(64 * 1024);
    const dst = target();
    expect(restoreSnapshot(dst, chunks).digest).toBe(sourceDigest);
  });

  it('CompressionStream path: compress and decompress asynchronously, interoperable with node:zlib', async () => {
    const web = streamDeflateCodec()!;
    expect(web.deflateSync).toBeUndefined();
    expect(() => snapshotChunks(source, { compress: web })).toThrow(/snapshotChunksAsync/);
    let st: SnapshotStats | null = null;
    const bytes = await collect(snapshotChunksAsync(source, { compress: web, chunkSize: 128 * 1024, onStats: (s) => (st = s) }));
    expect(readStreamHeader(bytes, DEFAULT_LIMITS).compressed).toBe(true);
    expect(st!.bytes).toBe(bytes.length);
    expect(st!.compressedPageBytes).toBeLessThan(st!.rawPageBytes / 2);
    expect(bytes.length).toBeLessThan(plain.length / 2);
    // An async-only decompressor, fed in small pieces (as a browser reads a Blob).
    for (const snap of [bytes, packed]) {
      const dst = target();
      const rs = new SnapshotRestorer(dst, { codec: web });
      for (let i = 0; i < snap.length; i += 10_000) await rs.pushAsync(snap.subarray(i, i + 10_000));
      expect((await rs.finishAsync()).digest).toBe(sourceDigest);
      expect(stateDigest(dst)).toBe(sourceDigest);
    }
    // node:zlib reads what CompressionStream wrote.
    expect(restoreSnapshot(target(), bytes).digest).toBe(sourceDigest);
  });

  it('an async-only decompressor on the synchronous path is a usage error, not a half restore', () => {
    const dst = target();
    const before = stateDigest(dst);
    const rs = new SnapshotRestorer(dst, { codec: streamDeflateCodec() });
    rs.push(packed);
    expect(() => rs.finish()).toThrow(/pushAsync/);
    expect(stateDigest(dst)).toBe(before);
  });

  it('incompressible pages stay plain Pages frames inside a compressed stream', () => {
    const m = createPcMachine({ memoryMiB: 4 });
    let x = 1;
    const ram = m.memory.ram;
    for (let i = 0; i < ram.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      ram[i] = x >>> 24;
    }
    for (let p = 0; p < m.memory.pageCount; p++) m.memory.markWritten(p);
    const bytes = saveSnapshot(m, { compress: nodeDeflateCodec(1)! });
    const types = new Set(splitStream(bytes).frames.map((f) => f.type));
    expect(types.has(FrameType.Pages)).toBe(true);
    expect(types.has(FrameType.CompressedPages)).toBe(false);
    const dst = createPcMachine({ memoryMiB: 4 });
    expect(restoreSnapshot(dst, bytes).digest).toBe(stateDigest(m));
  });
});

describe('hostile compressed frames: typed errors, target untouched', () => {
  it('compressed frames in a version 1 stream, or without the header flag', () => {
    const v1 = packed.slice();
    v1[8] = 1;
    v1[10] = 0;
    fixHeaderCrc(v1);
    expectRejected(v1, 'unknown-frame', /format version 1 does not have/);
    const noFlag = packed.slice();
    noFlag[10] = 0;
    fixHeaderCrc(noFlag);
    expectRejected(noFlag, 'bad-frame', /header does not declare compression/);
    const v1flag = plain.slice();
    v1flag[8] = 1;
    v1flag[10] = HEADER_FLAG_COMPRESSED;
    fixHeaderCrc(v1flag);
    expectRejected(v1flag, 'bad-header', /reserved field is not zero/);
    const unknownFlag = plain.slice();
    unknownFlag[11] = 0x80;
    fixHeaderCrc(unknownFlag);
    expectRejected(unknownFlag, 'bad-header', /flags 0x8000/);
  });

  it('no decompressor available', () => {
    expectRejected(packed, 'no-decompressor', /no decompressor/, null);
  });

  it('corrupt, short, long and bomb-sized compressed data; unknown codec; reserved bytes', () => {
    // Garbage that is not DEFLATE (CRC recomputed, so the inflater is reached).
    expectRejected(withCompressedFrame((p) => {
      const q = p.slice();
      q.fill(0xff, dataOffset(p));
      return q;
    }), 'bad-compression', /compressed page data is corrupt/);
    // Valid DEFLATE of the wrong length: one page short, and one page too many.
    for (const delta of [-4096, 4096]) {
      expectRejected(withCompressedFrame((p) => {
        const count = new DataView(p.buffer, p.byteOffset).getUint32(0, true);
        const z = deflateRawSync(new Uint8Array(count * 4096 + delta));
        const q = new Uint8Array(dataOffset(p) + z.length);
        q.set(p.subarray(0, dataOffset(p)));
        q.set(z, dataOffset(p));
        return q;
      }), 'bad-compression');
    }
    // A bomb: a few KiB that inflate to 32 MiB stops at the frame's own size.
    expectRejected(withCompressedFrame((p) => {
      const z = deflateRawSync(new Uint8Array(32 << 20), { level: 9 });
      const q = new Uint8Array(dataOffset(p) + z.length);
      q.set(p.subarray(0, dataOffset(p)));
      q.set(z, dataOffset(p));
      return q;
    }), 'bad-compression');
    expectRejected(withCompressedFrame((p) => {
      const q = p.slice();
      q[dataOffset(p) - 4] = 9;
      return q;
    }), 'bad-compression', /unknown compression method 9/);
    expectRejected(withCompressedFrame((p) => {
      const q = p.slice();
      q[dataOffset(p) - 2] = 1;
      return q;
    }), 'bad-frame', /reserved bytes/);
  });
});
