import type { MigratableMachine } from '../machine.ts';
import { MigrationError } from './MigrationError.ts';
import { MAX_PAGES_PER_REQUEST } from './protocol.ts';

/** A machine whose run loop stops at an absent page and names it (PcMachine does). */
export interface PostCopyMachine extends MigratableMachine {
  run(maxInstructions: number): { reason: string; instructions: number; page?: number };
}

export interface PostCopyPagerStats {
  /** Times the guest touched an absent page and had to wait. */
  faults: number;
  /** Pages asked for (the faulting ones and their pre-paged neighbours). */
  requestedPages: number;
  /** Time the guest spent waiting for requested pages (QEMU's postcopy blocktime). */
  blockTimeMs: number;
  /** Pages not arrived yet. */
  remaining: number;
}

/** Pages after a faulting one that are asked for with it (sequential access is common). */
const PREPAGE = 7;

/**
 * Runs the guest on a post-copy destination: the machine already holds its device state and the
 * pages sent before the handover; every other page is absent until it arrives. run() executes
 * the guest; when it touches an absent page the CPU stops before the instruction changes
 * anything, the page (and a few after it) is requested from the source, and the instruction is
 * re-run once the page is in. Pages the source pushes in the background arrive meanwhile.
 * `complete` resolves with the verified state digest when the last page is in and the source's
 * END digest matched what arrived; it rejects ('postcopy-failed') if the channel breaks first.
 */
export class PostCopyPager<M extends PostCopyMachine = PostCopyMachine> {
  readonly stats: PostCopyPagerStats;
  readonly complete: Promise<string>;
  private settle!: { resolve: (digest: string) => void; reject: (e: MigrationError) => void };
  private error: MigrationError | null = null;
  private readonly requested: Uint8Array;
  private waiter: { page: number; resolve: () => void; reject: (e: MigrationError) => void } | null = null;

  constructor(
    readonly machine: M,
    private readonly isPresent: (page: number) => boolean,
    private readonly request: (pages: number[]) => void,
    absentPages: number,
  ) {
    this.requested = new Uint8Array(machine.memory.pageCount);
    this.stats = { faults: 0, requestedPages: 0, blockTimeMs: 0, remaining: absentPages };
    this.complete = new Promise<string>((resolve, reject) => (this.settle = { resolve, reject }));
    this.complete.catch(() => {}); // run() reports the failure too; do not warn if nobody awaits this
  }

  get done(): boolean {
    return this.stats.remaining === 0;
  }

  /** Why the post-copy phase broke, or null. */
  get failure(): MigrationError | null {
    return this.error;
  }

  /** Runs up to `maxInstructions`, waiting for absent pages the guest touches. */
  async run(maxInstructions: number): Promise<{ reason: string; instructions: number }> {
    let ran = 0;
    for (;;) {
      if (this.error) throw this.error;
      const r = this.machine.run(maxInstructions - ran);
      ran += r.instructions;
      if (r.reason !== 'absent' || r.page === undefined) return { reason: r.reason, instructions: ran };
      this.stats.faults++;
      const t0 = performance.now();
      await this.fetch(r.page);
      this.stats.blockTimeMs += performance.now() - t0;
      if (ran >= maxInstructions) return { reason: 'limit', instructions: ran };
    }
  }

  /** Requests `page` (and its next few absent neighbours) and waits until it is present. */
  private fetch(page: number): Promise<void> {
    if (this.isPresent(page)) return Promise.resolve();
    const ask: number[] = [];
    const end = Math.min(this.requested.length, page + 1 + PREPAGE);
    for (let p = page; p < end && ask.length < MAX_PAGES_PER_REQUEST; p++) {
      if (this.requested[p] === 0 && !this.isPresent(p)) {
        this.requested[p] = 1;
        ask.push(p);
      }
    }
    if (ask.length > 0) {
      this.stats.requestedPages += ask.length;
      this.request(ask);
    }
    return new Promise<void>((resolve, reject) => (this.waiter = { page, resolve, reject }));
  }

  /** The transport delivered pages: `count` more are present; wakes run() if its page is in. */
  arrived(count: number): void {
    this.stats.remaining -= count;
    const w = this.waiter;
    if (w && this.isPresent(w.page)) {
      this.waiter = null;
      w.resolve();
    }
  }

  /** Every page arrived and the digest verified. */
  finish(digest: string): void {
    this.stats.remaining = 0;
    this.settle.resolve(digest);
  }

  /** The post-copy phase broke: the guest cannot continue. */
  fail(error: MigrationError): void {
    if (this.error) return;
    this.error = error;
    this.waiter?.reject(error);
    this.waiter = null;
    this.settle.reject(error);
  }
}
