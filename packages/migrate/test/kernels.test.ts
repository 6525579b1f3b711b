import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../src/format/crc32c.ts';
import { hashPageBlock, hashRamPages, hashWords } from '../src/digest/hash128.ts';
import { kernelsWasmBytes, useWasmKernels, wasmKernels } from '../src/kernels/WasmKernels.ts';

/** xorshift32: reproducible "random" data. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function randomBytes(n: number, next: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = next();
  return b;
}

/** Runs `f` once on the JavaScript path and once on the WebAssembly path. */
function bothPaths<T>(f: () => T): { js: T; wasm: T } {
  useWasmKernels(false);
  const js = f();
  useWasmKernels(true);
  const wasm = f();
  return { js, wasm };
}

/** Reference digest of one page: hashWords over an aligned copy, as PageHashes does. */
function pageDigest(bytes: Uint8Array, at: number): number[] {
  const w = new Uint32Array(1024);
  new Uint8Array(w.buffer).set(bytes.subarray(at, at + 4096));
  const out = new Uint32Array(4);
  hashWords(w, 0, 1024, 4096, out, 0);
  return [...out];
}

afterEach(() => useWasmKernels(true));

describe('WebAssembly kernels', () => {
  it('load on this host (Node has WebAssembly SIMD), so the comparisons below test both paths', () => {
    expect(wasmKernels()).not.toBeNull();
    useWasmKernels(false);
    expect(wasmKernels()).toBeNull();
  });

  it('the checked-in module is what kernels.wat compiles to', async () => {
    const script = new URL('../../../scripts/build-kernels.mjs', import.meta.url).href;
    const { compileKernels } = (await import(script)) as { compileKernels: () => Promise<Uint8Array> };
    const fresh = await compileKernels();
    expect(Buffer.from(kernelsWasmBytes()).equals(Buffer.from(fresh))).toBe(true);
  });
});

