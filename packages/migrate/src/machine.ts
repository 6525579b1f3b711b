import type { Stateful } from '@ferry86/mmu';

/**
 * What snapshot and migration code need from a machine. Structural, so PcMachine satisfies it
 * without depending on this package, and tests can use a small fake. @ferry86/mmu's
 * PhysicalMemory and DirtyLog fit MigratableMemory and MigratableDirtyLog as they are.
 */

export interface MigratableDirtyLog {
  /** Pages written since the previous collect, ascending; re-arms them. */
  collect(): Uint32Array;
  /** Marks pages again (a migration round that never arrived). */
  markDirty(pages: ArrayLike<number>): void;
  dispose(): void;
}

export interface MigratableMemory {
  /** All of guest RAM; page p is bytes [p × 4096, (p+1) × 4096). */
  readonly ram: Uint8Array;
  readonly pageCount: number;
  createDirtyLog(name: string, opts?: { allDirty?: boolean }): MigratableDirtyLog;
  /**
   * Replaces a whole page (null = zeros) the way an arriving page must: marks every dirty log
   * (so decoded-code caches drop stale instructions) and makes the page present.
   */
  fillPage(page: number, data: Uint8Array | null): void;
  /**
   * Optional hint: true if the page is present and was never written since the memory was made,
   * so it holds zeros. Writers skip reading such pages and restores skip clearing them (the
   * first touch of untouched host memory costs a page fault). False or absent says nothing.
   */
  isPristine?(page: number): boolean;
  /** Page presence (post-copy); when absent, every page counts as present. */
  readonly presence?: {
    isPresent(page: number): boolean;
    /** Makes a page absent: the guest's next touch of it stops the CPU (post-copy). */
    markAbsent?(page: number): void;
  };
}

export interface MigratableMachine {
  /** JSON-serialisable configuration; a stream only loads into a machine with the same one. */
  readonly config: object;
  readonly memory: MigratableMemory;
  /** Every stateful part, in the order their state must be loaded. Names are unique. */
  stateParts(): Stateful[];
  /** Runs up to n instructions. */
  run(maxInstructions: number): { reason: string; instructions: number };
  readonly instructionCount: number;
}

/** The machine's parts plus extra parts an embedder migrates along (e.g. the worker runtime's). */
export function allParts(machine: MigratableMachine, extra: readonly Stateful[] = []): Stateful[] {
  const parts = [...machine.stateParts(), ...extra];
  const seen = new Set<string>();
  for (const p of parts) {
    if (seen.has(p.sectionName)) throw new Error(`two stateful parts are both named "${p.sectionName}"`);
    seen.add(p.sectionName);
  }
  return parts;
}
