import { ByteReader } from '../format/ByteReader.ts';
import { ByteWriter } from '../format/ByteWriter.ts';
import { MigrationError } from './MigrationError.ts';

/**
 * Live-migration messages (DESIGN §2.6). The source → destination direction carries the stream
 * itself (the snapshot format) in DATA messages, then COMMIT or ABORT; the destination answers
 * with ACKs (flow control), READY (loaded and verified) or ERROR.
 *
 *   message = kind u8 | 0 u8 | 0 u16 | payloadLength u32 | payload
 *
 * The 8-byte header sits in the encoder's headroom, so stream chunks go out without a copy.
 */
export const enum MessageKind {
  Data = 1,
  /**
   * payload: f64 total stream bytes consumed | f64 total ms the destination spent consuming them
   * (its processing rate, which the source needs for its downtime estimate).
   */
  Ack = 2,
  /** payload: the verified 128-bit digest (16 bytes). */
  Ready = 3,
  /** payload: code (u8 len) | message (u16 len). */
  Error = 4,
  Commit = 5,
  /** payload: reason (u16 len). */
  Abort = 6,
  /**
   * Post-copy switchover (source → destination), after the sections' DATA: payload is a bitmap
   * (bit p of byte p >> 3) of the pages still to come; the destination makes them absent, loads
   * the sections and answers POSTCOPY_READY. COMMIT then lets it run before those pages arrive.
   */
  PostCopy = 7,
  /** Post-copy page faults (destination → source): payload count u32 | page u32 × count. */
  PageRequest = 8,
  /** The destination loaded the sections of a post-copy switchover and waits for COMMIT. */
  PostCopyReady = 9,
}

/** Most pages one PAGE_REQUEST may name (a request is a handful around a fault). */
export const MAX_PAGES_PER_REQUEST = 1024;

export const MESSAGE_HEADER_BYTES = 8;

export interface Message {
  readonly kind: MessageKind;
  readonly payload: Uint8Array;
}

/** Writes the header into the first 8 bytes of `buf` (the headroom of a DATA chunk). */
export function writeMessageHeader(buf: Uint8Array, kind: MessageKind, payloadLength: number): void {
  const v = new DataView(buf.buffer, buf.byteOffset, MESSAGE_HEADER_BYTES);
  v.setUint32(0, kind, true);
  v.setUint32(4, payloadLength, true);
}

export function encodeMessage(kind: MessageKind, payload: Uint8Array = new Uint8Array(0)): ArrayBuffer {
  const out = new Uint8Array(MESSAGE_HEADER_BYTES + payload.length);
  writeMessageHeader(out, kind, payload.length);
  out.set(payload, MESSAGE_HEADER_BYTES);
  return out.buffer;
}

export function ackMessage(consumed: number, busyMs: number): ArrayBuffer {
  const p = new Uint8Array(16);
  const v = new DataView(p.buffer);
  v.setFloat64(0, consumed, true);
  v.setFloat64(8, busyMs, true);
  return encodeMessage(MessageKind.Ack, p);
}

export function errorMessage(code: string, message: string): ArrayBuffer {
  const w = new ByteWriter();
  w.string(code.slice(0, 64), 1);
  w.string(message.slice(0, 4000), 2);
  return encodeMessage(MessageKind.Error, w.result());
}

export function abortMessage(reason: string): ArrayBuffer {
  const w = new ByteWriter();
  w.string(reason.slice(0, 4000), 2);
  return encodeMessage(MessageKind.Abort, w.result());
}

