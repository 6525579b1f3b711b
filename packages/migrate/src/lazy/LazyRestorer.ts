import type { Stateful } from '@ferry86/mmu';
import type { StreamLimits } from '../format/constants.ts';
import { StreamDecoder } from '../format/StreamDecoder.ts';
import type { PageCodec } from '../format/page-codec.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import type { MigratableMachine } from '../machine.ts';
import { StateLoader, type ChainLink } from '../snapshot/StateLoader.ts';
import { WorkingSetPart, type PresenceControl } from '../snapshot/WorkingSet.ts';

/** A machine lazy restore can drive: its run loop reports absent pages (PcMachine does). */
export interface LazyMachine extends MigratableMachine {
  run(maxInstructions: number): { reason: string; instructions: number; page?: number };
}

export interface LazyRestoreOptions {
  extraParts?: readonly Stateful[];
  limits?: Partial<StreamLimits>;
  /** Decompressor for compressed snapshots (default: node:zlib, else DecompressionStream — openAsync only). */
  codec?: PageCodec | null;
  /** Pages loaded by each pump() between run slices (default 64). */
  prefetchBatch?: number;
}

export interface LazyRestoreStats {
  /** Pages loaded because the guest touched them while absent. */
  demandFetches: number;
  /** Pages loaded ahead of the guest (working set first, then the rest). */
  prefetched: number;
  /** Pages of the recorded working set. */
  workingSet: number;
  /** Pages still absent. */
  remaining: number;
}

/**
 * Starts a guest from a snapshot before its RAM is loaded (DESIGN §2.2).
 *
 * open(): decodes the whole snapshot — every frame CRC, every section checked by its part and
 * the whole-state digest verified, exactly as an eager restore — but keeps RAM as an index of
 * page records (views into the snapshot bytes, null = zero page) instead of copying it.
 * start(): loads the sections, marks every RAM page absent. The guest then runs; touching an
 * absent page stops the CPU before the instruction changes anything, and run() loads that page
 * from the index and re-runs it. Between slices pump() loads pages ahead of the guest: first the
 * working set recorded at snapshot time (recordWorkingSet), in first-touch order, then the rest
 * in ascending order. When the last page is in, the machine is exactly an eagerly restored one.
 */
export class LazyRestorer {
  private link!: ChainLink;
  private readonly order: Uint32Array;
  private next = 0;
  private left: number;
  private started = false;
  private readonly workingSet: WorkingSetPart;
  readonly stats: LazyRestoreStats;
  /** The verified state digest (hex). */
  readonly digest: string;

  private constructor(
    readonly machine: LazyMachine,
    private readonly presence: PresenceControl,
    private readonly loader: StateLoader<LazyMachine>,
    workingSet: WorkingSetPart,
    private readonly batch: number,
  ) {
    this.workingSet = workingSet;
    this.link = loader.chainLink('the snapshot');
    this.digest = digestToHex(loader.digest!);
    const n = machine.memory.pageCount;
    // Load order: the working set as recorded, then every other page ascending.
    const order = new Uint32Array(n);
    const listed = new Uint8Array(n);
    let k = 0;
    for (const p of workingSet.pages) {
      listed[p] = 1;
      order[k++] = p;
    }
    for (let p = 0; p < n; p++) if (listed[p] === 0) order[k++] = p;
    this.order = order;
    this.left = n;
    this.stats = { demandFetches: 0, prefetched: 0, workingSet: workingSet.pages.length, remaining: n };
  }

  /**
   * Decodes and verifies `bytes` for `machine` (throws SnapshotFormatError, machine untouched).
   * The bytes are referenced, not copied, until every page is loaded: do not modify them.
   */
  static open(machine: LazyMachine, presence: PresenceControl, bytes: Uint8Array, opts: LazyRestoreOptions = {}): LazyRestorer {
    const { loader, decoder, ws } = LazyRestorer.decoding(machine, opts);
    decoder.push(bytes);
    decoder.finish();
    return LazyRestorer.opened(machine, presence, loader, ws, opts);
  }

