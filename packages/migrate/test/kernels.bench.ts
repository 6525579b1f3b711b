/**
 * Throughput of the hot kernels, JavaScript vs WebAssembly (not a test; run by hand):
 *   pnpm exec tsx packages/migrate/test/kernels.bench.ts
 * The WebAssembly figures include copying the input into the module's memory.
 */
import { crc32c } from '../src/format/crc32c.ts';
import { hashPageBlock, hashRamPages, hashWords } from '../src/digest/hash128.ts';
import { useWasmKernels, wasmKernels } from '../src/kernels/WasmKernels.ts';

const MiB = 1 << 20;

/** Best of several rounds, in GB/s, of `run` processing `bytes` per call. */
function gbps(bytes: number, run: () => void): string {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const reps = Math.max(1, Math.round((256 * MiB) / bytes));
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return ((bytes / (best / 1000)) / 1e9).toFixed(2).padStart(6) + ' GB/s';
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x;
  }
  return b;
}

console.log(`WebAssembly kernels available: ${wasmKernels() !== null}`);

for (const size of [4096, 64 * 1024, MiB]) {
  const buf = randomBytes(size);
  useWasmKernels(false);
  const js = gbps(size, () => crc32c(buf));
  useWasmKernels(true);
  const wasm = gbps(size, () => crc32c(buf));
  console.log(`crc32c ${String(size).padStart(8)} B   JS ${js}   wasm ${wasm}`);
}

const PAGES = 8192; // 32 MiB of guest RAM
const ram = randomBytes(PAGES * 4096);
const words = new Uint32Array(ram.buffer);
const all = Uint32Array.from({ length: PAGES }, (_, i) => i);
const scattered = Uint32Array.from({ length: PAGES / 2 }, (_, i) => (i * 2 + (i & 1)) % PAGES); // every other page
const out = new Uint32Array(PAGES * 4);
const bytes = PAGES * 4096;

const oldJs = gbps(bytes, () => {
  for (let p = 0; p < PAGES; p++) hashWords(words, p * 1024, 1024, 4096, out, p * 4);
});
useWasmKernels(true);
const ramAll = gbps(bytes, () => hashRamPages(ram, all, 0, PAGES, out));
const ramScattered = gbps(bytes / 2, () => hashRamPages(ram, scattered, 0, scattered.length, out));
const block = gbps(bytes, () => hashPageBlock(ram, 0, all, 0, PAGES, out));
const blockOdd = gbps(bytes - 4096, () => hashPageBlock(ram, 1, all, 0, PAGES - 1, out));
useWasmKernels(false);
const ramJs = gbps(bytes, () => hashRamPages(ram, all, 0, PAGES, out));
useWasmKernels(true);
console.log(`page hash ${PAGES} pages   hashWords loop ${oldJs}   hashRamPages JS fallback ${ramJs}`);
console.log(`  wasm: hashRamPages all ${ramAll}   every other page ${ramScattered}`);
console.log(`        hashPageBlock aligned ${block}   at odd offset ${blockOdd}`);
