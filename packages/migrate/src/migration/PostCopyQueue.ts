/**
 * The post-copy source's sending order: every page of `rest` exactly once; pages the destination
 * asked for (its guest is blocked on them) before the background order, which is `rest` as given.
 */
export class PostCopyQueue {
  private readonly state: Uint8Array;
  private readonly requests: number[] = [];
  private head = 0;
  private next = 0;
  /** Pages not sent yet. */
  left: number;
  /** Pages sent because they were requested / in the background order. */
  requestedPages = 0;
  pushedPages = 0;

  constructor(private readonly rest: Uint32Array, pageCount: number) {
    this.state = new Uint8Array(pageCount);
    for (let i = 0; i < rest.length; i++) this.state[rest[i]!] = UNSENT;
    this.left = rest.length;
  }

  /** Pages the destination faulted on. Sent or already queued ones are ignored (a request costs no memory twice). */
  request(pages: ArrayLike<number>): void {
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      if (this.state[p] === UNSENT) {
        this.state[p] = QUEUED;
        this.requests.push(p);
      }
    }
  }

  /** Fills `batch` with the next pages to send, ascending; returns how many (0 when done). */
  take(batch: Uint32Array): number {
    let n = 0;
    while (this.head < this.requests.length && n < batch.length) {
      batch[n++] = this.requests[this.head++]!;
      this.requestedPages++;
    }
    if (this.head === this.requests.length) {
      this.requests.length = 0;
      this.head = 0;
    }
    // Background pages only when no request waits: one batch must not delay a blocked guest.
    if (n === 0) {
      while (this.next < this.rest.length && n < batch.length) {
        const p = this.rest[this.next++]!;
        if (this.state[p] === UNSENT) {
          batch[n++] = p;
          this.pushedPages++;
        }
      }
    }
    for (let i = 0; i < n; i++) this.state[batch[i]!] = SENT;
    this.left -= n;
    batch.subarray(0, n).sort();
    return n;
  }
}

const UNSENT = 1;
const QUEUED = 2;
const SENT = 3;
