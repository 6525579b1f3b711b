/**
 * A fast 128-bit non-cryptographic hash for state digests (DESIGN §2.5).
 *
 * INTEGRITY, NOT SECURITY: it detects accidental differences (lost frames, dirty-logging bugs,
 * transport corruption). Anyone who can choose the bytes can construct collisions.
 *
 * Shape: four 32-bit lanes each absorb every fourth little-endian word with a multiply-rotate
 * round (as in the xxHash family); after every 16-byte stripe the lanes are chained into each
 * other with additions, so a difference in one word spreads over the whole 128-bit state and a
 * later difference cannot cancel it in one lane alone. Every step is invertible for fixed input,
 * so two inputs only collide if the state collides. The finaliser mixes the lanes across each
 * other twice and then avalanches each lane. Only Math.imul and 32-bit ops: no BigInt.
 *
 * Words are read through a Uint32Array, i.e. in host byte order; every JS engine in use is
 * little-endian, which the module checks at load so a digest never silently differs.
 */

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('ferry86 state digests need a little-endian host');
}

const M1 = 0x9e3779b1 | 0;
const M2 = 0x85ebca77 | 0;
const F1 = 0x85ebca6b | 0;
const F2 = 0xc2b2ae35 | 0;

const S0 = 0x243f6a88 | 0;
const S1 = 0x85a308d3 | 0;
const S2 = 0x13198a2e | 0;
const S3 = 0x03707344 | 0;

/**
 * Hashes `words[start, start + count)`; `count` must be a multiple of 4. `byteLength` is the
 * length of the message the words hold (a padded tail is told apart by it). Writes 4 words
 * (128 bits) to out[outOff..outOff+3].
 */
export function hashWords(
  words: Uint32Array,
  start: number,
  count: number,
  byteLength: number,
  out: Uint32Array,
  outOff: number,
): void {
  let a = S0;
  let b = S1;
  let c = S2;
  let d = S3;
  const end = start + count;
  for (let i = start; i < end; i += 4) {
    a = (a + Math.imul(words[i]!, M2)) | 0;
    a = Math.imul((a << 13) | (a >>> 19), M1);
    b = (b + Math.imul(words[i + 1]!, M2)) | 0;
    b = Math.imul((b << 13) | (b >>> 19), M1);
    c = (c + Math.imul(words[i + 2]!, M2)) | 0;
    c = Math.imul((c << 13) | (c >>> 19), M1);
    d = (d + Math.imul(words[i + 3]!, M2)) | 0;
    d = Math.imul((d << 13) | (d >>> 19), M1);
    a = (a + d) | 0;
    b = (b + a) | 0;
    c = (c + b) | 0;
    d = (d + c) | 0;
  }
  a ^= byteLength;
  b ^= Math.floor(byteLength / 0x100000000);
  for (let r = 0; r < 2; r++) {
    a = (Math.imul(a ^ (a >>> 16), F1) + d) | 0;
    b = (Math.imul(b ^ (b >>> 13), F2) + a) | 0;
    c = (Math.imul(c ^ (c >>> 16), F1) + b) | 0;
    d = (Math.imul(d ^ (d >>> 13), F2) + c) | 0;
  }
  out[outOff] = fmix(a);
  out[outOff + 1] = fmix(b);
  out[outOff + 2] = fmix(c);
  out[outOff + 3] = fmix(d);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, F1);
  h ^= h >>> 13;
  h = Math.imul(h, F2);
  h ^= h >>> 16;
  return h >>> 0;
}

let scratch = new Uint32Array(1024);

/** Hashes arbitrary bytes (any offset, any length) into out[outOff..outOff+3]. */
export function hashBytes(bytes: Uint8Array, out: Uint32Array, outOff = 0): void {
  const len = bytes.length;
  if ((bytes.byteOffset & 3) === 0 && (len & 15) === 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, len >>> 2);
    hashWords(w, 0, w.length, len, out, outOff);
    return;
  }
  // Copy into an aligned scratch buffer, zero-padded to whole 16-byte stripes.
  const words = ((len + 15) >>> 4) << 2;
  if (scratch.length < words) scratch = new Uint32Array(Math.max(words, scratch.length * 2));
  scratch.fill(0, 0, words);
  new Uint8Array(scratch.buffer, 0, len).set(bytes);
  hashWords(scratch, 0, words, len, out, outOff);
}

/** Lower-case hex of a 128-bit hash held in 4 words. */
export function hashToHex(h: Uint32Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 4; i++) s += h[off + i]!.toString(16).padStart(8, '0');
  return s;
}
