import type { Stateful } from '@ferry86/mmu';
import type { PageCodec } from '../format/page-codec.ts';
import type { MigrationMode, MigrationStats } from './stats.ts';

/** How a MigrationSource migrates (every field optional; resolveOptions fills the defaults). */
export interface MigrationSourceOptions {
  /**
   * How pages travel (DESIGN §2.2, §4). 'pre-copy' (default): rounds while the guest runs, then a
   * short stop-and-copy; the destination verifies everything before it runs. 'post-copy': stop at
   * once, send only the device state, hand over; the guest runs on the destination at once and
   * every page is then sent exactly once — those its guest faults on first, the rest in order
   * (Hines & Gopalan, VEE'09). 'hybrid': pre-copy rounds (postCopyAfterRounds), and post-copy for
   * whatever is still dirty unless pre-copy converged by then. After a post-copy handover the
   * source's RAM is still needed: if the channel breaks before the last page, the guest is lost
   * (MigrationError 'postcopy-failed' on both sides).
   */
  mode?: MigrationMode;
  /** Hybrid mode: pre-copy rounds before switching to post-copy (default 1). */
  postCopyAfterRounds?: number;
  /**
   * Compress page data (DEFLATE, as snapshots do) with a synchronous codec: true for node:zlib.
   * Worth it on slow links (hosts over TCP); the destination must inflate synchronously too
   * (Node; a browser destination refuses such a stream with a typed error).
   */
  compress?: boolean | PageCodec;
  /** Post-copy: pages sent per background step, between which requests are served (default 64). */
  postCopyStepPages?: number;
  /**
   * Post-copy: most unacknowledged bytes while pushing pages (default 1 MiB). Small, so that a
   * page the destination asks for does not queue behind megabytes of background pages.
   */
  postCopyWindowBytes?: number;
  /** Stop iterating once the rest is expected to transfer within this (default 300 ms, as QEMU). */
  downtimeLimitMs?: number;
  /** Pre-copy rounds before stop-and-copy regardless of the estimate (default 30). */
  maxRounds?: number;
  /** Consecutive rounds that do not shrink the dirty set by 5 % before stop-and-copy anyway (default 5). */
  maxStalledRounds?: number;
  /** Most stream bytes sent but not yet acknowledged by the destination (default 16 MiB). */
  windowBytes?: number;
  /** Stream bytes sent between two guest slices (default 2 MiB). */
  stepBytes?: number;
  /** Stream chunk (message) size (default 1 MiB). */
  chunkSize?: number;
  /** Whether the guest runs during pre-copy (default true). A paused guest converges in one round. */
  guestRunning?: boolean;
  /** Runs one guest slice; returns false once the guest cannot run any more. Default: machine.run(sliceInstructions). */
  runSlice?: () => boolean;
  /** Instructions per slice for the default runSlice (default 100 000). */
  sliceInstructions?: number;
  /** The guest has stopped for the final copy (flush its output now). */
  onStop?: () => void;
  /** The destination is READY: this machine must never run again. Called before COMMIT is sent. */
  onFence?: () => void;
  onProgress?: (stats: MigrationStats) => void;
  /** Parts beyond machine.stateParts() to migrate along. */
  extraParts?: readonly Stateful[];
  /** Time without an ACK (while waiting for one) before giving up (default 30 s). */
  ackTimeoutMs?: number;
  /** Time to wait for READY after the END frame (default 60 s). */
  readyTimeoutMs?: number;
  /**
   * 'incremental' (default): the digest uses page hashes taken as pages were sent, which the
   * dirty log keeps current. 'full': rehash all RAM while stopped, which also catches a dirty
   * log that missed a write (costs about 1 ms per 4 MiB of RAM of extra downtime).
   */
  verifyRam?: 'incremental' | 'full';
  producer?: string;
}

export type ResolvedOptions = Required<Omit<MigrationSourceOptions, 'runSlice' | 'onStop' | 'onFence' | 'onProgress' | 'extraParts' | 'producer' | 'compress'>>;

export function resolveOptions(opts: MigrationSourceOptions): ResolvedOptions {
  return {
    downtimeLimitMs: opts.downtimeLimitMs ?? 300,
    maxRounds: opts.maxRounds ?? 30,
    maxStalledRounds: opts.maxStalledRounds ?? 5,
    windowBytes: opts.windowBytes ?? 16 << 20,
    stepBytes: opts.stepBytes ?? 2 << 20,
    chunkSize: opts.chunkSize ?? 1 << 20,
    guestRunning: opts.guestRunning ?? true,
    sliceInstructions: opts.sliceInstructions ?? 100_000,
    ackTimeoutMs: opts.ackTimeoutMs ?? 30_000,
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    verifyRam: opts.verifyRam ?? 'incremental',
    mode: opts.mode ?? 'pre-copy',
    postCopyAfterRounds: Math.max(1, opts.postCopyAfterRounds ?? 1),
    postCopyStepPages: Math.max(1, Math.min(256, opts.postCopyStepPages ?? 64)),
    postCopyWindowBytes: Math.max(64 * 1024, opts.postCopyWindowBytes ?? 1 << 20),
  };
}
