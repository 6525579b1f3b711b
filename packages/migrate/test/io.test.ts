/**
 * Streaming snapshot I/O (src/io): Node Writable / file / WHATWG WritableStream / ReadableStream
 * / Blob writers and the matching readers. Each writer makes the same bytes as saveSnapshot,
 * never hands out a chunk above the chunk size, and waits when the destination is full; each
 * reader restores from chunks as they come. Restore into a fresh machine in another process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPcMachine,
  fileChunks,
  restoreFreshFrom,
  restoreSnapshotFile,
  restoreSnapshotFrom,
  saveSnapshot,
  snapshotBlob,
  snapshotReadableStream,
  SnapshotFormatError,
  stateDigest,
  writeSnapshotToFile,
  writeSnapshotToNode,
  writeSnapshotToWeb,
} from '../src/index.ts';
import { bootToyos, runTo } from './toyos-machine.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry86-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHUNK = 64 * 1024;
const { m: source } = bootToyos(3_000_000, 'workers=2 pages=8');
const digest = stateDigest(source);
const plain = saveSnapshot(source, { chunkSize: CHUNK });
const packed = saveSnapshot(source, { chunkSize: CHUNK, compress: true });
const target = () => bootToyos(1_000_000, 'workers=2 pages=8').m;
const tick = () => new Promise((r) => setTimeout(r, 1));

/** A slow Node Writable that records what it was given and how full it got. */
function slowWritable(highWaterMark: number) {
  const got: Buffer[] = [];
  let maxBuffered = 0;
  let drains = 0;
  const w = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      setTimeout(cb, 1);
    },
  });
  const write = w.write.bind(w);
  w.write = ((chunk: Uint8Array) => {
    const ok = write(chunk);
    maxBuffered = Math.max(maxBuffered, w.writableLength);
    return ok;
  }) as typeof w.write;
  w.on('drain', () => drains++);
  return { w, got, stats: () => ({ maxBuffered, drains }) };
}

