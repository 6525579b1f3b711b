import { MigrationError } from './MigrationError.ts';

/**
 * Flow control and rate measurement of one migration attempt's data stream.
 *
 * The destination acknowledges the stream bytes it has consumed; the sender keeps at most
 * `limit` units of work unacknowledged. Work, not bytes: a zero run is a few bytes on the wire
 * but the destination still checks every page of it, so each zero page counts ZERO_PAGE_WORK.
 * The same acknowledgements give the two rates the downtime estimate needs: the destination's
 * processing rate (it reports its busy time) and the channel's, measured only over periods when
 * the window was full until it drained to half (otherwise the channel was not the bottleneck and
 * its rate is unknown).
 */
export class SendWindow {
  sentBytes = 0;
  ackedBytes = 0;
  private sentWork = 0;
  private ackedWork = 0;
  /** Per emitted chunk: stream offset of its end and the work sent up to it. */
  private readonly ends: number[] = [];
  private readonly works: number[] = [];
  private head = 0;
  private targetBusyMs = 0;
  private fullSince = 0;
  private fullAckedWork = 0;
  private fullAckedBytes = 0;
  private saturatedMs = 0;
  private saturatedBytes = 0;

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.sentWork - this.ackedWork;
  }

  get open(): boolean {
    return this.inFlight < this.limit;
  }

  /** A chunk of `bytes` stream bytes went out; `zeroPages` is the running total of zero pages sent. */
  sent(bytes: number, zeroPages: number): void {
    this.sentBytes += bytes;
    this.sentWork = this.sentBytes + zeroPages * ZERO_PAGE_WORK;
    this.ends.push(this.sentBytes);
    this.works.push(this.sentWork);
  }

  /** The sender found the window full: a saturation period may start. */
  blocked(now: number): void {
    if (this.fullSince !== 0) return;
    this.fullSince = now;
    this.fullAckedWork = this.ackedWork;
    this.fullAckedBytes = this.ackedBytes;
  }

  /** An ACK: `consumed` stream bytes in total, after `busyMs` of destination processing. */
  acked(consumed: number, busyMs: number, now: number): void {
    if (consumed > this.sentBytes) throw new MigrationError('protocol', `ACK for ${consumed} bytes, only ${this.sentBytes} were sent`);
    if (consumed <= this.ackedBytes) return;
    this.ackedBytes = consumed;
    this.targetBusyMs = busyMs;
    while (this.head < this.ends.length && this.ends[this.head]! <= consumed) this.ackedWork = this.works[this.head++]!;
    if (this.head > 1024) {
      this.ends.splice(0, this.head);
      this.works.splice(0, this.head);
      this.head = 0;
    }
    // A saturation period lasts until the backlog has halved, so it spans many ACKs and the
    // delay before the sender notices one (a guest slice) is small next to its length.
    if (this.fullSince !== 0 && this.inFlight < this.limit / 2) {
      // Count the period only if it moved mostly page data, not zero-run bookkeeping.
      const bytes = consumed - this.fullAckedBytes;
      if (bytes * 2 >= this.ackedWork - this.fullAckedWork) {
        this.saturatedMs += now - this.fullSince;
        this.saturatedBytes += bytes;
      }
      this.fullSince = 0;
    }
  }

  /** Destination processing rate in bytes/s (Infinity while unknown). */
  receiverRate(): number {
    return rate(this.ackedBytes, this.targetBusyMs);
  }

  /** Channel rate in bytes/s while saturated (Infinity while unknown). */
  channelRate(): number {
    return rate(this.saturatedBytes, this.saturatedMs);
  }
}

/** Window cost of a zero page: the destination reads it through to check it is zero. */
export const ZERO_PAGE_WORK = 512;

export function rate(bytes: number, ms: number): number {
  return bytes > 0 && ms > 0 ? (bytes * 1000) / ms : Infinity;
}
