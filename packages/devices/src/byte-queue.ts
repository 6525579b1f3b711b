/** A growable FIFO of bytes (host input waiting to enter a device). Amortised O(1), no per-byte allocation. */
export class ByteQueue {
  private buf: Uint8Array;
  private head = 0;
  private tail = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.tail - this.head;
  }

  push(data: ArrayLike<number>): void {
    const n = data.length;
    if (this.tail + n > this.buf.length) this.makeRoom(n);
    this.buf.set(data, this.tail);
    this.tail += n;
  }

  /** Removes and returns the first byte; the queue must not be empty. */
  shift(): number {
    const b = this.buf[this.head++]!;
    if (this.head === this.tail) this.head = this.tail = 0;
    return b;
  }

  /** A copy of the queued bytes, oldest first. */
  toBytes(): Uint8Array {
    return this.buf.slice(this.head, this.tail);
  }

  clear(): void {
    this.head = this.tail = 0;
  }

  private makeRoom(n: number): void {
    const len = this.length;
    if (len + n <= this.buf.length && this.head > 0) {
      this.buf.copyWithin(0, this.head, this.tail);
    } else {
      let cap = this.buf.length * 2;
      while (cap < len + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(this.head, this.tail));
      this.buf = next;
    }
    this.head = 0;
    this.tail = len;
  }
}
