import { stateDigest } from '../digest/stateDigest.ts';
import type { StreamLimits } from '../format/constants.ts';
import { MigrationError } from '../migration/MigrationError.ts';
import { MigrationSource, type MigrationSourceOptions } from '../migration/MigrationSource.ts';
import { MigrationTarget } from '../migration/MigrationTarget.ts';
import { errorMessage } from '../migration/protocol.ts';
import type { MigrationMode, MigrationStats } from '../migration/stats.ts';
import type { PostCopyPager } from '../migration/PostCopyPager.ts';
import { Signal, yieldToEventLoop } from '../migration/eventLoop.ts';
import { restoreSnapshot, type RestoreResult } from '../snapshot/restoreSnapshot.ts';
import { saveSnapshot } from '../snapshot/saveSnapshot.ts';
import { MessagePortTransport, type MessagePortLike } from '../transport/MessagePortTransport.ts';
import { RuntimeState, type HostedMachine, type MachineFactory } from './HostedMachine.ts';

export interface VmRuntimeStatus {
  hasMachine: boolean;
  running: boolean;
  /** The machine was migrated away and must never run here again. */
  fenced: boolean;
  migrating: boolean;
  instructionCount: number;
  /** Why the run loop last stopped by itself ('shutdown', 'halted', 'absent'; '' otherwise). */
  stopReason: string;
  serialPosition: number;
  lastMigration: MigrationStats | null;
}

export interface MigrateToOptions {
  /** 'pre-copy' (default), 'post-copy' or 'hybrid' (MigrationSourceOptions.mode). */
  mode?: MigrationMode;
  /** Hybrid: pre-copy rounds before post-copy (default 1). */
  postCopyAfterRounds?: number;
  /** DEFLATE the pages (Node destinations only: browsers have no synchronous inflater). */
  compress?: boolean;
  downtimeLimitMs?: number;
  maxRounds?: number;
  verifyRam?: 'incremental' | 'full';
  windowBytes?: number;
}

export interface MigrateToResult {
  stats: MigrationStats;
  /** The guest was running when the migration started: the embedder should start the destination. */
  wasRunning: boolean;
  /** Serial input that arrived after the guest stopped; send it to the destination. */
  undeliveredInput: Uint8Array;
}

export interface ReceiveFromResult {
  /** The verified digest; '' after a post-copy handover (then `postCopy` is true). */
  digest: string;
  /**
   * Post-copy / hybrid: the guest may run now while its remaining pages arrive; the worker runs
   * it through the pager. digest() and saveSnapshot() wait until every page is in.
   */
  postCopy: boolean;
  bytesReceived: number;
  rounds: number;
}

export interface VmRuntimeOptions {
  /** Instructions per run-loop slice (default 200 000); the loop yields to messages between slices. */
  sliceInstructions?: number;
  /** Serial output kept while nobody subscribes (default 1 MiB, the newest bytes win). */
  serialBacklogBytes?: number;
  limits?: Partial<StreamLimits>;
}

/** Receives serial chunks: a MessagePort to the embedder, or a function in tests. */
export type SerialSink = MessagePortLike | ((chunk: { seq: number; data: Uint8Array }) => void);

/**
 * One VM as a worker hosts it (DESIGN §2.7): the run loop in slices that yield to the event loop
 * (so control calls and migration messages are handled while the guest runs), serial input and
 * output, snapshots, and both ends of live migration over a MessagePort handed to it directly.
 * It knows nothing about comlink; vm-worker.ts exposes it.
 */
export class VmRuntime {
  machine: HostedMachine | null = null;
  private readonly runtimeState = new RuntimeState();
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private fenced = false;
  private migrating = false;
  /** Guest stopped for a migration's final copy: input waits. */
  private frozen = false;
  private stopReason = '';
  private source: MigrationSource | null = null;
  /** A post-copy destination whose pages are still arriving: the guest runs through it. */
  private pager: PostCopyPager<HostedMachine> | null = null;
  private lastMigration: MigrationStats | null = null;
  private readonly input: Uint8Array[] = [];
  private out = new Uint8Array(4096);
  private outLen = 0;
  private serial: SerialSink | null = null;
  private backlog: { seq: number; data: Uint8Array }[] = [];
  private backlogBytes = 0;
  private readonly slice: number;
  private readonly wake = new Signal();
  private readonly backlogLimit: number;
  private readonly resources = new Map<string, Uint8Array>();

  constructor(
    private readonly factory: MachineFactory,
    private readonly opts: VmRuntimeOptions = {},
  ) {
    this.slice = opts.sliceInstructions ?? 200_000;
    this.backlogLimit = opts.serialBacklogBytes ?? 1 << 20;
  }

  // ---- machine lifecycle ------------------------------------------------------------------------