describe('CRC-32C on both paths', () => {
  it('gives the standard check values (RFC 3720 B.4)', () => {
    const cases: [Uint8Array, number][] = [
      [new TextEncoder().encode('123456789'), 0xe3069283],
      [new Uint8Array(32), 0x8a9136aa],
      [new Uint8Array(32).fill(0xff), 0x62a8ab43],
      [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
      [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
    ];
    for (const [data, want] of cases) {
      expect(bothPaths(() => crc32c(data))).toEqual({ js: want, wasm: want });
    }
    // Long inputs (kernel path): a message followed by its own CRC, little-endian, always has
    // the CRC-32C residue 0x48674BC7, whatever the message.
    for (const len of [600, 4096, 10_000, 70_001]) {
      const msg = randomBytes(len + 4, prng(len));
      new DataView(msg.buffer).setUint32(len, crc32c(msg, 0, len), true);
      expect(bothPaths(() => crc32c(msg))).toEqual({ js: 0x48674bc7, wasm: 0x48674bc7 });
    }
  });

  it('is the same on both paths for many lengths, offsets and continuations', () => {
    const next = prng(0xc0ffee);
    const buf = randomBytes(3 * 1024 * 1024 + 77, next);
    const lengths = [0, 1, 7, 8, 511, 512, 513, 1023, 4095, 4096, 4097, 8191, 12345, 65536, 1 << 20, (1 << 20) + 9];
    for (let i = 0; i < 40; i++) lengths.push(next() % (buf.length - 8));
    lengths.push(buf.length - 3);
    for (const len of lengths) {
      const start = next() % Math.min(8, buf.length - len + 1);
      const seed = next() % 4 === 0 ? 0 : next();
      const r = bothPaths(() => crc32c(buf, start, start + len, seed));
      expect(r.wasm, `len ${len} start ${start}`).toBe(r.js);
    }
  });

  it('continuing from a cut gives the CRC of the whole, on the kernel path', () => {
    const buf = randomBytes(200_000, prng(7));
    const whole = crc32c(buf);
    for (const cut of [1, 511, 4096, 4099, 100_000]) {
      expect(crc32c(buf, cut, buf.length, crc32c(buf, 0, cut))).toBe(whole);
    }
    expect(crc32c(buf.subarray(3))).toBe(crc32c(buf, 3));
  });
});

describe('page hashing on both paths', () => {
  const PAGES = 300; // more than one 256-page batch
  const next = prng(0x5eed);
  const ram = randomBytes(PAGES * 4096, next);
  ram.fill(0, 5 * 4096, 6 * 4096); // a zero page
  const ramRef = Array.from({ length: PAGES }, (_, p) => pageDigest(ram, p * 4096));

  function digestsOf(out: Uint32Array, pages: ArrayLike<number>): number[][] {
    return Array.from(pages, (p) => [...out.subarray(4 * p, 4 * p + 4)]);
  }

  it('hashRamPages equals hashWords per page, for runs, shuffles, repeats and odd counts', () => {
    const lists: number[][] = [
      Array.from({ length: PAGES }, (_, i) => i),
      [5],
      [7, 3],
      [1, 2, 3, 9, 10, 299, 0],
      Array.from({ length: 261 }, () => next() % PAGES),
      Array.from({ length: PAGES }, (_, i) => PAGES - 1 - i),
    ];
    for (const pages of lists) {
      for (const [from, count] of [
        [0, pages.length],
        [1, Math.max(0, pages.length - 2)],
      ] as const) {
        const slice = pages.slice(from, from + count);
        const r = bothPaths(() => {
          const out = new Uint32Array(PAGES * 4);
          hashRamPages(ram, pages, from, count, out);
          return digestsOf(out, slice);
        });
        const want = slice.map((p) => ramRef[p]!);
        expect(r.js).toEqual(want);
        expect(r.wasm).toEqual(want);
      }
    }
  });

  it('hashRamPages reads RAM at an unaligned view and leaves other slots alone', () => {
    const backing = new Uint8Array(ram.length + 3);
    backing.set(ram, 3);
    const view = backing.subarray(3);
    const pages = [4, 0, 17, 18, 19, 250];
    const r = bothPaths(() => {
      const out = new Uint32Array(PAGES * 4).fill(0xdeadbeef);
      hashRamPages(view, pages, 0, pages.length, out);
      return out;
    });
    for (const out of [r.js, r.wasm]) {
      expect(digestsOf(out, pages)).toEqual(pages.map((p) => ramRef[p]!));
      expect(out[4 * 1]).toBe(0xdeadbeef);
      expect(out[4 * 20 + 3]).toBe(0xdeadbeef);
    }
  });

  it('hashPageBlock equals hashWords per page at any offset', () => {
    const count = 261;
    const pages = Array.from({ length: count + 2 }, (_, i) => (i * 37) % PAGES);
    for (const offset of [0, 1, 2, 4, 4096 + 3]) {
      const data = new Uint8Array(offset + count * 4096);
      for (let i = 0; i < count; i++) data.set(ram.subarray(i * 4096, i * 4096 + 4096), offset + i * 4096);
      // A view that itself starts at an odd byteOffset.
      const shifted = new Uint8Array(data.length + 1);
      shifted.set(data, 1);
      for (const [bytes, from, n] of [
        [data, 2, count],
        [shifted.subarray(1), 0, 5],
        [data, 0, 1],
      ] as const) {
        const r = bothPaths(() => {
          const out = new Uint32Array(PAGES * 4);
          hashPageBlock(bytes, offset, pages, from, n, out);
          return digestsOf(out, pages.slice(from, from + n));
        });
        const want = Array.from({ length: n }, (_, i) => ramRef[i]!);
        expect(r.js).toEqual(want);
        expect(r.wasm).toEqual(want);
      }
    }
  });

  it('rejects pages outside RAM instead of hashing garbage', () => {
    for (const on of [false, true]) {
      useWasmKernels(on);
      expect(() => hashRamPages(ram, [PAGES], 0, 1, new Uint32Array(4 * PAGES + 4))).toThrow(RangeError);
      expect(() => hashPageBlock(ram, 1, [0], 0, PAGES, new Uint32Array(4))).toThrow(RangeError);
    }
  });
});
