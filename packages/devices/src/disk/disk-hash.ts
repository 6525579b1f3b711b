/**
 * Identity of a disk's read-only base image: a 128-bit non-cryptographic hash of its bytes, as 32
 * hex digits. A snapshot records it with the image's size so that an overlay is never laid over a
 * different base (its blocks would be meaningless there). Integrity, not security: four
 * independent multiply-xorshift lanes over 32-bit words (each lane a 32-bit FNV-style mix with a
 * different odd multiplier and seed), folded with the length at the end.
 */
export function hashDiskImage(bytes: Uint8Array): string {
  let h0 = 0x811c9dc5 | 0;
  let h1 = 0x01000193 | 0;
  let h2 = 0x9e3779b9 | 0;
  let h3 = 0x85ebca6b | 0;
  const words = bytes.length >>> 2;
  const aligned = (bytes.byteOffset & 3) === 0;
  const w32 = aligned ? new Uint32Array(bytes.buffer, bytes.byteOffset, words) : null;
  for (let i = 0; i < words; i++) {
    const w = w32 ? w32[i]! : (bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24));
    h0 = Math.imul(h0 ^ w, 0x01000193);
    h1 = Math.imul(h1 ^ w, 0x5bd1e995);
    h2 = Math.imul(h2 ^ w, 0xcc9e2d51) ^ (h2 >>> 15);
    h3 = Math.imul((h3 ^ w) + i, 0x1b873593);
  }
  for (let i = words * 4; i < bytes.length; i++) {
    h0 = Math.imul(h0 ^ bytes[i]!, 0x01000193);
    h1 = Math.imul(h1 ^ bytes[i]!, 0x5bd1e995);
  }
  const len = bytes.length;
  const lanes = [h0 ^ len, h1 ^ (len / 0x100000000), h2 ^ Math.imul(len, 0x27d4eb2f), h3 ^ 0x165667b1];
  // Final avalanche per lane, then cross-mix so every lane depends on all four.
  const out = lanes.map((h) => {
    let x = h | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 16;
    return x;
  });
  const mixed = out.map((x, i) => (x ^ Math.imul(out[(i + 1) & 3]!, 0x9e3779b1)) >>> 0);
  return mixed.map((x) => x.toString(16).padStart(8, '0')).join('');
}