  /**
   * Keeps a large input the machine factory may need, by name (for the PC: "disk:primaryMaster",
   * "disk:primarySlave"). A destination must have the source's disk images before it receives.
   */
  provide(name: string, bytes: Uint8Array): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('a resource needs a name');
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`resource "${name}" must be a Uint8Array`);
    this.resources.set(name, bytes);
  }

  create(config: unknown): void {
    if (this.running || this.migrating) throw new Error('pause the machine before replacing it');
    this.adopt(this.factory(config, this.resources));
    this.runtimeState.serialSeq = 0;
    this.fenced = false;
    this.source?.dispose();
    this.source = null;
  }

  loadMultiboot(image: Uint8Array, cmdline?: string): void {
    const m = this.need();
    if (this.running) throw new Error('pause the machine before loading an image');
    if (!m.loadMultiboot) throw new Error('this machine has no multiboot loader');
    m.loadMultiboot(image, cmdline);
  }

  start(): void {
    this.need();
    if (this.fenced) throw new Error('this machine was migrated away and must not run here again');
    if (this.migrating) throw new Error('a migration is in progress');
    if (this.running) return;
    this.running = true;
    this.stopReason = '';
    this.loopDone = this.loop();
  }

  async pause(): Promise<void> {
    this.running = false;
    this.wake.notify();
    await this.loopDone;
  }

  /** Runs exactly n instructions now (paused machines only); for tests and single-stepping. */
  step(n: number): { reason: string; instructions: number } {
    const m = this.need();
    if (this.running || this.migrating || this.fenced || this.pager) throw new Error('step() needs a paused machine that is not migrating');
    this.deliverInput();
    const r = m.run(n);
    this.flushSerial();
    return r;
  }

  status(): VmRuntimeStatus {
    return {
      hasMachine: this.machine !== null,
      running: this.running,
      fenced: this.fenced,
      migrating: this.migrating,
      instructionCount: this.machine?.instructionCount ?? 0,
      stopReason: this.stopReason,
      serialPosition: this.runtimeState.serialSeq,
      lastMigration: this.lastMigration,
    };
  }

  instructionCount(): number {
    return this.machine?.instructionCount ?? 0;
  }

  /** State digest (hex) of RAM, every part and the runtime's own state. */
  digest(): string {
    if (this.pager) throw this.pager.failure ?? new Error('post-copy pages are still arriving: await waitForPages() first');
    return stateDigest(this.need(), [this.runtimeState]);
  }

  /** Resolves once a post-copy migration into this worker has all its pages (at once otherwise). */
  async waitForPages(): Promise<void> {
    if (this.pager) await this.pager.complete;
  }

  // ---- serial -----------------------------------------------------------------------------------

  sendSerial(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.input.push(bytes.slice());
    this.wake.notify();
  }

  /** Directs serial output to `sink`, first replaying what is held in the backlog. */
  subscribeSerial(sink: SerialSink): void {
    this.serial = sink;
    for (const c of this.backlog) this.post(c);
    this.backlog = [];
    this.backlogBytes = 0;
  }

  // ---- snapshots --------------------------------------------------------------------------------

  async saveSnapshot(): Promise<Uint8Array> {
    const m = this.need();
    await this.waitForPages();
    const wasRunning = this.running;
    await this.pause();
    try {
      this.flushSerial();
      return saveSnapshot(m, { extraParts: [this.runtimeState] });
    } finally {
      if (wasRunning) this.start();
    }
  }

  async restoreSnapshot(bytes: Uint8Array): Promise<RestoreResult> {
    const m = this.need();
    if (this.fenced) throw new Error('this machine was migrated away');
    const wasRunning = this.running;
    await this.pause();
    try {
      this.flushSerial();
      return restoreSnapshot(m, bytes, { extraParts: [this.runtimeState], limits: this.opts.limits });
    } finally {
      if (wasRunning) this.start();
    }
  }

  // ---- live migration ---------------------------------------------------------------------------

  /** Source side: migrates the machine over `port` (one end of a MessageChannel). */
  async migrateTo(port: MessagePortLike, opts: MigrateToOptions = {}): Promise<MigrateToResult> {
    const transport = new MessagePortTransport(port);
    const refused = !this.machine
      ? 'no machine to migrate'
      : this.pager
        ? 'its post-copy pages are still arriving from the previous migration'
        : this.fenced
        ? 'this machine was already migrated away'
        : this.migrating
          ? 'a migration is already in progress'
          : null;
    if (refused) {
      const err = new MigrationError('source-error', refused);
      refuse(transport, err);
      throw err;
    }
    const m = this.machine!;
    const wasRunning = this.running;
    await this.pause();
    this.migrating = true;
    const sourceOpts: MigrationSourceOptions = {
      ...opts,
      guestRunning: wasRunning,
      runSlice: () => this.runSlice(),
      onStop: () => {
        this.frozen = true;
        this.flushSerial();
      },
      onFence: () => {
        this.fenced = true;
      },
      onProgress: (s) => (this.lastMigration = s),
      extraParts: [this.runtimeState],
    };
    // One MigrationSource per machine keeps its dirty log across failed attempts (retries).
    this.source ??= new MigrationSource(m, sourceOpts);
    this.source.configure(sourceOpts);
    try {
      const stats = await this.source.migrate(transport);
      this.lastMigration = stats;
      const pending = this.input.splice(0);
      return { stats, wasRunning, undeliveredInput: concat(pending) };
    } catch (e) {
      this.frozen = false;
      this.migrating = false;
      if (wasRunning && !this.fenced && !STOPS.has(this.stopReason)) this.start();
      throw e;
    } finally {
      this.migrating = false;
    }
  }

  /** Destination side: builds a machine from the incoming stream's configuration and loads it. */
  async receiveFrom(port: MessagePortLike): Promise<ReceiveFromResult> {
    const transport = new MessagePortTransport(port);
    if (this.running || this.migrating) {
      const err = new MigrationError('target-error', 'this worker is busy: pause it before receiving a machine');
      refuse(transport, err);
      throw err;
    }
    this.migrating = true;
    const state = new RuntimeState();
    const target = new MigrationTarget<HostedMachine>({
      createMachine: (c) => this.factory(c, this.resources),
      extraParts: [state],
      limits: this.opts.limits,
    });
    try {
      const r = await target.receive(transport);
      this.adopt(r.machine);
      this.runtimeState.serialSeq = state.serialSeq;
      this.fenced = false;
      this.source?.dispose();
      this.source = null;
      if (r.postCopy) {
        const pager = r.postCopy;
        this.pager = pager;
        pager.complete.then(
          () => {
            if (this.pager === pager) this.pager = null;
          },
          () => {
            // The loop stops with 'postcopy-failed' at its next slice; the guest cannot go on.
          },
        );
      }
      return { digest: r.digest, bytesReceived: r.bytesReceived, rounds: r.rounds, postCopy: r.postCopy !== undefined };
    } finally {
      this.migrating = false;
    }
  }

  async terminate(): Promise<void> {
    await this.pause();
    this.flushSerial();
    this.source?.dispose();
  }

  // ---- internals --------------------------------------------------------------------------------

  private need(): HostedMachine {
    if (!this.machine) throw new Error('no machine: call create() or receiveFrom() first');
    return this.machine;
  }

  private adopt(m: HostedMachine): void {
    this.machine?.setSerialOutput(null);
    this.machine = m;
    this.frozen = false;
    this.stopReason = '';
    this.outLen = 0;
    m.setSerialOutput((b) => this.onSerialByte(b));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const r = this.pager ? await this.runOncePaged(this.pager) : this.runOnce();
      if (STOPS.has(r.reason)) {
        this.running = false;
        this.stopReason = r.reason;
        break;
      }
      if (r.reason === 'idle' || r.instructions === 0) {
        // The guest waits (HLT, or realtime pacing ahead of the wall): sleep until its next
        // event is due, host input arrives or pause() is called.
        await this.wake.wait(Math.max(0, Math.min(r.waitMs ?? 1, 50)));
      } else {
        await yieldToEventLoop();
      }
    }
  }

  private runOnce(): { reason: string; instructions: number; waitMs?: number } {
    this.deliverInput();
    const r = this.machine!.run(this.slice);
    this.flushSerial();
    return r;
  }

  /** One slice through the post-copy pager, which waits for absent pages the guest touches. */
  private async runOncePaged(pager: PostCopyPager<HostedMachine>): Promise<{ reason: string; instructions: number; waitMs?: number }> {
    this.deliverInput();
    try {
      return await pager.run(this.slice);
    } catch {
      return { reason: 'postcopy-failed', instructions: 0 };
    } finally {
      this.flushSerial();
    }
  }

  private runSlice(): boolean {
    const r = this.runOnce();
    if (STOPS.has(r.reason)) {
      this.stopReason = r.reason;
      return false;
    }
    return true;
  }

  private deliverInput(): void {
    if (this.input.length === 0 || this.frozen) return;
    this.machine!.serialInput(concat(this.input.splice(0)));
  }

  private onSerialByte(b: number): void {
    if (this.outLen === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.outLen++] = b;
    this.runtimeState.serialSeq++;
  }

  private flushSerial(): void {
    if (this.outLen === 0) return;
    const chunk = { seq: this.runtimeState.serialSeq - this.outLen, data: this.out.slice(0, this.outLen) };
    this.outLen = 0;
    if (this.serial) {
      this.post(chunk);
    } else {
      this.backlog.push(chunk);
      this.backlogBytes += chunk.data.length;
      while (this.backlogBytes > this.backlogLimit && this.backlog.length > 1) this.backlogBytes -= this.backlog.shift()!.data.length;
    }
  }

  private post(chunk: { seq: number; data: Uint8Array }): void {
    const s = this.serial!;
    if (typeof s === 'function') s(chunk);
    else s.postMessage(chunk, [chunk.data.buffer as ArrayBuffer]);
  }
}

/** Run exits after which the guest cannot continue by itself. */
const STOPS = new Set(['shutdown', 'halted', 'absent', 'postcopy-failed']);

/** Tells the peer why this side will not take part, then closes the channel. */
function refuse(t: MessagePortTransport, err: MigrationError): void {
  try {
    t.send(errorMessage(err.code, err.message));
  } catch {
    // the peer learns from the close alone
  }
  t.close(err.message);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
