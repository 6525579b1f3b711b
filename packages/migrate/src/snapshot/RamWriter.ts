import { MAX_PAGES_PER_FRAME, PAGE_SIZE } from '../format/constants.ts';
import type { StreamEncoder } from '../format/StreamEncoder.ts';
import { isZeroPage, ramWords, type PageHashes } from '../digest/PageHashes.ts';

/**
 * Turns lists of RAM pages into page records: zero pages become zero runs (a few bytes for any
 * run length — zero-page elision), other pages full-page records. Hashes each page as it goes,
 * so the digest table stays current with what was sent.
 */
export class RamWriter {
  private readonly words: Uint32Array | null;
  private readonly batch = new Uint32Array(MAX_PAGES_PER_FRAME);
  private readonly perFrame: number;
  zeroPages = 0;
  fullPages = 0;
  /**
   * Milliseconds spent hashing and framing full pages (not scanning zero pages): the source's
   * cost per full page, which live migration's downtime estimate needs.
   */
  fullMs = 0;

  constructor(
    private readonly ram: Uint8Array,
    private readonly encoder: StreamEncoder,
    private readonly hashes: PageHashes,
  ) {
    this.words = ramWords(ram);
    this.perFrame = encoder.maxPagesPerFrame;
  }

  /** Writes records for pages[from, to), which must be ascending. */
  write(pages: ArrayLike<number>, from: number, to: number): void {
    const words = this.words;
    let runStart = -1;
    let runLength = 0;
    let n = 0;
    for (let i = from; i < to; i++) {
      const p = pages[i]!;
      let zero: boolean;
      if (words) {
        zero = isZeroPage(words, p);
        if (!zero) {
          const t0 = performance.now();
          this.hashes.setFromRam(words, p);
          this.fullMs += performance.now() - t0;
        }
      } else {
        const bytes = this.ram.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
        zero = bytes.every((b) => b === 0);
        if (!zero) this.hashes.setFromBytes(p, bytes);
      }
      if (zero) {
        this.hashes.setZero(p);
        this.zeroPages++;
        if (runLength > 0 && runStart + runLength === p) {
          runLength++;
        } else {
          if (runLength > 0) this.encoder.zeroRun(runStart, runLength);
          runStart = p;
          runLength = 1;
        }
      } else {
        this.fullPages++;
        this.batch[n++] = p;
        if (n === this.perFrame) {
          this.flushFull(n);
          n = 0;
        }
      }
    }
    if (runLength > 0) this.encoder.zeroRun(runStart, runLength);
    if (n > 0) this.flushFull(n);
  }

  private flushFull(n: number): void {
    const t0 = performance.now();
    this.encoder.fullPages(this.ram, this.batch, 0, n);
    this.fullMs += performance.now() - t0;
  }

  /** Writes records for every page of RAM. */
  writeAll(pageCount: number): void {
    const all = new Uint32Array(pageCount);
    for (let p = 0; p < pageCount; p++) all[p] = p;
    this.write(all, 0, pageCount);
  }
}
