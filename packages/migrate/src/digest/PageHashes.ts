import { hashBytes, hashPageBlock, hashRamPages, hashWords } from './hash128.ts';

const PAGE_WORDS = 1024;

/** The hash of a page of zero bytes, computed once. */
export const ZERO_PAGE_HASH: Uint32Array = (() => {
  const h = new Uint32Array(4);
  hashWords(new Uint32Array(PAGE_WORDS), 0, PAGE_WORDS, 4096, h, 0);
  return h;
})();

/** A 32-bit word view of RAM (RAM buffers are page-aligned, so this never copies). */
export function ramWords(ram: Uint8Array): Uint32Array | null {
  if ((ram.byteOffset & 3) !== 0) return null;
  return new Uint32Array(ram.buffer, ram.byteOffset, ram.byteLength >>> 2);
}

/** True if page `page` of RAM is all zero bytes. Stops at the first non-zero word. */
export function isZeroPage(words: Uint32Array, page: number): boolean {
  // Eight words per test: fewer branches, about twice as fast as one word at a time.
  const end = (page + 1) * PAGE_WORDS;
  for (let i = page * PAGE_WORDS; i < end; i += 8) {
    if ((words[i]! | words[i + 1]! | words[i + 2]! | words[i + 3]! | words[i + 4]! | words[i + 5]! | words[i + 6]! | words[i + 7]!) !== 0) return false;
  }
  return true;
}

/**
 * A 128-bit hash per RAM page (4 words each). The state digest hashes this table, not RAM, so a
 * sender that hashes each page as it sends it has the digest almost for free when the guest
 * stops: only the pages of the final round are new (DESIGN §4: downtime is what counts).
 */
export class PageHashes {
  readonly table: Uint32Array;

  constructor(readonly pageCount: number) {
    this.table = new Uint32Array(pageCount * 4);
  }

  setZero(page: number): void {
    this.table.set(ZERO_PAGE_HASH, page * 4);
  }

  setZeroRun(first: number, count: number): void {
    for (let p = first; p < first + count; p++) this.table.set(ZERO_PAGE_HASH, p * 4);
  }

  /** Hashes page `page` of RAM through its word view. */
  setFromRam(words: Uint32Array, page: number): void {
    hashWords(words, page * PAGE_WORDS, PAGE_WORDS, 4096, this.table, page * 4);
  }

  /** Hashes pages[0, n) of RAM (`words`: its word view, or null when RAM is not word-aligned). */
  setPagesFromRam(ram: Uint8Array, pages: ArrayLike<number>, n: number): void {
    hashRamPages(ram, pages, 0, n, this.table);
  }

  /** Hashes pages[from, from+count), whose data lies back to back in `data` from `offset`. */
  setPagesFromBlock(data: Uint8Array, offset: number, pages: ArrayLike<number>, from: number, count: number): void {
    hashPageBlock(data, offset, pages, from, count, this.table);
  }

  /** Hashes page data at any alignment. */
  setFromBytes(page: number, data: Uint8Array): void {
    hashBytes(data, this.table, page * 4);
  }

  /** Hashes every page of RAM (zero pages by the cheap test). */
  setAllFromRam(ram: Uint8Array): void {
    const words = ramWords(ram);
    const data = new Uint32Array(this.pageCount);
    let n = 0;
    for (let p = 0; p < this.pageCount; p++) {
      if (words && isZeroPage(words, p)) this.setZero(p);
      else data[n++] = p;
    }
    hashRamPages(ram, data, 0, n, this.table);
  }
}
