import {
  END_PAYLOAD_BYTES,
  FRAME_CRC_BYTES,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_PAGES_PER_FRAME,
  MAX_PARENT_NAME_BYTES,
  PAGE_SIZE,
  PARENT_FIXED_BYTES,
  PageRecordKind,
} from './constants.ts';
import { crc32c } from './crc32c.ts';
import { pagesPayloadBytes } from './frame-sizes.ts';
import type { PageCodec } from './page-codec.ts';

export interface StreamEncoderOptions {
  /** Target chunk size in bytes; a frame larger than this gets a chunk of its own. Default 1 MiB. */
  chunkSize?: number;
  /**
   * Bytes left free at the start of every chunk for a transport's own message header (the
   * migration protocol puts its message tag there, avoiding a copy). Default 0.
   */
  headroom?: number;
  /**
   * Compress page data (each Pages frame's data as one block) with this codec's deflateSync;
   * the stream header must then carry HEADER_FLAG_COMPRESSED. A frame whose data does not
   * shrink stays a plain Pages frame.
   */
  compressor?: PageCodec;
  /**
   * Write the whole stream into this buffer instead of fresh chunks (the caller sized it
   * exactly; writing past its end throws). Emitted chunks are then consecutive views of it.
   * Framing is the same as without it (frames still follow `chunkSize`), so the bytes are too.
   * Saves the copy of every byte into a final buffer, and the host page faults of touching a
   * second, fresh buffer of the stream's size.
   */
  into?: Uint8Array;
}

/**
 * Writes the stream (format in constants.ts) into chunks and hands each full chunk to `emit`.
 * Frames never straddle chunks and every chunk is a fresh ArrayBuffer that the encoder never
 * touches again, so the receiver of a chunk may transfer it to another thread.
 */
export class StreamEncoder {
  private readonly chunkSize: number;
  private readonly headroom: number;
  private chunk: Uint8Array;
  private view: DataView;
  private pos: number;
  private frameStart = -1;
  /** Most full pages per Pages frame so that one frame fits a chunk. */
  readonly maxPagesPerFrame: number;
  /** Frames written so far (the next frame's sequence number). */
  frames = 0;
  /** Stream bytes produced so far (excluding headroom), including those not yet emitted. */
  bytesOut = 0;
  /** Page data bytes given to the compressor, and what it made of the frames it was used for. */
  rawPageBytes = 0;
  compressedPageBytes = 0;
  private readonly deflate: ((data: Uint8Array) => Uint8Array) | null;
  private readonly codecId: number;
  /** With `into`: the buffer, and how much of it was emitted. */
  private readonly into: Uint8Array | null;
  private emitted = 0;

  constructor(
    private readonly emit: (chunk: Uint8Array) => void,
    opts: StreamEncoderOptions = {},
  ) {
    this.chunkSize = Math.max(opts.chunkSize ?? 1 << 20, 64 * 1024);
    this.headroom = opts.headroom ?? 0;
    if (opts.compressor && !opts.compressor.deflateSync) {
      throw new TypeError(`StreamEncoder needs a synchronous compressor; ${opts.compressor.name} has none (use snapshotChunksAsync)`);
    }
    this.deflate = opts.compressor?.deflateSync ?? null;
    this.codecId = opts.compressor?.id ?? 0;
    this.into = opts.into ?? null;
    if (this.into && this.headroom !== 0) throw new TypeError('StreamEncoder: `into` and `headroom` do not go together');
    this.chunk = this.into ?? new Uint8Array(this.chunkSize + this.headroom);
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
    this.pos = this.headroom;
    const perPage = PAGE_SIZE + 5;
    const fixed = FRAME_HEADER_BYTES + FRAME_CRC_BYTES + 4 + 3;
    this.maxPagesPerFrame = Math.max(1, Math.min(MAX_PAGES_PER_FRAME, Math.floor((this.chunkSize - fixed) / perPage)));
  }

  /** Bytes waiting in the current, not yet emitted chunk. */
  get pendingBytes(): number {
    return this.pos - this.headroom - this.emitted;
  }

