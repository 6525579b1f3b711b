/**
 * Migration statistics, modelled on QEMU's query-migrate (DESIGN §4). Times in milliseconds,
 * sizes in bytes, rates per second.
 */
export type MigrationStatus = 'none' | 'setup' | 'active' | 'device' | 'postcopy-active' | 'completed' | 'failed';

/** How the pages travel (MigrationSourceOptions.mode). */
export type MigrationMode = 'pre-copy' | 'post-copy' | 'hybrid';

/** The post-copy phase, after the handover (QEMU's postcopy-requests and friends). */
export interface PostCopyStats {
  /** PAGE_REQUEST messages from the destination (its guest touched an absent page). */
  requests: number;
  /** Pages sent because they were requested, before their turn. */
  requestedPages: number;
  /** Pages sent in the background order. */
  pushedPages: number;
  /** Handover to the last page sent. */
  durationMs: number;
}

export interface RoundStats {
  /** 1 = the first full pass. The final stop-and-copy pass is the last entry. */
  readonly round: number;
  readonly pages: number;
  readonly zeroPages: number;
  readonly fullPages: number;
  /** Stream bytes of this round's page records. */
  readonly bytes: number;
  readonly durationMs: number;
  /** Pages found dirty at the end of the round (what the next one must send). */
  readonly dirtyPagesAfter: number;
  readonly stopAndCopy: boolean;
}

export interface MigrationStats {
  status: MigrationStatus;
  /** Creating the dirty log and the header. */
  setupTimeMs: number;
  totalTimeMs: number;
  /** Estimate of the final pause when pre-copy stopped iterating. */
  expectedDowntimeMs: number;
  /** Guest paused (stop) to handover (COMMIT sent), measured. 0 until completed. */
  downtimeMs: number;
  downtimeLimitMs: number;
  rounds: RoundStats[];
  ram: {
    totalBytes: number;
    /** Stream bytes of page records sent so far. */
    transferredBytes: number;
    /** Dirty bytes not yet sent (as of the last dirty-log collect). */
    remainingBytes: number;
    /** Zero pages sent as zero-run records ("duplicate" in QEMU). */
    zeroPages: number;
    /** Full 4 KiB pages sent ("normal" in QEMU). */
    fullPages: number;
    /** Sub-page delta records (not produced yet). */
    deltaPages: number;
    dirtyPagesRate: number;
    pageSize: number;
  };
  /** All stream bytes sent (pages, sections, framing). */
  bytesTransferred: number;
  /** Measured from acknowledged bytes. */
  bandwidthBytesPerSec: number;
  mode: MigrationMode;
  /** Why pre-copy stopped iterating ('post-copy': switched to post-copy, hybrid mode). */
  convergence?: 'downtime-limit' | 'max-rounds' | 'no-progress' | 'guest-stopped' | 'post-copy';
  /** Set once a post-copy phase started. */
  postcopy?: PostCopyStats;
  /** This implementation never throttles the guest. */
  throttlePercent: number;
  error?: string;
}

export function emptyStats(ramBytes: number, downtimeLimitMs: number, mode: MigrationMode = 'pre-copy'): MigrationStats {
  return {
    status: 'none',
    mode,
    setupTimeMs: 0,
    totalTimeMs: 0,
    expectedDowntimeMs: 0,
    downtimeMs: 0,
    downtimeLimitMs,
    rounds: [],
    ram: { totalBytes: ramBytes, transferredBytes: 0, remainingBytes: ramBytes, zeroPages: 0, fullPages: 0, deltaPages: 0, dirtyPagesRate: 0, pageSize: 4096 },
    bytesTransferred: 0,
    bandwidthBytesPerSec: 0,
    throttlePercent: 0,
  };
}

/** A deep copy, safe to hand to a progress callback or post to another thread. */
export function cloneStats(s: MigrationStats): MigrationStats {
  return { ...s, rounds: s.rounds.map((r) => ({ ...r })), ram: { ...s.ram }, postcopy: s.postcopy && { ...s.postcopy } };
}
