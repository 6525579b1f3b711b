import { HEADER_FLAG_COMPRESSED, PAGE_SIZE } from '../format/constants.ts';
import { encodeHeader } from '../format/header.ts';
import { codecForSave } from '../format/page-codec.ts';
import { StreamEncoder } from '../format/StreamEncoder.ts';
import { PageHashes } from '../digest/PageHashes.ts';
import { combineDigest, digestEquals, digestToHex, encodeParts, type DigestSection } from '../digest/stateDigest.ts';
import { allParts, type MigratableDirtyLog, type MigratableMachine } from '../machine.ts';
import { RamWriter } from '../snapshot/RamWriter.ts';
import { PRODUCER } from '../snapshot/saveSnapshot.ts';
import type { MessageTransport } from '../transport/MessageTransport.ts';
import { Signal, yieldToEventLoop } from './eventLoop.ts';
import { rate, SendWindow } from './SendWindow.ts';
import { MigrationError } from './MigrationError.ts';
import { PostCopyQueue } from './PostCopyQueue.ts';
import { resolveOptions, type MigrationSourceOptions, type ResolvedOptions } from './MigrationSourceOptions.ts';
import {
  abortMessage,
  decodeMessage,
  encodeMessage,
  MESSAGE_HEADER_BYTES,
  MessageKind,
  postCopyMessage,
  readAck,
  readError,
  readPageRequest,
  writeMessageHeader,
} from './protocol.ts';
import { cloneStats, emptyStats, type MigrationStats, type RoundStats } from './stats.ts';

export type { MigrationSourceOptions } from './MigrationSourceOptions.ts';

/**
 * The sending side of live migration (DESIGN §2.1, §2.6, §4); post-copy and hybrid: see
 * MigrationSourceOptions.mode.
 *
 * Round 1 sends every page (zero pages as zero runs) while the guest keeps running in slices;
 * each later round sends the pages the migration dirty log collected meanwhile. When the dirty
 * set is expected to transfer within the downtime limit (at the measured bandwidth) — or after
 * maxRounds — the guest stops for the final copy: last dirty pages, every section, END with the
 * digest. The destination loads and verifies everything and answers READY; only then does this
 * side fence itself and send COMMIT. Any failure before READY leaves the source authoritative:
 * it resumes, and the pages sent in the failed attempt are marked dirty again so a retry (with a
 * new transport, same MigrationSource) is complete.
 */
export class MigrationSource {
  readonly stats: MigrationStats;
  private log: MigratableDirtyLog | null = null;
  private hashes: PageHashes | null = null;
  private fenced = false;
  private busy = false;
  private o: ResolvedOptions;

  // Per attempt:
  private transport: MessageTransport | null = null;
  private failure: MigrationError | null = null;
  private readonly signal = new Signal();
  private window = new SendWindow(0);
  private ram: RamWriter | null = null;
  private encoder: StreamEncoder | null = null;
  private ready: Uint32Array | null = null;
  private collected: Uint8Array = new Uint8Array(0);
  private guestCanRun = true;
  /** Post-copy: the destination loaded the sections (POSTCOPY_READY), and its page requests. */
  private postCopying = false;
  private postCopyReady = false;
  private queue: PostCopyQueue | null = null;

  constructor(
    readonly machine: MigratableMachine,
    private opts: MigrationSourceOptions = {},
  ) {
    this.o = resolveOptions(opts);
    this.stats = emptyStats(machine.memory.pageCount * PAGE_SIZE, this.o.downtimeLimitMs, this.o.mode);
  }

  /** Replaces the options for the next attempt (e.g. whether the guest runs now). */
  configure(opts: MigrationSourceOptions): void {
    if (this.busy) throw new MigrationError('source-error', 'cannot reconfigure a running migration');
    this.opts = opts;
    this.o = resolveOptions(opts);
  }

  /** True once a migration completed: the machine now lives elsewhere and must not run. */
  get isFenced(): boolean {
    return this.fenced;
  }

