/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and SCTP.
 * Chosen over CRC-32/IEEE for its better error detection at the frame sizes we use (RFC 3720
 * appendix B.4). Every frame of the stream carries one (DESIGN §2.5).
 *
 * Slicing-by-8: eight 256-entry tables let the loop fold eight input bytes per iteration with
 * independent table lookups, instead of one dependent lookup per byte. Long aligned runs are read
 * as 32-bit little-endian words (about twice as fast in V8 as byte loads).
 *
 * Inputs of WASM_MIN bytes or more go to the WebAssembly kernel (kernels/kernels.wat: 16 CRCs
 * side by side in SIMD lanes, over twice as fast including the copy into its memory). It computes
 * the same CRC; without WebAssembly (or SIMD) this file's JavaScript is used.
 */

import { SCRATCH, SCRATCH_BYTES, wasmKernels } from '../kernels/WasmKernels.ts';

const POLY = 0x82f63b78;

/** T[k*256 + b]: CRC of byte b followed by k zero bytes. */
const T: Uint32Array = buildTables();

/** Below this many bytes the copy and call cost more than the kernel saves. */
const WASM_MIN = 512;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
}

/**
 * Continues a CRC-32C over bytes[start, end). Start with `crc = 0` (the default); the returned
 * value is the finished CRC of everything fed so far and can be passed back in to continue.
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  if (end - start >= WASM_MIN && start >= 0 && end <= bytes.length) {
    const k = wasmKernels();
    if (k !== null) {
      // Copy pieces of at most SCRATCH_BYTES into the module's memory and continue the CRC.
      while (start < end) {
        const n = Math.min(end - start, SCRATCH_BYTES);
        k.u8.set(bytes.subarray(start, start + n), SCRATCH);
        crc = k.crc(SCRATCH, n, crc);
        start += n;
      }
      return crc >>> 0;
    }
  }
  let c = ~crc;
  let i = start;
  if (LITTLE_ENDIAN && end - i >= 64) {
    // Bytes up to a 4-byte boundary of the underlying buffer, then words, then the tail.
    while (((bytes.byteOffset + i) & 3) !== 0) c = T[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
    const pairs = (end - i) >>> 3;
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, pairs * 2);
    c = crcWords(w, pairs * 2, c);
    i += pairs * 8;
  } else {
    const fastEnd = end - ((end - i) & 7);
    while (i < fastEnd) {
      const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
      c = step8(lo, bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24));
      i += 8;
    }
  }
  while (i < end) c = T[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Folds an even number of little-endian words into the (inverted) running CRC `c`. */
function crcWords(w: Uint32Array, n: number, c: number): number {
  const t = T;
  for (let i = 0; i < n; i += 2) {
    const lo = c ^ w[i]!;
    const hi = w[i + 1]!;
    c =
      t[0x700 + (lo & 0xff)]! ^
      t[0x600 + ((lo >>> 8) & 0xff)]! ^
      t[0x500 + ((lo >>> 16) & 0xff)]! ^
      t[0x400 + (lo >>> 24)]! ^
      t[0x300 + (hi & 0xff)]! ^
      t[0x200 + ((hi >>> 8) & 0xff)]! ^
      t[0x100 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
  }
  return c;
}

function step8(lo: number, hi: number): number {
  const t = T;
  return (
    t[0x700 + (lo & 0xff)]! ^
    t[0x600 + ((lo >>> 8) & 0xff)]! ^
    t[0x500 + ((lo >>> 16) & 0xff)]! ^
    t[0x400 + (lo >>> 24)]! ^
    t[0x300 + (hi & 0xff)]! ^
    t[0x200 + ((hi >>> 8) & 0xff)]! ^
    t[0x100 + ((hi >>> 16) & 0xff)]! ^
    t[hi >>> 24]!
  );
}
