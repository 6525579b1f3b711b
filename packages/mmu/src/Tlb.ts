import { PAGES_4G } from './constants.ts';
import type { TranslationCache } from './PhysicalMemory.ts';

/**
 * Software TLB: one Int32 entry per 4 KiB linear page. An entry holds the physical page base in
 * bits 31..12 and permission bits below; 0 means "no translation cached". Only ordinary RAM pages
 * are cached: ROM outside RAM, MMIO and unmapped space always take the slow path.
 *
 * Separate read and write permissions (DESIGN §2.1): a write bit is set only when the page is
 * writable for that privilege, its dirty bit is already set in the page tables, and every active
 * dirty log has the page marked. That is what makes dirty logging cost one slow write per page
 * per round.
 */
export const TLB_READ_SUPERVISOR = 1;
export const TLB_READ_USER = 2;
export const TLB_WRITE_SUPERVISOR = 4;
export const TLB_WRITE_USER = 8;
/** Global page (CR4.PGE and PTE.G): survives CR3 reloads. */
export const TLB_GLOBAL = 16;
const TLB_WRITE = TLB_WRITE_SUPERVISOR | TLB_WRITE_USER;

/** Enough for a large working set; when full, everything is flushed (rare). */
const MAX_VALID = 1 << 16;

export class Tlb implements TranslationCache {
  readonly entries = new Int32Array(PAGES_4G);
  /** Linear pages that may hold an entry, so flushes touch only those. */
  private readonly valid = new Int32Array(MAX_VALID);
  private validCount = 0;
  private scratch: Uint8Array = new Uint8Array(0);

  set(linearPage: number, entry: number): void {
    if (this.entries[linearPage] === 0) {
      if (this.validCount === MAX_VALID) this.flushAll();
      this.valid[this.validCount++] = linearPage;
    }
    this.entries[linearPage] = entry;
  }

  invalidate(linearPage: number): void {
    this.entries[linearPage] = 0;
  }

  flushAll(): void {
    const e = this.entries;
    for (let i = 0; i < this.validCount; i++) e[this.valid[i]!] = 0;
    this.validCount = 0;
  }

  /** CR3 reload: keeps global entries (Intel SDM vol. 3A §4.10.4.1). */
  flushNonGlobal(): void {
    const e = this.entries;
    let kept = 0;
    for (let i = 0; i < this.validCount; i++) {
      const lp = this.valid[i]!;
      const entry = e[lp]!;
      if (entry & TLB_GLOBAL) this.valid[kept++] = lp;
      else e[lp] = 0;
    }
    this.validCount = kept;
  }

  dropWrite(pages: ArrayLike<number>, count: number): void {
    const e = this.entries;
    if (count <= 4) {
      for (let i = 0; i < this.validCount; i++) {
        const lp = this.valid[i]!;
        const entry = e[lp]!;
        if ((entry & TLB_WRITE) === 0) continue;
        const pp = entry >>> 12;
        for (let j = 0; j < count; j++) {
          if (pages[j] === pp) {
            e[lp] = entry & ~TLB_WRITE;
            break;
          }
        }
      }
      return;
    }
    let max = 0;
    for (let j = 0; j < count; j++) if (pages[j]! > max) max = pages[j]!;
    if (this.scratch.length <= max) this.scratch = new Uint8Array(max + 1);
    const mark = this.scratch;
    for (let j = 0; j < count; j++) mark[pages[j]!] = 1;
    for (let i = 0; i < this.validCount; i++) {
      const lp = this.valid[i]!;
      const entry = e[lp]!;
      if ((entry & TLB_WRITE) !== 0 && mark[entry >>> 12] === 1) e[lp] = entry & ~TLB_WRITE;
    }
    for (let j = 0; j < count; j++) mark[pages[j]!] = 0;
  }
}
