import { ByteReader } from './ByteReader.ts';
import {
  DEFAULT_LIMITS,
  END_PAYLOAD_BYTES,
  FRAME_CRC_BYTES,
  FRAME_FLAG_SKIPPABLE,
  FRAME_HEADER_BYTES,
  FrameType,
  HEADER_FIXED_BYTES,
  MAX_PAGES_PER_FRAME,
  MAX_PARENT_NAME_BYTES,
  PARENT_FIXED_BYTES,
  PAGE_SIZE,
  PageCodecId,
  PageRecordKind,
  type StreamLimits,
} from './constants.ts';
import { crc32c } from './crc32c.ts';
import { SnapshotFormatError } from './errors.ts';
import { checkHeaderFixed, checkMagic, decodeHeader, type StreamHeader } from './header.ts';
import { decodeSection, type DecodedSection } from './section-codec.ts';
import { defaultInflateCodec, type PageCodec } from './page-codec.ts';

export interface StreamDecoderOptions {
  /**
   * Decompressor for CompressedPages frames. Default: node:zlib in Node (synchronous), else
   * DecompressionStream (asynchronous only: feed such a decoder with pushAsync/finishAsync).
   */
  codec?: PageCodec | null;
}

/** What the END frame says. */
export interface StreamEnd {
  /** 128-bit state digest, 4 words. */
  readonly digest: Uint32Array;
  readonly sectionCount: number;
  readonly pageRecords: number;
}

/** What the Parent frame of an incremental snapshot says. */
export interface ParentRef {
  /** 128-bit state digest of the parent snapshot, 4 words. */
  readonly digest: Uint32Array;
  /** The parent's name as its writer gave it (informational; the digest is what binds). */
  readonly name: string;
}

/**
 * Receives decoded items in stream order. Views passed in (page data, section payloads) point
 * into the caller's chunks or into buffers the decoder never reuses, so a sink may keep them as
 * long as the caller does not modify the chunks it pushed. A sink may throw to reject the stream.
 */
export interface StreamSink {
  header(header: StreamHeader): void;
  /**
   * The stream is incremental on top of `parent` (comes right after the header). A sink that
   * cannot load incremental state must throw (StateLoader does unless it was given the parent).
   */
  parent(parent: ParentRef, frame: number): void;
  section(section: DecodedSection, frame: number): void;
  /** Pages [first, first+count) are zero. */
  zeroRun(first: number, count: number, frame: number): void;
  /** One full page (data.length === 4096). */
  page(page: number, data: Uint8Array, frame: number): void;
  round(round: number, frame: number): void;
  end(end: StreamEnd, frame: number): void;
}

const enum Phase {
  HeaderFixed,
  HeaderBody,
  FrameHeader,
  FramePayload,
  Ended,
  Failed,
}

const EMPTY = new Uint8Array(0);
const MAX_PAGES_PAYLOAD = 4 + MAX_PAGES_PER_FRAME * 5 + MAX_PAGES_PER_FRAME * PAGE_SIZE;
/** Index part of a Pages / CompressedPages frame, parsed and checked. */
interface PageIndex {
  count: number;
  numbers: DataView;
  kinds: Uint8Array;
  /** Data bytes the records need (4096 per Full record). */
  dataBytes: number;
}

/**
 * Streaming decoder: push() chunks of any size as they arrive (file reads, MessagePort messages,
 * socket data); it validates and forwards every complete item to the sink. Every length is
 * checked against the limits before any byte of the item is buffered, every frame's CRC and
 * sequence number before its contents are looked at, every page number against the header's
 * page count. After an error the decoder stays failed and rethrows it.
 */
export class StreamDecoder {
  private readonly limits: StreamLimits;
  /** Pending input: chunks[head..] with the first one consumed up to headOffset. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private headOffset = 0;
  private available = 0;
  private phase = Phase.HeaderFixed;
  private need = HEADER_FIXED_BYTES;
  private headerFixed: Uint8Array | null = null;
  private readonly frameHeader = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly frameView = new DataView(this.frameHeader.buffer);
  private frameType = 0;
  private failure: unknown = null;
  private pageCount = 0;
  private covered: Uint8Array = new Uint8Array(0);
  private coveredCount = 0;
  private readonly sectionNames = new Set<string>();
  private pageRecords = 0;
  /** Frames completely read (also the expected sequence number of the next frame). */
  frames = 0;
  /** Bytes consumed from pushed chunks so far. */
  bytesIn = 0;
  header: StreamHeader | null = null;
  /** Set when frame 0 was a Parent frame: pages may be missing (they come from the parent). */
  parentRef: ParentRef | null = null;
  private readonly codec: PageCodec | null;
  /** An asynchronous inflation in progress: no further input is decoded until it settles. */
  private pending: Promise<void> | null = null;