  /**
   * Migrates the machine over `transport`. Resolves after the handover (this machine is fenced);
   * rejects with MigrationError if the attempt failed, in which case the machine is still the
   * authoritative copy and may run, and migrate() may be called again with a new transport.
   */
  async migrate(transport: MessageTransport): Promise<MigrationStats> {
    if (this.fenced) throw new MigrationError('source-error', 'this machine was already migrated away (fenced)');
    if (this.busy) throw new MigrationError('source-error', 'a migration of this machine is already running');
    this.busy = true;
    this.beginAttempt(transport);
    const t0 = now();
    try {
      await this.run(t0);
      this.stats.totalTimeMs = now() - t0;
      this.progress();
      return cloneStats(this.stats);
    } catch (e) {
      const err = this.abortAttempt(e);
      this.stats.totalTimeMs = now() - t0;
      this.progress();
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /** Stops dirty logging (after success this happens by itself). */
  dispose(): void {
    this.log?.dispose();
    this.log = null;
  }

  private beginAttempt(transport: MessageTransport): void {
    const s = this.stats;
    Object.assign(s, emptyStats(s.ram.totalBytes, this.o.downtimeLimitMs, this.o.mode));
    delete s.postcopy;
    delete s.convergence;
    delete s.error;
    s.status = 'setup';
    this.transport = transport;
    this.failure = null;
    this.window = new SendWindow(this.o.windowBytes);
    this.ram = null;
    this.encoder = null;
    this.ready = null;
    this.guestCanRun = this.o.guestRunning;
    this.postCopying = false;
    this.postCopyReady = false;
    this.queue = null;
    this.collected = new Uint8Array(this.machine.memory.pageCount);
    // Handlers ignore a transport of an earlier attempt whose close arrives late.
    transport.listen({
      message: (data) => {
        if (this.transport === transport) this.onMessage(data);
      },
      close: (err) => {
        if (this.transport !== transport) return;
        this.setFailure(new MigrationError('transport-closed', `the migration channel closed before the handover${err ? `: ${err.message}` : ''}`, { cause: err }));
      },
    });
  }

  private async run(t0: number): Promise<void> {
    const mem = this.machine.memory;
    const s = this.stats;
    const parts = allParts(this.machine, this.opts.extraParts);
    // Sections are small next to RAM; their size feeds the downtime estimate.
    const sectionBytes = encodeParts(parts).reduce((n, p) => n + p.payload.length + 16, 0);

    this.log ??= mem.createDirtyLog('migration', { allDirty: true });
    this.hashes ??= new PageHashes(mem.pageCount);
    const codec = codecForSave(this.opts.compress, { asyncAlternative: 'an uncompressed migration' });
    const enc = new StreamEncoder((chunk) => this.sendChunk(chunk), { chunkSize: this.o.chunkSize, headroom: MESSAGE_HEADER_BYTES, compressor: codec ?? undefined });
    const ram = new RamWriter(mem.ram, enc, this.hashes);
    this.ram = ram;
    this.encoder = enc;
    enc.raw(encodeHeader(this.opts.producer ?? PRODUCER, this.machine.config, mem.pageCount, codec ? HEADER_FLAG_COMPRESSED : 0));
    s.setupTimeMs = now() - t0;
    s.status = 'active';

    let pending = this.collect();
    let round = 1;
    let fewest = Infinity;
    let stalled = 0;
    const mode = this.o.mode;
    for (;;) {
      if (mode === 'post-copy') {
        s.convergence = 'post-copy';
        round = 0;
        break;
      }
      const r = await this.sendRound(round, pending, enc, ram, false);
      const dirty = this.collect();
      const bw = this.bandwidth();
      s.bandwidthBytesPerSec = bw;
      s.ram.remainingBytes = dirty.length * PAGE_SIZE;
      s.ram.dirtyPagesRate = r.durationMs > 0 ? (dirty.length * 1000) / r.durationMs : 0;
      s.rounds.push({ ...r, dirtyPagesAfter: dirty.length });
      const expected = bw > 0 ? ((dirty.length * (PAGE_SIZE + 5) + sectionBytes + this.window.inFlight) * 1000) / bw : Infinity;
      s.expectedDowntimeMs = expected;
      this.progress();
      // Rounds that do not shrink the dirty set only cost bandwidth (the guest dirties pages as
      // fast as they are sent): stop after a few of them even above the downtime limit.
      if (dirty.length < fewest * 0.95) {
        fewest = dirty.length;
        stalled = 0;
      } else {
        stalled++;
      }
      const reason =
        expected <= this.o.downtimeLimitMs ? 'downtime-limit'
        : !this.guestCanRun ? 'guest-stopped'
        : round >= this.o.maxRounds ? 'max-rounds'
        : stalled >= this.o.maxStalledRounds ? 'no-progress'
        : mode === 'hybrid' && round >= this.o.postCopyAfterRounds ? 'post-copy'
        : null;
      if (reason) {
        s.convergence = reason;
        pending = dirty;
        break;
      }
      pending = dirty;
      round++;
    }

    // Stop-and-copy: the guest does not run again here unless this attempt fails.
    const downStart = now();
    s.status = 'device';
    this.opts.onStop?.();
    this.guestCanRun = false;
    const final = mergeSorted(pending, this.collect());
    if (s.convergence === 'post-copy') {
      await this.postCopy(round + 1, final, enc, ram, encodeParts(parts), downStart);
      return;
    }
    const last = await this.sendRound(round + 1, final, enc, ram, true);
    s.rounds.push({ ...last, dirtyPagesAfter: 0 });
    s.ram.remainingBytes = 0;
    if (this.o.verifyRam === 'full') this.hashes.setAllFromRam(mem.ram);
    const sections = encodeParts(parts);
    for (const sec of sections) enc.section(sec.payload);
    const digest = combineDigest(this.hashes, sections);
    enc.end(digest, sections.length, s.ram.zeroPages + s.ram.fullPages);
    enc.flush();
    this.progress();

    // Handshake: wait for READY (DESIGN §2.6). Until it arrives the source stays authoritative.
    await this.until(() => this.ready !== null, this.o.readyTimeoutMs, 'READY');
    if (!digestEquals(this.ready!, digest)) {
      throw new MigrationError('protocol', `the destination verified digest ${digestToHex(this.ready!)} but the source sent ${digestToHex(digest)}`);
    }
    // Point of no return: fence first, then hand over.
    this.fenced = true;
    this.opts.onFence?.();
    try {
      this.transport!.send(encodeMessage(MessageKind.Commit));
    } catch {
      // The destination holds the verified state and waits for COMMIT; the embedder can still
      // tell it to start (MigrationTarget reports 'handover-unknown'). Never resume here.
    }
    s.downtimeMs = now() - downStart;
    s.status = 'completed';
    this.log?.dispose();
    this.log = null;
  }

  /** Sends one round's pages, running guest slices between steps while the guest may run. */
  private async sendRound(round: number, pages: Uint32Array, enc: StreamEncoder, ram: RamWriter, final: boolean): Promise<Omit<RoundStats, 'dirtyPagesAfter'>> {
    const s = this.stats;
    const start = now();
    const startBytes = enc.bytesOut;
    const z0 = ram.zeroPages;
    const f0 = ram.fullPages;
    enc.round(round);
    const stepPages = Math.max(1, Math.floor(this.o.stepBytes / PAGE_SIZE));
    let i = 0;
    while (i < pages.length) {
      this.check();
      if (this.window.open) {
        const end = Math.min(pages.length, i + stepPages);
        ram.write(pages, i, end);
        i = end;
        s.ram.zeroPages = ram.zeroPages;
        s.ram.fullPages = ram.fullPages;
      } else {
        this.window.blocked(now());
        if (!this.guestCanRun) {
          await this.waitForAck();
          continue;
        }
      }
      if (this.guestCanRun) {
        this.guestCanRun = this.runSlice();
        await yieldToEventLoop();
      } else if (!final) {
        await yieldToEventLoop();
      }
    }
    enc.flush();
    const bytes = enc.bytesOut - startBytes;
    s.ram.transferredBytes += bytes;
    return {
      round,
      pages: pages.length,
      zeroPages: ram.zeroPages - z0,
      fullPages: ram.fullPages - f0,
      bytes,
      durationMs: now() - start,
      stopAndCopy: final,
    };
  }

  /**
   * Post-copy from the stop on: sections, POSTCOPY (the pages still to come), POSTCOPY_READY,
   * fence + COMMIT (the downtime ends here), then every page of `rest` once — requested ones
   * first — and END with the digest, which the destination verifies (READY).
   */
  private async postCopy(round: number, rest: Uint32Array, enc: StreamEncoder, ram: RamWriter, sections: DigestSection[], downStart: number): Promise<void> {
    const s = this.stats;
    const mem = this.machine.memory;
    for (const sec of sections) enc.section(sec.payload);
    enc.flush();
    this.queue = new PostCopyQueue(rest, mem.pageCount);
    this.postCopying = true;
    this.send(postCopyMessage(rest, mem.pageCount));
    await this.until(() => this.postCopyReady, this.o.readyTimeoutMs, 'POSTCOPY_READY');
    // Point of no return: the destination runs from here on, with part of its RAM still here.
    this.fenced = true;
    this.opts.onFence?.();
    this.send(encodeMessage(MessageKind.Commit));
    s.downtimeMs = now() - downStart;
    s.status = 'postcopy-active';
    const t0 = now();
    const pc = (s.postcopy = { requests: 0, requestedPages: 0, pushedPages: 0, durationMs: 0 });
    const queue = this.queue!;
    const batch = new Uint32Array(this.o.postCopyStepPages);
    const z0 = ram.zeroPages;
    const f0 = ram.fullPages;
    const b0 = enc.bytesOut;
    enc.round(round);
    while (queue.left > 0) {
      this.check();
      if (!this.window.open || this.window.inFlight >= this.o.postCopyWindowBytes) {
        await this.waitForAck();
        continue;
      }
      const n = queue.take(batch);
      ram.write(batch, 0, n);
      enc.flush();
      s.ram.remainingBytes = queue.left * PAGE_SIZE;
      s.ram.zeroPages = ram.zeroPages;
      s.ram.fullPages = ram.fullPages;
      pc.requestedPages = queue.requestedPages;
      pc.pushedPages = queue.pushedPages;
      await yieldToEventLoop(); // let page requests in
    }
    pc.durationMs = now() - t0;
    s.ram.transferredBytes += enc.bytesOut - b0;
    s.rounds.push({ round, pages: rest.length, zeroPages: ram.zeroPages - z0, fullPages: ram.fullPages - f0, bytes: enc.bytesOut - b0, durationMs: pc.durationMs, dirtyPagesAfter: 0, stopAndCopy: false });
    const digest = combineDigest(this.hashes!, sections);
    enc.end(digest, sections.length, s.ram.zeroPages + s.ram.fullPages);
    enc.flush();
    this.progress();
    await this.until(() => this.ready !== null, this.o.readyTimeoutMs, 'READY (the verified digest)');
    if (!digestEquals(this.ready!, digest)) {
      throw new MigrationError('postcopy-failed', `the destination verified digest ${digestToHex(this.ready!)} but the source sent ${digestToHex(digest)}`);
    }
    s.status = 'completed';
    this.log?.dispose();
    this.log = null;
  }

  /** Waits until `done()` holds, failing on the attempt's failure or after `ms`. */
  private async until(done: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = now() + ms;
    while (!done()) {
      this.check();
      if (!(await this.signal.wait(Math.max(0, deadline - now()))) && !done()) {
        this.check();
        if (now() >= deadline) throw new MigrationError('timeout', `no ${what} from the destination within ${ms} ms`);
      }
    }
  }

  private send(message: ArrayBuffer): void {
    try {
      this.transport!.send(message);
    } catch (e) {
      this.setFailure(new MigrationError('transport-closed', `cannot send: ${(e as Error).message}`, { cause: e }));
      this.check();
    }
  }

  private runSlice(): boolean {
    if (this.opts.runSlice) return this.opts.runSlice();
    const r = this.machine.run(this.o.sliceInstructions);
    return r.reason !== 'shutdown' && r.reason !== 'halted';
  }

  private async waitForAck(): Promise<void> {
    const acked = this.window.ackedBytes;
    if (!(await this.signal.wait(this.o.ackTimeoutMs)) && this.window.ackedBytes === acked) {
      this.check();
      throw new MigrationError('timeout', `the destination acknowledged nothing for ${this.o.ackTimeoutMs} ms`);
    }
  }

  private collect(): Uint32Array {
    const pages = this.log!.collect();
    for (let i = 0; i < pages.length; i++) this.collected[pages[i]!] = 1;
    return pages;
  }

  private sendChunk(chunk: Uint8Array): void {
    this.check();
    const len = chunk.length - MESSAGE_HEADER_BYTES;
    writeMessageHeader(chunk, MessageKind.Data, len);
    this.window.sent(len, this.ram?.zeroPages ?? 0);
    this.stats.bytesTransferred = this.window.sentBytes;
    try {
      this.transport!.send(chunk.buffer as ArrayBuffer);
    } catch (e) {
      this.setFailure(new MigrationError('transport-closed', `cannot send: ${(e as Error).message}`, { cause: e }));
      this.check();
    }
  }

  /**
   * Estimated bytes per second of the final copy, when the guest is stopped and nothing else
   * competes: the slowest of the source's encoding rate, the destination's decoding rate (from
   * its ACKs) and the channel's rate measured while the window was full (unknown if it never
   * filled: then the channel was not the bottleneck). 0 while nothing is known yet.
   */
  private bandwidth(): number {
    // The source's rate counts full pages only: the pages of a final round are full pages.
    const ram = this.ram;
    const encode = ram ? rate(ram.fullPages * PAGE_SIZE, ram.fullMs) : Infinity;
    // The receiver's and the channel's rates count stream bytes; with compression a page takes
    // fewer of them, so in page bytes those rates are higher by the compression ratio so far.
    const enc = this.encoder;
    const ratio = enc && enc.compressedPageBytes > 0 ? enc.rawPageBytes / enc.compressedPageBytes : 1;
    const bw = Math.min(encode, this.window.receiverRate() * ratio, this.window.channelRate() * ratio);
    return bw === Infinity ? 0 : bw;
  }

  private onMessage(data: ArrayBuffer): void {
    if (this.failure) return;
    try {
      const m = decodeMessage(data);
      switch (m.kind) {
        case MessageKind.Ack: {
          const { consumed, busyMs } = readAck(m);
          this.window.acked(consumed, busyMs, now());
          break;
        }
        case MessageKind.Ready:
          if (this.ready) throw new MigrationError('protocol', 'READY received twice');
          this.ready = new Uint32Array(new Uint8Array(m.payload).buffer);
          break;
        case MessageKind.PostCopyReady:
          if (!this.postCopying || this.postCopyReady) throw new MigrationError('protocol', 'unexpected POSTCOPY_READY');
          this.postCopyReady = true;
          break;
        case MessageKind.PageRequest: {
          if (!this.postCopying) throw new MigrationError('protocol', 'PAGE_REQUEST outside post-copy');
          this.queue!.request(readPageRequest(m, this.machine.memory.pageCount));
          if (this.stats.postcopy) this.stats.postcopy.requests++;
          break;
        }
        case MessageKind.Error: {
          const e = readError(m);
          throw new MigrationError('target-error', `the destination failed (${e.code}): ${e.message}`);
        }
        default:
          throw new MigrationError('protocol', `unexpected message kind ${m.kind} from the destination`);
      }
    } catch (e) {
      this.setFailure(e instanceof MigrationError ? e : new MigrationError('protocol', String(e), { cause: e }));
    }
    this.signal.notify();
  }

  private setFailure(e: MigrationError): void {
    // After a pre-copy READY nothing can undo the handover; a post-copy one still needs the channel.
    if (this.fenced && !this.postCopying) return;
    this.failure ??= e;
    this.signal.notify();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Undo an attempt: the source stays authoritative and a retry must send everything again. */
  private abortAttempt(e: unknown): MigrationError {
    let err = e instanceof MigrationError ? e : new MigrationError('source-error', (e as Error)?.message ?? String(e), { cause: e });
    if (this.fenced && err.code !== 'postcopy-failed') {
      err = new MigrationError('postcopy-failed', `post-copy broke after the handover, the guest cannot continue: ${err.message}`, { cause: err });
    }
    const s = this.stats;
    s.status = 'failed';
    s.error = err.message;
    if (this.log) {
      const pages: number[] = [];
      for (let p = 0; p < this.collected.length; p++) if (this.collected[p]) pages.push(p);
      this.log.markDirty(pages);
    }
    const t = this.transport;
    if (t && !t.closed) {
      try {
        t.send(abortMessage(err.message));
      } catch {
        // best effort
      }
      t.close('migration aborted');
    }
    return err;
  }

  private progress(): void {
    this.opts.onProgress?.(cloneStats(this.stats));
  }
}


function now(): number {
  return performance.now();
}

/** Union of two ascending page lists, ascending, without duplicates. */
function mergeSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x <= y) {
      out[n++] = x;
      i++;
      if (x === y) j++;
    } else {
      out[n++] = y;
      j++;
    }
  }
  return out.subarray(0, n);
}
