import { crc32c } from '../src/format/crc32c.ts';

/** One frame of a stream, as the fuzzer and the chain tests take streams apart and rebuild them. */
export interface RawFrame {
  type: number;
  flags: number;
  payload: Uint8Array;
}

/** Splits a well-formed stream into its header bytes and frames (framing only, no validation). */
export function splitStream(bytes: Uint8Array): { header: Uint8Array; frames: RawFrame[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 16 + v.getUint32(12, true) + 4;
  const header = bytes.slice(0, pos);
  const frames: RawFrame[] = [];
  while (pos < bytes.length) {
    const len = v.getUint32(pos + 8, true);
    frames.push({ type: bytes[pos]!, flags: bytes[pos + 1]!, payload: bytes.slice(pos + 12, pos + 12 + len) });
    pos += 12 + len + 4;
  }
  return { header, frames };
}

/** Serialises frames with fresh sequence numbers and CRCs (so only the meaning is wrong). */
export function joinStream(header: Uint8Array, frames: readonly RawFrame[]): Uint8Array {
  let total = header.length;
  for (const f of frames) total += 16 + f.payload.length;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set(header, 0);
  let pos = header.length;
  frames.forEach((f, seq) => {
    out[pos] = f.type;
    out[pos + 1] = f.flags;
    v.setUint32(pos + 4, seq, true);
    v.setUint32(pos + 8, f.payload.length, true);
    out.set(f.payload, pos + 12);
    const end = pos + 12 + f.payload.length;
    v.setUint32(end, crc32c(out, pos, end), true);
    pos = end + 4;
  });
  return out;
}

/** Recomputes the header CRC after a header body was edited. */
export function fixHeaderCrc(bytes: Uint8Array): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = 16 + v.getUint32(12, true);
  if (end + 4 <= bytes.length) v.setUint32(end, crc32c(bytes, 0, end), true);
}