/** Parses and checks a message from the peer; anything malformed is a protocol error. */
export function decodeMessage(buf: ArrayBuffer): Message {
  if (buf.byteLength < MESSAGE_HEADER_BYTES) throw new MigrationError('protocol', `message of ${buf.byteLength} bytes is shorter than its header`);
  const v = new DataView(buf);
  const word = v.getUint32(0, true);
  const kind = word & 0xff;
  const length = v.getUint32(4, true);
  if (word >>> 8 !== 0) throw new MigrationError('protocol', 'message header reserved bits are not zero');
  if (kind < MessageKind.Data || kind > MessageKind.PostCopyReady) throw new MigrationError('protocol', `unknown message kind ${kind}`);
  if (length > buf.byteLength - MESSAGE_HEADER_BYTES) {
    throw new MigrationError('protocol', `message claims ${length} payload bytes but carries ${buf.byteLength - MESSAGE_HEADER_BYTES}`);
  }
  const payload = new Uint8Array(buf, MESSAGE_HEADER_BYTES, length);
  const fixed: Partial<Record<MessageKind, number>> = { [MessageKind.Ack]: 16, [MessageKind.Ready]: 16, [MessageKind.Commit]: 0, [MessageKind.PostCopyReady]: 0 };
  const want = fixed[kind as MessageKind];
  if (want !== undefined && length !== want) throw new MigrationError('protocol', `message kind ${kind} has ${length} payload bytes, expected ${want}`);
  return { kind, payload };
}

export function readAck(m: Message): { consumed: number; busyMs: number } {
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, 16);
  const consumed = v.getFloat64(0, true);
  const busyMs = v.getFloat64(8, true);
  if (!(consumed >= 0 && Number.isFinite(consumed) && busyMs >= 0 && Number.isFinite(busyMs))) {
    throw new MigrationError('protocol', 'ACK with an invalid byte count or time');
  }
  return { consumed, busyMs };
}

export function readError(m: Message): { code: string; message: string } {
  const r = new ByteReader(m.payload, 'ERROR message');
  try {
    return { code: r.string(1, 64, 'code'), message: r.string(2, 4000, 'message') };
  } catch {
    return { code: 'unknown', message: 'the destination reported an unreadable error' };
  }
}

export function readAbort(m: Message): string {
  try {
    return new ByteReader(m.payload, 'ABORT message').string(2, 4000, 'reason');
  } catch {
    return 'no reason given';
  }
}

export function pageRequestMessage(pages: ArrayLike<number>): ArrayBuffer {
  const p = new Uint8Array(4 + 4 * pages.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, pages.length, true);
  for (let i = 0; i < pages.length; i++) v.setUint32(4 + 4 * i, pages[i]!, true);
  return encodeMessage(MessageKind.PageRequest, p);
}

/** The pages of a PAGE_REQUEST, each checked against the RAM size. */
export function readPageRequest(m: Message, pageCount: number): Uint32Array {
  const r = new ByteReader(m.payload, 'PAGE_REQUEST message');
  try {
    const n = r.u32('count');
    if (n === 0 || n > MAX_PAGES_PER_REQUEST || m.payload.length !== 4 + 4 * n) throw new Error(`bad page count ${n}`);
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = r.u32('page');
      if (out[i]! >= pageCount) throw new Error(`page ${out[i]} is outside RAM (${pageCount} pages)`);
    }
    return out;
  } catch (e) {
    throw new MigrationError('protocol', `malformed PAGE_REQUEST: ${(e as Error).message}`);
  }
}

/** A POSTCOPY payload: the pages still to come, as a bitmap. */
export function postCopyMessage(pages: ArrayLike<number>, pageCount: number): ArrayBuffer {
  const bits = new Uint8Array((pageCount + 7) >>> 3);
  for (let i = 0; i < pages.length; i++) bits[pages[i]! >>> 3]! |= 1 << (pages[i]! & 7);
  return encodeMessage(MessageKind.PostCopy, bits);
}

/** The pages a POSTCOPY message says are still to come, ascending. */
export function readPostCopy(m: Message, pageCount: number): Uint32Array {
  if (m.payload.length !== (pageCount + 7) >>> 3) {
    throw new MigrationError('protocol', `POSTCOPY bitmap of ${m.payload.length} bytes for ${pageCount} pages`);
  }
  const out: number[] = [];
  for (let p = 0; p < pageCount; p++) if ((m.payload[p >>> 3]! >>> (p & 7)) & 1) out.push(p);
  for (let p = pageCount; p < m.payload.length * 8; p++) {
    if ((m.payload[p >>> 3]! >>> (p & 7)) & 1) throw new MigrationError('protocol', `POSTCOPY names page ${p}, outside RAM`);
  }
  return Uint32Array.from(out);
}