  /** Writes raw bytes that are not a frame (the stream header). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.chunk.set(bytes, this.pos);
    this.pos += bytes.length;
    this.bytesOut += bytes.length;
  }

  /** Emits the current chunk if it holds anything. */
  flush(): void {
    if (this.into) {
      if (this.pos > this.emitted) this.emit(this.into.subarray(this.emitted, this.pos));
      this.emitted = this.pos;
      return;
    }
    if (this.pos === this.headroom) return;
    const out = this.chunk.subarray(0, this.pos);
    this.chunk = new Uint8Array(this.chunkSize + this.headroom);
    this.view = new DataView(this.chunk.buffer);
    this.pos = this.headroom;
    this.emit(out);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.chunk.length) return;
    if (this.into) throw new RangeError(`StreamEncoder: the stream outgrew the ${this.into.length}-byte buffer it was given`);
    this.flush();
    if (this.headroom + n > this.chunk.length) {
      this.chunk = new Uint8Array(this.headroom + n);
      this.view = new DataView(this.chunk.buffer);
    }
  }

  /** Starts a frame whose payload is exactly `length` bytes; returns the payload offset. */
  private begin(type: FrameType, length: number, flags = 0): number {
    this.reserve(FRAME_HEADER_BYTES + length + FRAME_CRC_BYTES);
    const v = this.view;
    const p = this.pos;
    this.frameStart = p;
    this.chunk[p] = type;
    this.chunk[p + 1] = flags;
    v.setUint16(p + 2, 0, true);
    v.setUint32(p + 4, this.frames, true);
    v.setUint32(p + 8, length, true);
    return p + FRAME_HEADER_BYTES;
  }

  private finish(payloadEnd: number): void {
    const start = this.frameStart;
    this.view.setUint32(payloadEnd, crc32c(this.chunk, start, payloadEnd), true);
    const end = payloadEnd + FRAME_CRC_BYTES;
    this.bytesOut += end - start;
    this.pos = end;
    this.frames++;
    this.frameStart = -1;
  }

  section(payload: Uint8Array): void {
    const p = this.begin(FrameType.Section, payload.length);
    this.chunk.set(payload, p);
    this.finish(p + payload.length);
  }

  zeroRun(first: number, count: number): void {
    const p = this.begin(FrameType.ZeroRun, 8);
    this.view.setUint32(p, first, true);
    this.view.setUint32(p + 4, count, true);
    this.finish(p + 8);
  }

  /**
   * Full-page records for `pages[from, from+n)` (ascending, n ≤ MAX_PAGES_PER_FRAME), copied from
   * `ram` (page p at byte p × 4096).
   */
  fullPages(ram: Uint8Array, pages: ArrayLike<number>, from: number, n: number): void {
    if (n <= 0 || n > MAX_PAGES_PER_FRAME) throw new RangeError(`a Pages frame holds 1..${MAX_PAGES_PER_FRAME} pages`);
    const kindsBytes = (n + 3) & ~3;
    const length = pagesPayloadBytes(n);
    let p = this.begin(FrameType.Pages, length);
    const v = this.view;
    v.setUint32(p, n, true);
    p += 4;
    for (let i = 0; i < n; i++, p += 4) v.setUint32(p, pages[from + i]!, true);
    this.chunk.fill(PageRecordKind.Full, p, p + n);
    this.chunk.fill(0, p + n, p + kindsBytes);
    p += kindsBytes;
    const dataStart = p;
    for (let i = 0; i < n; i++, p += PAGE_SIZE) {
      const base = pages[from + i]! * PAGE_SIZE;
      this.chunk.set(ram.subarray(base, base + PAGE_SIZE), p);
    }
    if (this.deflate) p = this.compressInPlace(dataStart, p);
    this.finish(p);
  }

  /**
   * Turns the Pages frame being written into a CompressedPages frame when its data shrinks:
   * the compressed block replaces the data in place (it is smaller, so it fits). Returns the
   * payload end.
   */
  private compressInPlace(dataStart: number, dataEnd: number): number {
    const raw = dataEnd - dataStart;
    const z = this.deflate!(this.chunk.subarray(dataStart, dataEnd));
    this.rawPageBytes += raw;
    if (z.length + 4 >= raw) {
      this.compressedPageBytes += raw;
      return dataEnd;
    }
    this.compressedPageBytes += z.length + 4;
    const c = this.chunk;
    c[this.frameStart] = FrameType.CompressedPages;
    c[dataStart] = this.codecId;
    c[dataStart + 1] = 0;
    c[dataStart + 2] = 0;
    c[dataStart + 3] = 0;
    c.set(z, dataStart + 4);
    const end = dataStart + 4 + z.length;
    this.view.setUint32(this.frameStart + 8, end - this.frameStart - FRAME_HEADER_BYTES, true);
    return end;
  }

  /** Frame 0 of an incremental snapshot: the parent's digest and name. */
  parent(digest: Uint32Array, name: string): void {
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length > MAX_PARENT_NAME_BYTES) throw new RangeError(`parent name of ${nameBytes.length} bytes is longer than ${MAX_PARENT_NAME_BYTES}`);
    const length = PARENT_FIXED_BYTES + nameBytes.length;
    const p = this.begin(FrameType.Parent, length);
    for (let i = 0; i < 4; i++) this.view.setUint32(p + 4 * i, digest[i]!, true);
    this.view.setUint16(p + 16, nameBytes.length, true);
    this.chunk.set(nameBytes, p + PARENT_FIXED_BYTES);
    this.finish(p + length);
  }

  round(n: number): void {
    const p = this.begin(FrameType.Round, 4);
    this.view.setUint32(p, n, true);
    this.finish(p + 4);
  }

  end(digest: Uint32Array, sectionCount: number, pageRecords: number): void {
    const p = this.begin(FrameType.End, END_PAYLOAD_BYTES);
    for (let i = 0; i < 4; i++) this.view.setUint32(p + 4 * i, digest[i]!, true);
    this.view.setUint32(p + 16, sectionCount, true);
    this.view.setUint32(p + 20, pageRecords >>> 0, true);
    this.finish(p + END_PAYLOAD_BYTES);
  }
}
