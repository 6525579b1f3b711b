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
}

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
  if (kind < MessageKind.Data || kind > MessageKind.Abort) throw new MigrationError('protocol', `unknown message kind ${kind}`);
  if (length > buf.byteLength - MESSAGE_HEADER_BYTES) {
    throw new MigrationError('protocol', `message claims ${length} payload bytes but carries ${buf.byteLength - MESSAGE_HEADER_BYTES}`);
  }
  const payload = new Uint8Array(buf, MESSAGE_HEADER_BYTES, length);
  const fixed: Partial<Record<MessageKind, number>> = { [MessageKind.Ack]: 16, [MessageKind.Ready]: 16, [MessageKind.Commit]: 0 };
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