  constructor(
    private readonly sink: StreamSink,
    limits: Partial<StreamLimits> = {},
    opts: StreamDecoderOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.codec = opts.codec !== undefined ? opts.codec : defaultInflateCodec();
  }

  /**
   * push() for input that may hold compressed frames when only an asynchronous decompressor
   * exists (browsers); works with any decoder. Resolves when everything decodable was decoded.
   */
  async pushAsync(chunk: Uint8Array): Promise<void> {
    this.push(chunk);
    await this.settle();
  }

  /** finish() after any asynchronous inflation has settled. */
  async finishAsync(): Promise<void> {
    await this.settle();
    this.finish();
  }

  private async settle(): Promise<void> {
    while (this.pending) {
      const p = this.pending;
      try {
        await p;
      } catch (e) {
        this.pending = null;
        this.fail(e);
      }
      this.pending = null;
      try {
        this.run();
      } catch (e) {
        this.fail(e);
      }
    }
  }

  get ended(): boolean {
    return this.phase === Phase.Ended;
  }

  /** Feeds bytes. Throws SnapshotFormatError (or whatever the sink throws) on the first problem. */
  push(chunk: Uint8Array): void {
    if (this.phase === Phase.Failed) throw this.failure;
    if (chunk.length === 0) return;
    if (this.phase === Phase.Ended) {
      this.fail(new SnapshotFormatError('trailing-data', `${chunk.length} bytes follow the END frame`));
    }
    this.chunks.push(chunk);
    this.available += chunk.length;
    this.bytesIn += chunk.length;
    try {
      this.run();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Declares the input complete. Throws 'truncated' unless an END frame was read. */
  finish(): void {
    if (this.phase === Phase.Failed) throw this.failure;
    if (this.pending) throw new Error('StreamDecoder.finish(): a compressed frame is still being inflated (use pushAsync/finishAsync)');
    if (this.phase === Phase.Ended) return;
    let msg: string;
    if (this.phase === Phase.HeaderFixed || this.phase === Phase.HeaderBody) {
      msg = `stream ends inside the header (${this.bytesIn} bytes)`;
    } else if (this.phase === Phase.FrameHeader && this.available === 0) {
      msg = `stream ends after frame ${this.frames - 1} without an END frame`;
    } else {
      msg = `stream ends inside frame ${this.frames} (${this.available} of ${this.need} bytes present)`;
    }
    this.fail(new SnapshotFormatError('truncated', msg, this.frames));
  }

  private fail(e: unknown): never {
    this.phase = Phase.Failed;
    this.failure = e;
    this.pending = null;
    this.chunks = [];
    this.head = 0;
    this.available = 0;
    throw e;
  }

  /** Takes n buffered bytes as one contiguous view (copying only when they straddle chunks). */
  private take(n: number): Uint8Array {
    const first = this.chunks[this.head]!;
    let out: Uint8Array;
    if (first.length - this.headOffset >= n) {
      out = first.subarray(this.headOffset, this.headOffset + n);
      this.headOffset += n;
      if (this.headOffset === first.length) this.advance();
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[this.head]!;
        const k = Math.min(n - filled, c.length - this.headOffset);
        out.set(c.subarray(this.headOffset, this.headOffset + k), filled);
        filled += k;
        this.headOffset += k;
        if (this.headOffset === c.length) this.advance();
      }
    }
    this.available -= n;
    return out;
  }

  /** Drops the first pending chunk (amortised O(1) even for a stream of one-byte chunks). */
  private advance(): void {
    this.chunks[this.head++] = EMPTY;
    this.headOffset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private run(): void {
    for (;;) {
      if (this.pending) return;
      switch (this.phase) {
        case Phase.HeaderFixed: {
          if (this.available < HEADER_FIXED_BYTES) {
            // Reject garbage early: check the magic bytes we already have.
            const c = this.chunks[this.head]!;
            checkMagic(c.subarray(this.headOffset), c.length - this.headOffset);
            return;
          }
          const fixed = this.take(HEADER_FIXED_BYTES).slice();
          const bodyLength = checkHeaderFixed(fixed, this.limits.maxHeaderBytes);
          this.headerFixed = fixed;
          this.need = bodyLength + 4;
          this.phase = Phase.HeaderBody;
          break;
        }
        case Phase.HeaderBody: {
          if (this.available < this.need) return;
          const rest = this.take(this.need);
          const all = new Uint8Array(HEADER_FIXED_BYTES + rest.length);
          all.set(this.headerFixed!, 0);
          all.set(rest, HEADER_FIXED_BYTES);
          const header = decodeHeader(all, this.limits.maxPages);
          if (header.compressed && !this.codec) {
            throw new SnapshotFormatError('no-decompressor', 'the stream\'s RAM is DEFLATE-compressed and no decompressor is available here (give the decoder a PageCodec)');
          }
          this.header = header;
          this.pageCount = header.pageCount;
          this.covered = new Uint8Array(header.pageCount);
          this.sink.header(header);
          this.phase = Phase.FrameHeader;
          this.need = FRAME_HEADER_BYTES;
          break;
        }
        case Phase.FrameHeader: {
          if (this.available < FRAME_HEADER_BYTES) return;
          this.frameHeader.set(this.take(FRAME_HEADER_BYTES));
          this.need = this.checkFrameHeader() + FRAME_CRC_BYTES;
          this.phase = Phase.FramePayload;
          break;
        }
        case Phase.FramePayload: {
          if (this.available < this.need) return;
          const body = this.take(this.need);
          const n = this.frames;
          const payloadLength = this.need - FRAME_CRC_BYTES;
          const stored = new DataView(body.buffer, body.byteOffset + payloadLength, 4).getUint32(0, true);
          const crc = crc32c(body, 0, payloadLength, crc32c(this.frameHeader));
          if (crc !== stored) throw new SnapshotFormatError('crc-mismatch', `CRC mismatch in frame ${n}`, n);
          this.frames++;
          this.phase = Phase.FrameHeader;
          this.need = FRAME_HEADER_BYTES;
          this.dispatch(body.subarray(0, payloadLength), n);
          break;
        }
        case Phase.Ended:
          if (this.available > 0) {
            throw new SnapshotFormatError('trailing-data', `${this.available} bytes follow the END frame`);
          }
          return;
        case Phase.Failed:
          return;
      }
    }
  }

  /** Validates type, sequence and length before the payload is buffered; returns the length. */
  private checkFrameHeader(): number {
    const n = this.frames;
    const v = this.frameView;
    const type = this.frameHeader[0]!;
    const flags = this.frameHeader[1]!;
    const seq = v.getUint32(4, true);
    const length = v.getUint32(8, true);
    if (n >= this.limits.maxFrames) {
      throw new SnapshotFormatError('limit-exceeded', `stream has more than ${this.limits.maxFrames} frames`, n);
    }
    if (seq !== n) {
      throw new SnapshotFormatError('out-of-sequence', `frame ${n} carries sequence number ${seq}: a frame was lost, repeated or reordered`, n);
    }
    if (v.getUint16(2, true) !== 0 || (flags & ~FRAME_FLAG_SKIPPABLE) !== 0) {
      throw new SnapshotFormatError('bad-frame', `frame ${n} has non-zero reserved bits`, n);
    }
    const exact = (want: number, what: string): void => {
      if (length !== want) throw new SnapshotFormatError('bad-frame', `frame ${n} (${what}) has length ${length}, expected ${want}`, n);
    };
    switch (type) {
      case FrameType.Section:
        if (length === 0 || length > this.limits.maxSectionBytes) {
          throw new SnapshotFormatError('frame-too-large', `frame ${n} (section) has length ${length}, outside 1..${this.limits.maxSectionBytes}`, n);
        }
        break;
      case FrameType.ZeroRun: exact(8, 'zero run'); break;
      case FrameType.Pages:
        if (length < 4 || length > MAX_PAGES_PAYLOAD) {
          throw new SnapshotFormatError('frame-too-large', `frame ${n} (pages) has length ${length}, outside 4..${MAX_PAGES_PAYLOAD}`, n);
        }
        break;
      case FrameType.CompressedPages:
        if (this.header!.formatVersion < 2) {
          throw new SnapshotFormatError('unknown-frame', `frame ${n} is compressed pages, which format version ${this.header!.formatVersion} does not have`, n);
        }
        if (!this.header!.compressed) {
          throw new SnapshotFormatError('bad-frame', `frame ${n} holds compressed pages but the header does not declare compression`, n);
        }
        if (length < 8 || length > MAX_PAGES_PAYLOAD + 4) {
          throw new SnapshotFormatError('frame-too-large', `frame ${n} (compressed pages) has length ${length}, outside 8..${MAX_PAGES_PAYLOAD + 4}`, n);
        }
        break;
      case FrameType.Round: exact(4, 'round'); break;
      case FrameType.End: exact(END_PAYLOAD_BYTES, 'end'); break;
      case FrameType.Parent:
        if (n !== 0) throw new SnapshotFormatError('bad-frame', `frame ${n} names a parent snapshot; only frame 0 may`, n);
        if (length < PARENT_FIXED_BYTES || length > PARENT_FIXED_BYTES + MAX_PARENT_NAME_BYTES) {
          throw new SnapshotFormatError('bad-frame', `frame ${n} (parent) has length ${length}, outside ${PARENT_FIXED_BYTES}..${PARENT_FIXED_BYTES + MAX_PARENT_NAME_BYTES}`, n);
        }
        break;
      default:
        if ((flags & FRAME_FLAG_SKIPPABLE) === 0) {
          throw new SnapshotFormatError('unknown-frame', `frame ${n} has unknown mandatory type ${type}`, n);
        }
        if (length > this.limits.maxSectionBytes) {
          throw new SnapshotFormatError('frame-too-large', `frame ${n} (skippable type ${type}) has length ${length}`, n);
        }
    }
    this.frameType = type;
    return length;
  }

  private dispatch(payload: Uint8Array, n: number): void {
    switch (this.frameType) {
      case FrameType.Section: {
        const s = decodeSection(payload, n, this.limits);
        if (this.sectionNames.has(s.name)) {
          throw new SnapshotFormatError('duplicate-section', `frame ${n}: section "${s.name}" appears twice`, n);
        }
        if (this.sectionNames.size >= this.limits.maxSections) {
          throw new SnapshotFormatError('limit-exceeded', `stream has more than ${this.limits.maxSections} sections`, n);
        }
        this.sectionNames.add(s.name);
        this.sink.section(s, n);
        return;
      }
      case FrameType.ZeroRun: {
        const r = new ByteReader(payload, `frame ${n} (zero run)`, n);
        const first = r.u32();
        const count = r.u32();
        if (count === 0 || first >= this.pageCount || count > this.pageCount - first) {
          r.fail(`pages ${first}..${first + count - 1} are outside RAM (0..${this.pageCount - 1})`, 'page-out-of-range');
        }
        for (let p = first; p < first + count; p++) this.cover(p);
        this.pageRecords += count;
        this.sink.zeroRun(first, count, n);
        return;
      }
      case FrameType.Pages:
        return this.pages(payload, n);
      case FrameType.CompressedPages:
        return this.compressedPages(payload, n);
      case FrameType.Round: {
        this.sink.round(new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true), n);
        return;
      }
      case FrameType.End:
        return this.end(payload, n);
      case FrameType.Parent: {
        const r = new ByteReader(payload, `frame ${n} (parent)`, n);
        const digest = new Uint32Array(4);
        for (let i = 0; i < 4; i++) digest[i] = r.u32('parent digest');
        const name = r.string(2, MAX_PARENT_NAME_BYTES, 'parent name');
        r.end();
        this.parentRef = { digest, name };
        this.sink.parent(this.parentRef, n);
        return;
      }
      default:
        return; // skippable frame of a type this build does not know
    }
  }

  private cover(p: number): void {
    if (this.covered[p] === 0) {
      this.covered[p] = 1;
      this.coveredCount++;
    }
  }

  /** Parses and checks the record index that starts Pages and CompressedPages frames. */
  private pageIndex(r: ByteReader): PageIndex {
    const count = r.u32('record count');
    if (count === 0 || count > MAX_PAGES_PER_FRAME) r.fail(`record count ${count} is outside 1..${MAX_PAGES_PER_FRAME}`);
    const numbers8 = r.view8(4 * count, 'page numbers');
    const numbers = new DataView(numbers8.buffer, numbers8.byteOffset, numbers8.byteLength);
    const kinds = r.view8((count + 3) & ~3, 'record kinds');
    let prev = -1;
    let dataBytes = 0;
    for (let i = 0; i < count; i++) {
      const p = numbers.getUint32(4 * i, true);
      if (p >= this.pageCount) r.fail(`page ${p} is outside RAM (0..${this.pageCount - 1})`, 'page-out-of-range');
      if (p <= prev) r.fail(`page numbers are not strictly ascending (${p} after ${prev})`);
      prev = p;
      const k = kinds[i]!;
      if (k === PageRecordKind.Full) dataBytes += PAGE_SIZE;
      else if (k === PageRecordKind.Delta) r.fail(`page ${p} is a sub-page delta record, which this build cannot read`, 'unsupported-record');
      else if (k !== PageRecordKind.Zero) r.fail(`page ${p} has unknown record kind ${k}`);
    }
    for (let i = count; i < kinds.length; i++) if (kinds[i] !== 0) r.fail('padding after record kinds is not zero');
    return { count, numbers, kinds, dataBytes };
  }

  /** Hands the records of a checked index to the sink; `data` holds exactly idx.dataBytes. */
  private deliverPages(idx: PageIndex, data: Uint8Array, n: number): void {
    let o = 0;
    for (let i = 0; i < idx.count; i++) {
      const p = idx.numbers.getUint32(4 * i, true);
      this.cover(p);
      if (idx.kinds[i] === PageRecordKind.Full) {
        this.sink.page(p, data.subarray(o, o + PAGE_SIZE), n);
        o += PAGE_SIZE;
      } else {
        this.sink.zeroRun(p, 1, n);
      }
    }
    this.pageRecords += idx.count;
  }

  private pages(payload: Uint8Array, n: number): void {
    const r = new ByteReader(payload, `frame ${n} (pages)`, n);
    const idx = this.pageIndex(r);
    if (r.remaining !== idx.dataBytes) r.fail(`holds ${r.remaining} data bytes, expected ${idx.dataBytes}`);
    this.deliverPages(idx, r.view8(idx.dataBytes), n);
  }

  /**
   * A CompressedPages frame: the index is checked before anything is inflated, and inflation may
   * produce at most the bytes the index calls for (a decompression bomb stops there).
   */
  private compressedPages(payload: Uint8Array, n: number): void {
    const r = new ByteReader(payload, `frame ${n} (compressed pages)`, n);
    const idx = this.pageIndex(r);
    const codecId = r.u8('codec');
    if (codecId !== PageCodecId.DeflateRaw) r.fail(`unknown compression method ${codecId}`, 'bad-compression');
    if (r.u8() !== 0 || r.u8() !== 0 || r.u8() !== 0) r.fail('reserved bytes after the codec are not zero');
    if (idx.dataBytes === 0) r.fail('holds no page data to decompress');
    const z = r.view8(r.remaining, 'compressed data');
    const codec = this.codec!;
    const check = (data: Uint8Array): Uint8Array => {
      if (data.length !== idx.dataBytes) {
        r.fail(`inflates to ${data.length} bytes, expected ${idx.dataBytes}`, 'bad-compression');
      }
      return data;
    };
    const corrupt = (e: unknown): never => {
      if (e instanceof SnapshotFormatError) throw e;
      return r.fail(`compressed page data is corrupt (${String((e as Error)?.message ?? e)})`, 'bad-compression');
    };
    if (codec.inflateSync) {
      let data: Uint8Array;
      try {
        data = check(codec.inflateSync(z, idx.dataBytes));
      } catch (e) {
        return corrupt(e);
      }
      this.deliverPages(idx, data, n);
      return;
    }
    // Asynchronous decompressor: decoding pauses here until it has delivered (see pushAsync).
    const p = codec.inflate(z, idx.dataBytes).then(
      (data) => this.deliverPages(idx, check(data), n),
      corrupt,
    );
    p.catch(() => {}); // rejected promises are handled in settle(); avoid an unhandled-rejection report meanwhile
    this.pending = p;
  }

  private end(payload: Uint8Array, n: number): void {
    const v = new DataView(payload.buffer, payload.byteOffset, END_PAYLOAD_BYTES);
    const digest = new Uint32Array(4);
    for (let i = 0; i < 4; i++) digest[i] = v.getUint32(4 * i, true);
    const sectionCount = v.getUint32(16, true);
    const pageRecords = v.getUint32(20, true);
    if (sectionCount !== this.sectionNames.size) {
      throw new SnapshotFormatError('truncated', `END frame counts ${sectionCount} sections but the stream held ${this.sectionNames.size}`, n);
    }
    if (pageRecords !== this.pageRecords >>> 0) {
      throw new SnapshotFormatError('truncated', `END frame counts ${pageRecords} page records but the stream held ${this.pageRecords}`, n);
    }
    if (this.coveredCount !== this.pageCount && this.parentRef === null) {
      const missing = this.covered.indexOf(0);
      throw new SnapshotFormatError('page-missing', `page ${missing} (and ${this.pageCount - this.coveredCount - 1} more) never arrived`, n);
    }
    this.phase = Phase.Ended;
    this.sink.end({ digest, sectionCount, pageRecords }, n);
  }
}
