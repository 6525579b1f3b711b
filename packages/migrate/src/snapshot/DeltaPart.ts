import type { StateRecord, Stateful } from '@ferry86/mmu';

/**
 * A stateful part too large to resend whole in every incremental snapshot (a disk overlay): it
 * keeps its own dirty logs, like RAM, and can save just what changed since the last collect.
 *
 * In an incremental snapshot such a part's section holds a *delta record*; the receiver merges it
 * into the parent snapshot's record with applyDelta() and from then on handles the merged, full
 * record like any other (checkState, loadState). The whole-state digest always covers the full
 * record's canonical encoding, so it does not depend on how the state was carried.
 * Structural, so @ferry86/devices' CowDisk fits without importing this package.
 */
export interface DeltaLog {
  /** Units (blocks) changed since the previous collect, ascending; re-arms them. */
  collect(): Uint32Array;
  /** Marks units again (a save that was rolled back). */
  markDirty(units: ArrayLike<number>): void;
  dispose(): void;
}

export interface DeltaStateful extends Stateful {
  createDeltaLog(name: string): DeltaLog;
  /** A record of the part's schema holding only `units` (as a DeltaLog collected them). */
  saveDelta(units: Uint32Array): StateRecord;
  isDeltaRecord(record: StateRecord): boolean;
  /** The full record: `parent` (full) with `delta` applied. Throws StateError if they do not fit. */
  applyDelta(parent: StateRecord, delta: StateRecord): StateRecord;
}

export function isDeltaStateful(part: Stateful): part is DeltaStateful {
  const p = part as Partial<DeltaStateful>;
  return typeof p.createDeltaLog === 'function' && typeof p.saveDelta === 'function'
    && typeof p.isDeltaRecord === 'function' && typeof p.applyDelta === 'function';
}
