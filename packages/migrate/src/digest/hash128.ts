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
 *
 * Page digests (hashRamPages, hashPageBlock) use the WebAssembly kernel when the host has
 * WebAssembly SIMD: it hashes four pages at once, one page per vector lane, with the very same
 * arithmetic (kernels/kernels.wat), so the digests are identical to hashWords'.
 */

import { DIGESTS, SCRATCH, SCRATCH_BYTES, wasmKernels, type WasmKernels } from '../kernels/WasmKernels.ts';

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

const PAGE = 4096;
/**
 * Pages per kernel call: 256 KiB, so the copied pages are still in L2 when hashed (measured).
 * The kernel works in groups of 8 pages and may read up to 7 pages past a batch, which must stay
 * inside the 1 MiB scratch area.
 */
const BATCH_PAGES = 64;
/** Fewer pages than this are hashed in JavaScript: the kernel always does 8 pages' work. */
const WASM_MIN_PAGES = 4;

/**
 * Digest of every listed guest page: for i in [from, from + count), page p = pages[i] is
 * ram[p*4096, p*4096 + 4096) and its digest goes to out[4p .. 4p+3]. Equal to
 * hashWords(<that page as words>, 0, 1024, 4096, out, 4p).
 */
export function hashRamPages(
  ram: Uint8Array,
  pages: ArrayLike<number>,
  from: number,
  count: number,
  out: Uint32Array,
): void {
  const end = from + count;
  for (let i = from; i < end; i++) {
    const p = pages[i]!;
    if (!(p >>> 0 === p && (p + 1) * PAGE <= ram.length)) {
      throw new RangeError(`hashRamPages: page ${p} is outside the ${ram.length}-byte RAM`);
    }
  }
  const k = count >= WASM_MIN_PAGES ? wasmKernels() : null;
  if (k === null) {
    hashRamPagesJs(ram, pages, from, end, out);
    return;
  }
  let i = from;
  while (i < end) {
    // Fill the scratch area, one copy per run of consecutive page numbers.
    const first = i;
    let n = 0;
    while (i < end && n < BATCH_PAGES) {
      const p = pages[i]!;
      let run = 1;
      while (i + run < end && n + run < BATCH_PAGES && pages[i + run] === p + run) run++;
      k.u8.set(ram.subarray(p * PAGE, (p + run) * PAGE), SCRATCH + n * PAGE);
      n += run;
      i += run;
    }
    k.hashPages(SCRATCH, n, DIGESTS);
    scatterDigests(k, pages, first, n, out);
  }
}

/**
 * Like hashRamPages for pages that arrive packed: data[offset + 4096*i ..] holds page
 * pages[from + i] for i < count; its digest goes to out[4*pages[from + i] ..]. Any alignment.
 */
export function hashPageBlock(
  data: Uint8Array,
  offset: number,
  pages: ArrayLike<number>,
  from: number,
  count: number,
  out: Uint32Array,
): void {
  if (count <= 0) return;
  if (!(offset >= 0 && offset + count * PAGE <= data.length)) {
    throw new RangeError(`hashPageBlock: ${count} pages at ${offset} overrun ${data.length} bytes`);
  }
  const k = count >= WASM_MIN_PAGES ? wasmKernels() : null;
  if (k === null) {
    hashPageBlockJs(data, offset, pages, from, count, out);
    return;
  }
  for (let i = 0; i < count; i += BATCH_PAGES) {
    const n = Math.min(count - i, BATCH_PAGES);
    const at = offset + i * PAGE;
    k.u8.set(data.subarray(at, at + n * PAGE), SCRATCH);
    k.hashPages(SCRATCH, n, DIGESTS);
    scatterDigests(k, pages, from + i, n, out);
  }
}

function scatterDigests(k: WasmKernels, pages: ArrayLike<number>, first: number, n: number, out: Uint32Array): void {
  const d = k.u32;
  let s = DIGESTS >>> 2;
  for (let j = 0; j < n; j++, s += 4) {
    const o = pages[first + j]! * 4;
    out[o] = d[s]!;
    out[o + 1] = d[s + 1]!;
    out[o + 2] = d[s + 2]!;
    out[o + 3] = d[s + 3]!;
  }
}

const pageWords = new Uint32Array(PAGE / 4);

function hashRamPagesJs(ram: Uint8Array, pages: ArrayLike<number>, from: number, end: number, out: Uint32Array): void {
  if ((ram.byteOffset & 3) === 0) {
    const w = new Uint32Array(ram.buffer, ram.byteOffset, ram.length >>> 2);
    for (let i = from; i < end; i++) {
      const p = pages[i]!;
      hashWords(w, p * 1024, 1024, PAGE, out, p * 4);
    }
    return;
  }
  const bytes = new Uint8Array(pageWords.buffer);
  for (let i = from; i < end; i++) {
    const p = pages[i]!;
    bytes.set(ram.subarray(p * PAGE, p * PAGE + PAGE));
    hashWords(pageWords, 0, 1024, PAGE, out, p * 4);
  }
}

function hashPageBlockJs(
  data: Uint8Array,
  offset: number,
  pages: ArrayLike<number>,
  from: number,
  count: number,
  out: Uint32Array,
): void {
  const at = data.byteOffset + offset;
  if ((at & 3) === 0) {
    const w = new Uint32Array(data.buffer, at, count * 1024);
    for (let i = 0; i < count; i++) hashWords(w, i * 1024, 1024, PAGE, out, pages[from + i]! * 4);
    return;
  }
  const bytes = new Uint8Array(pageWords.buffer);
  for (let i = 0; i < count; i++) {
    bytes.set(data.subarray(offset + i * PAGE, offset + i * PAGE + PAGE));
    hashWords(pageWords, 0, 1024, PAGE, out, pages[from + i]! * 4);
  }
}
