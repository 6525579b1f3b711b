/**
 * A dirty log over a disk's blocks: which blocks were written since the last collect(). The disk
 * counterpart of @ferry86/mmu's DirtyLog for RAM pages (DESIGN §2.1), with the same contract, so
 * snapshot and migration code treat both alike: several independent logs can be active at once
 * (an incremental snapshotter, a migration), collect() returns the blocks written since the
 * previous collect in ascending order and re-arms them, markDirty() puts blocks back (a save that
 * was rolled back).
 *
 * A disk has no TLB to bypass, so marking costs one byte test per block write and nothing else.
 */
export class BlockDirtyLog {
  /** 1 = written since the last collect. */
  private readonly bits: Uint8Array;
  private count = 0;
  private disposed = false;

  constructor(
    readonly name: string,
    readonly blockCount: number,
    private readonly onDispose: (log: BlockDirtyLog) => void,
    allDirty = false,
  ) {
    this.bits = new Uint8Array(blockCount);
    if (allDirty) {
      this.bits.fill(1);
      this.count = blockCount;
    }
  }

  get active(): boolean {
    return !this.disposed;
  }

  get dirtyCount(): number {
    return this.count;
  }

  isDirty(block: number): boolean {
    return this.bits[block] === 1;
  }

  /** Marks one block (the disk calls this on every write). */
  mark(block: number): void {
    if (this.bits[block] === 1) return;
    this.bits[block] = 1;
    this.count++;
  }

  /** Marks blocks again, e.g. the ones a failed or abandoned save had collected. */
  markDirty(blocks: ArrayLike<number>): void {
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (!(Number.isInteger(b) && b >= 0 && b < this.blockCount)) throw new RangeError(`block ${b} is outside the disk (0..${this.blockCount - 1})`);
      this.mark(b);
    }
  }

  /** The blocks written since the previous collect, ascending; clears them. */
  collect(): Uint32Array {
    const out = new Uint32Array(this.count);
    if (this.count === 0) return out;
    let n = 0;
    const bits = this.bits;
    for (let b = 0; b < bits.length && n < out.length; b++) {
      if (bits[b] === 1) {
        bits[b] = 0;
        out[n++] = b;
      }
    }
    this.count = 0;
    return out;
  }

  /** Stops logging; the disk forgets this log. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose(this);
  }
}
