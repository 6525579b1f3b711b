import { StateError, type SectionSchema, type StateRecord, type Stateful } from '@ferry86/mmu';
import type { MigratableMachine } from '../machine.ts';

/**
 * The pages a guest touched just before a snapshot, in first-touch order, saved with it as an
 * optional section so lazy restore can load them before anything else (working-set restore,
 * Zhang et al., VEE'11). Optional: a reader that does not know it skips it, and a snapshot
 * without one restores as before.
 */
export const WORKING_SET_SCHEMA: SectionSchema = {
  type: 'working-set',
  version: 1,
  optional: true,
  fields: { pages: 'u32[]', instructions: 'f64' },
};

export const WORKING_SET_SECTION = 'working-set';

/** A Stateful that carries a working set in and out of a snapshot (it is not machine state). */
export class WorkingSetPart implements Stateful {
  readonly sectionName = WORKING_SET_SECTION;
  readonly schema = WORKING_SET_SCHEMA;

  constructor(
    public pages: Uint32Array = new Uint32Array(0),
    /** Length of the recording window in instructions. */
    public instructions = 0,
    private readonly pageCount = Infinity,
  ) {}

  saveState(): StateRecord {
    return { pages: this.pages.slice(), instructions: this.instructions };
  }

  checkState(rec: StateRecord): void {
    const pages = rec.pages as Uint32Array;
    const seen = new Set<number>();
    for (const p of pages) {
      if (p >= this.pageCount) throw new StateError(this.sectionName, `page ${p} is outside RAM`);
      if (seen.has(p)) throw new StateError(this.sectionName, `page ${p} is listed twice`);
      seen.add(p);
    }
    const n = rec.instructions as number;
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new StateError(this.sectionName, `window of ${n} instructions is not a count`);
  }

  loadState(rec: StateRecord): void {
    this.pages = (rec.pages as Uint32Array).slice();
    this.instructions = rec.instructions as number;
  }
}

/** What recording needs beyond MigratableMachine: presence bits it can clear and set. */
export interface PresenceControl {
  markAllAbsent(): void;
  markPresent(page: number): void;
  markAllPresent(): void;
  isPresent(page: number): boolean;
  readonly absentCount: number;
}

/**
 * Runs the machine for `instructions` more instructions and returns the RAM pages it touched —
 * read, written, fetched, or walked as page tables — in first-touch order.
 *
 * How: every page is marked absent (its contents stay in RAM), so the first access to each one
 * stops the CPU before the instruction changes anything (DESIGN §2.2); the page is recorded,
 * marked present, and the instruction re-runs. A dirty log would see only writes, and a lazy
 * restore stalls on reads just as much. Cost: one run-loop exit per distinct page. Not seen:
 * code the CPU keeps executing from already-decoded, linked instructions of a page it was in
 * when recording began (it fetches through the TLB only when it enters a page); the lazy restorer
 * demand-fetches such a page at once, so only a stall is lost. The guest's execution is the same
 * as without recording (an absent exit only pauses the run loop; see PcMachine).
 */
export function recordWorkingSet(
  machine: Pick<MigratableMachine, 'memory'> & { run(n: number): { reason: string; instructions: number; page?: number } },
  presence: PresenceControl,
  instructions: number,
): Uint32Array {
  if (presence.absentCount !== 0) throw new Error('recordWorkingSet needs every page present');
  const touched: number[] = [];
  presence.markAllAbsent();
  try {
    let left = instructions;
    let idle = 0;
    while (left > 0) {
      const r = machine.run(left);
      left -= r.instructions;
      if (r.reason === 'absent' && r.page !== undefined) {
        touched.push(r.page);
        presence.markPresent(r.page);
      } else if (r.reason === 'idle') {
        if (r.instructions === 0 && ++idle > 1000) break; // waiting for host input that never comes
      } else if (r.reason !== 'limit') {
        break;
      }
    }
  } finally {
    presence.markAllPresent();
  }
  return Uint32Array.from(touched);
}
