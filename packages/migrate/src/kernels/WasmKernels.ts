/**
 * Loader for the WebAssembly kernels (kernels.wat): CRC-32C and the 8-pages-at-once page hash.
 *
 * Loading is synchronous (`new WebAssembly.Module` / `Instance`) so crc32c() and the hash
 * functions stay synchronous. Whenever that is impossible the callers use their JavaScript
 * versions, which give the same results; this module never throws:
 *  - no WebAssembly, or no SIMD: `WebAssembly.validate` rejects the bytes (the module uses v128,
 *    so validating it is the SIMD feature test; wasm-feature-detect is async and not used here);
 *  - synchronous compilation refused (Chrome's main thread above 4 KiB, a CSP without
 *    'wasm-unsafe-eval'): the constructor throws and we fall back.
 * The module is compiled lazily, on the first call that is big enough to want it.
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

/** Where JS copies input bytes (kernels.wat memory layout). */
export const SCRATCH = 0x10000;
/** Bytes available at SCRATCH (1 MiB): bigger inputs are processed in pieces. */
export const SCRATCH_BYTES = 0x100000;
/** Where hashPages writes digests (16 bytes per page, room for 3328 pages). */
export const DIGESTS = 0x3000;

export interface WasmKernels {
  /** The module's memory as bytes and as little-endian words (never grows, views stay valid). */
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  /** Continues finished CRC-32C `crc` over u8[ptr, ptr+len); returns the finished CRC. */
  crc(ptr: number, len: number, crc: number): number;
  /**
   * Hashes n pages at u8[src + 4096*i]; digest i to u32[(out >> 2) + 4*i ..]. Works in groups of
   * 8: reads and writes as if n were rounded up to a multiple of 8 (extra digests are garbage).
   */
  hashPages(src: number, n: number, out: number): void;
}

let enabled = true;
let loaded: WasmKernels | null | undefined;

/**
 * Test switch: `false` makes every caller take its JavaScript path, `true` (the default) lets
 * them use WebAssembly when the host supports it.
 */
export function useWasmKernels(on: boolean): void {
  enabled = on;
}

/** The kernels, or null when disabled or unsupported by this host. */
export function wasmKernels(): WasmKernels | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

function load(): WasmKernels | null {
  try {
    if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
    const bytes = decodeBase64(KERNELS_WASM_BASE64);
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const memory = instance.exports['memory'] as WebAssembly.Memory;
    const crc = instance.exports['crc'] as (ptr: number, len: number, crc: number) => number;
    const hashPages = instance.exports['hashPages'] as (src: number, n: number, out: number) => void;
    return {
      u8: new Uint8Array(memory.buffer),
      u32: new Uint32Array(memory.buffer),
      crc: (ptr, len, c) => crc(ptr, len, c) >>> 0,
      hashPages,
    };
  } catch {
    return null;
  }
}

/** Exported for the test that compares the checked-in bytes with the .wat. */
export function kernelsWasmBytes(): Uint8Array {
  return decodeBase64(KERNELS_WASM_BASE64);
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
