/**
 * Memory faults. Both are thrown from deep inside an access and caught by the CPU's run loop.
 * They are preallocated singletons (one per Mmu / PhysicalMemory) so that throwing them costs
 * no allocation on a hot path; read their fields immediately after catching.
 */

/**
 * #PF (Intel SDM vol. 3A §4.7). errorCode bits: 0 P (protection violation rather than not-present),
 * 1 W/R (write), 2 U/S (user-mode access), 3 RSVD, 4 I/D (instruction fetch; only with NX).
 */
export class PageFaultError extends Error {
  override readonly name = 'PageFaultError';
  errorCode = 0;
  /** The faulting linear address: the CPU loads it into CR2. */
  linear = 0;
  constructor() {
    super('page fault');
  }
}

/**
 * An access touched a RAM page whose contents are not here yet (post-copy migration, lazy restore;
 * DESIGN §2.2). It is raised before the access changes anything, so the instruction can be
 * re-run once the page has arrived.
 */
export class PageAbsentError extends Error {
  override readonly name = 'PageAbsentError';
  page = 0;
  constructor() {
    super('page absent');
  }
}

/** A memory map that cannot be built (bad sizes, overlapping regions). */
export class MemoryConfigError extends Error {
  override readonly name = 'MemoryConfigError';
}
