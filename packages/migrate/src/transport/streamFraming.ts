import { StreamTransportError } from './StreamTransportError.ts';

/**
 * Message framing on a byte stream (TCP, pipes, TLS):
 *
 *   message      = length u32 LE (< 0xFFFFFFFF) | payload
 *   close notice = 0xFFFFFFFF u32 | reasonLength u32 LE (<= MAX_REASON_BYTES) | reason UTF-8
 *
 * A byte stream has no message boundaries and its end says nothing about why, so the framing
 * carries both: the length prefix restores the boundaries, and the close notice tells the peer
 * the reason (as MessagePortTransport's in-band notice does), so an aborted migration on one host
 * reads as "the peer closed the channel: <reason>" on the other rather than as a bare EOF.
 */
export const CLOSE_MARK = 0xffff_ffff;
export const FRAME_HEADER_BYTES = 4;
export const MAX_REASON_BYTES = 4096;
/** Default largest message accepted: migration messages are about 1 MiB; this leaves room. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 << 20;

export function frameHeader(length: number): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(h.buffer).setUint32(0, length, true);
  return h;
}

export function closeNotice(reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, MAX_REASON_BYTES);
  const out = new Uint8Array(8 + text.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, CLOSE_MARK, true);
  v.setUint32(4, text.length, true);
  out.set(text, 8);
  return out;
}

export interface FrameSink {
  message(data: ArrayBuffer): void;
  closeNotice(reason: string): void;
}

/**
 * Reassembles frames from arbitrary pieces of the byte stream. Each payload byte is copied once:
 * a frame that lies inside one piece is sliced out of it; a frame spread over pieces is collected
 * into a buffer allocated once its length is known. Only the 4-byte prefixes are assembled a byte
 * at a time. Errors are thrown as StreamTransportError; after one (or a close notice, or stop())
 * the reader ignores everything.
 */
export class FrameReader {
  private readonly prefix = new Uint8Array(FRAME_HEADER_BYTES);
  private prefixFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  /** The frame being read is a close notice's reason, not a message. */
  private readingReason = false;
  /** A close mark was read; the next prefix is the reason's length. */
  private afterCloseMark = false;
  private stopped = false;
  /** Payload bytes of messages delivered so far. */
  bytesIn = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /** Stops delivering (the transport closed); later pieces are dropped. */
  stop(): void {
    this.stopped = true;
  }

  /** Nothing partial is held: the stream may end here without losing a message. */
  get atBoundary(): boolean {
    return this.prefixFill === 0 && this.body === null && !this.afterCloseMark;
  }

  /** What was cut short, for the error when the stream ends mid-frame. */
  describePartial(): string {
    if (this.body) return `${this.bodyFill} of ${this.body.length} bytes into a ${this.readingReason ? 'close notice' : 'message'}`;
    if (this.afterCloseMark) return `inside a close notice`;
    return `${this.prefixFill} of ${FRAME_HEADER_BYTES} bytes into a length prefix`;
  }

  push(piece: Uint8Array): void {
    let at = 0;
    const n = piece.length;
    while (at < n && !this.stopped) {
      if (this.body) {
        // Continue a frame spread over pieces.
        const take = Math.min(n - at, this.body.length - this.bodyFill);
        this.body.set(piece.subarray(at, at + take), this.bodyFill);
        this.bodyFill += take;
        at += take;
        if (this.bodyFill === this.body.length) {
          const done = this.body;
          this.body = null;
          this.deliver(done.buffer as ArrayBuffer);
        }
        continue;
      }
      // Length prefix (possibly split across pieces).
      while (this.prefixFill < FRAME_HEADER_BYTES && at < n) this.prefix[this.prefixFill++] = piece[at++]!;
      if (this.prefixFill < FRAME_HEADER_BYTES) return;
      this.prefixFill = 0;
      const p = this.prefix;
      const len = (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0;
      if (this.afterCloseMark) {
        this.afterCloseMark = false;
        if (len > MAX_REASON_BYTES) {
          this.stopped = true;
          throw new StreamTransportError('bad-close-notice', `the peer's close notice announces a ${len}-byte reason (at most ${MAX_REASON_BYTES})`);
        }
        this.readingReason = true;
      } else if (len === CLOSE_MARK) {
        this.afterCloseMark = true;
        continue;
      } else {
        if (len > this.maxMessageBytes) {
          this.stopped = true;
          throw new StreamTransportError(
            'frame-too-large',
            `the peer sent a ${len}-byte message; at most ${this.maxMessageBytes} are accepted (is the peer a ferry86 transport?)`,
          );
        }
        this.readingReason = false;
      }
      if (n - at >= len) {
        // The whole frame is in this piece: one slice, one copy.
        const start = piece.byteOffset + at;
        at += len;
        this.deliver(piece.buffer.slice(start, start + len) as ArrayBuffer);
      } else {
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
    }
  }

  private deliver(data: ArrayBuffer): void {
    if (this.readingReason) {
      this.readingReason = false;
      this.stopped = true;
      this.sink.closeNotice(new TextDecoder().decode(data));
      return;
    }
    this.bytesIn += data.byteLength;
    this.sink.message(data);
  }
}