  /**
   * open() that also reads compressed snapshots where only an asynchronous decompressor exists
   * (browsers: DecompressionStream). Compressed page frames are inflated here, up front, so
   * pages still load synchronously while the guest runs.
   */
  static async openAsync(machine: LazyMachine, presence: PresenceControl, bytes: Uint8Array, opts: LazyRestoreOptions = {}): Promise<LazyRestorer> {
    const { loader, decoder, ws } = LazyRestorer.decoding(machine, opts);
    await decoder.pushAsync(bytes);
    await decoder.finishAsync();
    return LazyRestorer.opened(machine, presence, loader, ws, opts);
  }

  private static decoding(machine: LazyMachine, opts: LazyRestoreOptions) {
    const ws = new WorkingSetPart(new Uint32Array(0), 0, machine.memory.pageCount);
    const loader = new StateLoader<LazyMachine>({ mode: 'stage', machine, extraParts: [...(opts.extraParts ?? []), ws] });
    return { loader, decoder: new StreamDecoder(loader, opts.limits, { codec: opts.codec }), ws };
  }

  private static opened(machine: LazyMachine, presence: PresenceControl, loader: StateLoader<LazyMachine>, ws: WorkingSetPart, opts: LazyRestoreOptions): LazyRestorer {
    // The working set is read from the staged record now; commit() loads it into `ws` as well.
    const staged = loader.stagedRecord(ws.sectionName);
    if (staged) ws.loadState(staged);
    return new LazyRestorer(machine, presence, loader, ws, opts.prefetchBatch ?? 64);
  }

  /**
   * Loads every section and makes all RAM absent; the guest may run from here on. With
   * `preloadWorkingSet`, the recorded working set is loaded before the first instruction
   * (working-set restore); otherwise it only leads the background order.
   */
  start(opts: { preloadWorkingSet?: boolean } = {}): void {
    if (this.started) throw new Error('LazyRestorer.start() called twice');
    this.started = true;
    this.loader.commit({ pages: false });
    this.presence.markAllAbsent();
    if (opts.preloadWorkingSet) this.pump(this.workingSet.pages.length);
  }

  get complete(): boolean {
    return this.left === 0;
  }

  /** Loads page `page` now if it is still absent. */
  fetch(page: number): void {
    if (this.presence.isPresent(page)) return;
    this.machine.memory.fillPage(page, this.link.pages[page] ?? null);
    this.left--;
    this.stats.remaining = this.left;
  }

  /** Loads up to `max` pages ahead of the guest; returns how many it loaded. */
  pump(max = this.batch): number {
    let done = 0;
    while (done < max && this.next < this.order.length) {
      const p = this.order[this.next++]!;
      if (this.presence.isPresent(p)) continue;
      this.fetch(p);
      this.stats.prefetched++;
      done++;
    }
    return done;
  }

  /** Loads every page still absent (e.g. before a digest or a snapshot of the restored guest). */
  finish(): void {
    while (this.pump(1 << 20) > 0);
  }

  /**
   * Runs up to `maxInstructions`, loading absent pages the guest touches and pumping one prefetch
   * batch per call. Returns the machine's last exit other than 'absent'.
   */
  run(maxInstructions: number): { reason: string; instructions: number } {
    if (!this.started) throw new Error('LazyRestorer.run() before start()');
    let ran = 0;
    for (;;) {
      const r = this.machine.run(maxInstructions - ran);
      ran += r.instructions;
      if (r.reason === 'absent' && r.page !== undefined) {
        this.fetch(r.page);
        this.stats.demandFetches++;
        if (ran < maxInstructions) continue;
        r.reason = 'limit';
      }
      this.pump();
      return { reason: r.reason, instructions: ran };
    }
  }

  /** The recorded working set (first-touch order) that open() found in the snapshot. */
  get workingSetPages(): Uint32Array {
    return this.workingSet.pages;
  }
}