describe('streaming snapshot writers', () => {
  for (const [label, compress, expected] of [['plain', false, plain], ['compressed', true, packed]] as const) {
    it(`Node Writable (${label}): same bytes, chunks ≤ chunkSize, waits for 'drain'`, async () => {
      const { w, got, stats } = slowWritable(2 * CHUNK);
      const s = await writeSnapshotToNode(source, w, { chunkSize: CHUNK, compress });
      await new Promise<void>((r) => w.end(r));
      expect(Buffer.concat(got).equals(Buffer.from(expected))).toBe(true);
      expect(s.bytes).toBe(expected.length);
      for (const c of got) expect(c.length).toBeLessThanOrEqual(CHUNK);
      if (!compress) {
        // Backpressure: it stopped writing at the high-water mark instead of queueing the snapshot.
        expect(stats().drains).toBeGreaterThan(0);
        expect(stats().maxBuffered).toBeLessThanOrEqual(3 * CHUNK);
      }
    });
  }

  it('file: written streaming, read back streaming (plain and compressed)', async () => {
    for (const compress of [false, true]) {
      const file = join(dir, `w-${compress}.snap`);
      await writeSnapshotToFile(source, file, { compress });
      expect(Buffer.from(readFileSync(file)).equals(Buffer.from(compress ? saveSnapshot(source, { compress }) : saveSnapshot(source)))).toBe(true);
      const dst = target();
      const reads: number[] = [];
      const r = await restoreSnapshotFile(dst, file, { chunkBytes: 4096, onProgress: (n) => reads.push(n) });
      expect(r.digest).toBe(digest);
      expect(stateDigest(dst)).toBe(digest);
      expect(reads.length).toBeGreaterThan(3);
      expect(reads.at(-1)).toBe(readFileSync(file).length);
    }
  });

  it('WHATWG WritableStream: same bytes, never more chunks queued than its high-water mark', async () => {
    const got: Uint8Array[] = [];
    let queued = 0;
    let maxQueued = 0;
    const ws = new WritableStream<Uint8Array>(
      {
        async write(chunk) {
          got.push(chunk);
          await tick();
          queued--;
        },
      },
      new CountQueuingStrategy({ highWaterMark: 2 }),
    );
    const writer = ws.getWriter();
    writer.releaseLock();
    // Count chunks handed to the stream but not yet written.
    const orig = WritableStreamDefaultWriter.prototype.write;
    WritableStreamDefaultWriter.prototype.write = function (this: WritableStreamDefaultWriter<Uint8Array>, c?: Uint8Array) {
      queued++;
      maxQueued = Math.max(maxQueued, queued);
      return orig.call(this, c);
    } as typeof orig;
    try {
      await writeSnapshotToWeb(source, ws, { chunkSize: CHUNK });
    } finally {
      WritableStreamDefaultWriter.prototype.write = orig;
    }
    expect(Buffer.concat(got).equals(Buffer.from(plain))).toBe(true);
    expect(maxQueued).toBeLessThanOrEqual(3);
  });

  it('ReadableStream: chunks are made only as the consumer pulls', async () => {
    // Dense RAM (every page non-zero) so each slice of pages makes many chunks.
    const dense = createPcMachine({ memoryMiB: 16 });
    const ram = dense.memory.ram;
    for (let i = 0; i < ram.length; i += 7) ram[i] = (i * 2654435761) >>> 24;
    for (let p = 0; p < dense.memory.pageCount; p++) dense.memory.markWritten(p);
    const plainDense = saveSnapshot(dense, { chunkSize: CHUNK });
    let pagesDone = 0;
    const rs = snapshotReadableStream(dense, { chunkSize: CHUNK, onProgress: (p) => (pagesDone = p) });
    const reader = rs.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await tick();
    expect(pagesDone).toBeLessThan(dense.memory.pageCount); // not run ahead to the end
    const parts = [first.value!];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      expect(value.length).toBeLessThanOrEqual(CHUNK);
      parts.push(value);
    }
    expect(Buffer.concat(parts).equals(Buffer.from(plainDense))).toBe(true);
  });

  it('Blob: same bytes; restores from the Blob, its stream(), a Node Readable and an iterable', async () => {
    const blob = await snapshotBlob(source, { chunkSize: CHUNK, compress: true });
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(packed))).toBe(true);
    const sources = [blob, blob.stream(), Readable.from([packed.subarray(0, 1000), packed.subarray(1000)]), [packed]];
    for (const src of sources) {
      const dst = target();
      let last = 0;
      let biggest = 0;
      const r = await restoreSnapshotFrom(dst, src, {
        chunkBytes: 7000,
        onProgress: (n) => {
          biggest = Math.max(biggest, n - last);
          last = n;
        },
      });
      if (src === sources[0]) expect(biggest).toBeLessThanOrEqual(7000); // a Blob is read a slice at a time
      expect(r.digest).toBe(digest);
      expect(stateDigest(dst)).toBe(digest);
    }
  });
});

describe('streaming snapshot readers', () => {
  it('a corrupt stream is refused with a typed error and the target is untouched', async () => {
    const bad = packed.slice();
    bad[Math.floor(bad.length / 2)]! ^= 4;
    const dst = target();
    const before = stateDigest(dst);
    await expect(restoreSnapshotFrom(dst, new Blob([bad]), { chunkBytes: 4096 })).rejects.toBeInstanceOf(SnapshotFormatError);
    await expect(restoreSnapshotFrom(dst, Readable.from([bad.subarray(0, 100)]))).rejects.toMatchObject({ code: 'truncated' });
    expect(stateDigest(dst)).toBe(before);
  });

  it('restores into a fresh machine built from the configuration the snapshot names', async () => {
    const file = join(dir, 'fresh.snap');
    writeFileSync(file, packed);
    const { machine, result } = await restoreFreshFrom(fileChunks(file, 8192), createPcMachine);
    expect(result.digest).toBe(digest);
    expect(stateDigest(machine)).toBe(digest);
    const twin = bootToyos(3_000_000, 'workers=2 pages=8').m;
    runTo(machine, 3_400_000);
    runTo(twin, 3_400_000);
    expect(stateDigest(machine)).toBe(stateDigest(twin));
  });

  it('restores into a fresh machine in another process, which continues exactly', () => {
    const file = join(dir, 'child.snap');
    writeFileSync(file, packed);
    const r = spawnSync('pnpm', ['exec', 'tsx', 'packages/migrate/test/fixtures/restore-child.ts', file, '400000'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { streamDigest: string; restored: string; after: string; at: number; compressed: boolean };
    expect(out.streamDigest).toBe(digest);
    expect(out.restored).toBe(digest);
    expect(out.compressed).toBe(true);
    const twin = bootToyos(3_000_000, 'workers=2 pages=8').m;
    runTo(twin, out.at);
    expect(out.after).toBe(stateDigest(twin));
  });
});
