import { PAGE_SIZE } from '../format/constants.ts';
import { isZeroPage, ramWords, type PageHashes } from '../digest/PageHashes.ts';

/** Where RamWriter puts its records: the stream encoder, or a FrameSizer that only counts. */
export interface PageFrameSink {
  /** Most full pages one Pages frame may hold. */
  readonly maxPagesPerFrame: number;
  zeroRun(first: number, count: number): void;
  fullPages(ram: Uint8Array, pages: ArrayLike<number>, from: number, n: number): void;
}

export interface RamWriterOptions {
  /**
   * Tells pages that were never written (MigratableMemory.isPristine): those are zero pages
   * without reading them, which spares the host's page faults of touching untouched RAM.
   */
  isPristine?: (page: number) => boolean;
  /**
   * Page classification to share between writers of the same, unchanged RAM (a sizing pass and
   * the writing pass): 0 = not yet looked at, 1 = zero, 2 = holds data. Filled as pages are
   * looked at; read instead of looking again.
   */
  classes?: Uint8Array;
}

const ZERO = 1;
const DATA = 2;

/**
 * Turns lists of RAM pages into page records: zero pages become zero runs (a few bytes for any
 * run length — zero-page elision), other pages full-page records. Hashes each page as it goes,
 * so the digest table stays current with what was sent (no hashing without a table: sizing).
 */
export class RamWriter {
  private readonly words: Uint32Array | null;
  private readonly batch: Uint32Array;
  private readonly perFrame: number;
  private readonly isPristine: ((page: number) => boolean) | null;
  private readonly classes: Uint8Array | null;
  zeroPages = 0;
  fullPages = 0;
  /**
   * Milliseconds spent hashing and framing full pages (not scanning zero pages): the source's
   * cost per full page, which live migration's downtime estimate needs.
   */
  fullMs = 0;

  constructor(
    private readonly ram: Uint8Array,
    private readonly sink: PageFrameSink,
    private readonly hashes: PageHashes | null,
    opts: RamWriterOptions = {},
  ) {
    this.words = ramWords(ram);
    this.perFrame = sink.maxPagesPerFrame;
    this.batch = new Uint32Array(this.perFrame);
    this.isPristine = opts.isPristine ?? null;
    this.classes = opts.classes ?? null;
  }

  /** True if page p holds only zero bytes. */
  private isZero(p: number): boolean {
    const known = this.classes?.[p] ?? 0;
    if (known !== 0) return known === ZERO;
    let zero: boolean;
    if (this.isPristine?.(p)) zero = true;
    else if (this.words) zero = isZeroPage(this.words, p);
    else zero = this.ram.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE).every((b) => b === 0);
    if (this.classes) this.classes[p] = zero ? ZERO : DATA;
    return zero;
  }

  /** Writes records for pages[from, to), which must be ascending. */
  write(pages: ArrayLike<number>, from: number, to: number): void {
    let runStart = -1;
    let runLength = 0;
    let n = 0;
    for (let i = from; i < to; i++) {
      const p = pages[i]!;
      if (this.isZero(p)) {
        this.hashes?.setZero(p);
        this.zeroPages++;
        if (runLength > 0 && runStart + runLength === p) {
          runLength++;
        } else {
          if (runLength > 0) this.sink.zeroRun(runStart, runLength);
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
    if (runLength > 0) this.sink.zeroRun(runStart, runLength);
    if (n > 0) this.flushFull(n);
  }

  private flushFull(n: number): void {
    const t0 = performance.now();
    this.hashes?.setPagesFromRam(this.ram, this.batch, n);
    this.sink.fullPages(this.ram, this.batch, 0, n);
    this.fullMs += performance.now() - t0;
  }

  /** Writes records for every page of RAM. */
  writeAll(pageCount: number): void {
    const all = new Uint32Array(pageCount);
    for (let p = 0; p < pageCount; p++) all[p] = p;
    this.write(all, 0, pageCount);
  }
}
