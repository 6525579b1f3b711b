/**
 * A dirty log (DESIGN §2.1): remembers which RAM pages were written since its last collect().
 *
 * This is the software form of KVM's write-protect dirty logging. A TLB write entry exists only for
 * a page that every active log has already marked, so the first write to a page after a collect
 * takes the slow path, which marks the page in each log that lacks it; later writes to the same
 * page cost nothing extra. collect() un-marks ("re-arms") the pages it returns and asks the TLBs
 * to drop their write entries for them, so the next write is seen again.
 */
export interface DirtyLogOptions {
  /** Start with every page marked, so the first collect() returns all pages (migration round 1). */
  allDirty?: boolean;
  /**
   * Called synchronously by the write that first marks a page (CPU write, string op, DMA,
   * loader). The decoded-code cache uses it to drop stale instructions before the next fetch.
   */
  onFirstWrite?: (page: number) => void;
}

/** What a log needs from the memory it watches: a way to make pages trap on write again. */
export interface WriteTrapControl {
  rearmPages(pages: ArrayLike<number>, count: number): void;
  removeLog(log: DirtyLog): void;
}

export class DirtyLog {
  /** 1 = written since the last collect. Read by the TLB fill path. */
  readonly bits: Uint8Array;
  /** Pages marked since the last collect, in marking order. */
  private list: Uint32Array;
  private count = 0;
  private disposed = false;
  readonly onFirstWrite: ((page: number) => void) | undefined;

  constructor(
    readonly name: string,
    readonly pageCount: number,
    private readonly control: WriteTrapControl,
    opts: DirtyLogOptions = {},
  ) {
    this.bits = new Uint8Array(pageCount);
    this.list = new Uint32Array(Math.min(pageCount, 1024));
    this.onFirstWrite = opts.onFirstWrite;
    if (opts.allDirty) this.markAll();
  }

  get dirtyCount(): number {
    return this.count;
  }

  get active(): boolean {
    return !this.disposed;
  }

  isDirty(page: number): boolean {
    return this.bits[page] === 1;
  }

  /** Slow-path hook: marks one page. Returns true if it was not marked before. */
  mark(page: number): boolean {
    if (this.bits[page] === 1) return false;
    this.bits[page] = 1;
    if (this.count === this.list.length) {
      const grown = new Uint32Array(Math.min(this.pageCount, this.list.length * 2));
      grown.set(this.list);
      this.list = grown;
    }
    this.list[this.count++] = page;
    this.onFirstWrite?.(page);
    return true;
  }

  /** Marks pages again, e.g. those of a migration round that failed to arrive. */
  markDirty(pages: ArrayLike<number>): void {
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      if (p >= 0 && p < this.pageCount) this.mark(p);
    }
  }

  markAll(): void {
    this.list = new Uint32Array(this.pageCount);
    for (let p = 0; p < this.pageCount; p++) {
      this.bits[p] = 1;
      this.list[p] = p;
    }
    this.count = this.pageCount;
  }

  /**
   * Returns the pages written since the previous collect, ascending, and re-arms them: each will be
   * reported again after its next write, never missed.
   */
  collect(): Uint32Array {
    const out = this.list.slice(0, this.count).sort();
    for (let i = 0; i < out.length; i++) this.bits[out[i]!] = 0;
    this.count = 0;
    this.control.rearmPages(out, out.length);
    return out;
  }

  /** Un-marks one page so its next write is seen (the code cache arms pages it decodes from). */
  rearm(page: number): void {
    if (this.bits[page] === 0) return;
    this.bits[page] = 0;
    // Keep the list consistent: remove the page (rare operation, linear is fine).
    for (let i = 0; i < this.count; i++) {
      if (this.list[i] === page) {
        this.list[i] = this.list[--this.count]!;
        break;
      }
    }
    this.control.rearmPages([page], 1);
  }

  /** Stops logging; the log no longer restricts TLB write entries. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.control.removeLog(this);
  }
}
