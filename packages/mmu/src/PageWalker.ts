import { PageFaultError } from './errors.ts';
import type { PhysicalMemory } from './PhysicalMemory.ts';

/** Page-table entry bits (Intel SDM vol. 3A §4.3, tables 4-4 to 4-6). */
export const PTE_P = 0x1;
export const PTE_RW = 0x2;
export const PTE_US = 0x4;
export const PTE_A = 0x20;
export const PTE_D = 0x40;
export const PDE_PS = 0x80;
export const PTE_G = 0x100;

/** #PF error code bits (SDM vol. 3A §4.7). */
export const PF_PROTECTION = 1;
export const PF_WRITE = 2;
export const PF_USER = 4;

/**
 * Walks 32-bit two-level page tables (4 KiB pages, and 4 MiB pages when CR4.PSE is set).
 *
 * Like Bochs, A/D bits are written only when the whole translation succeeds, so a faulting access
 * leaves the page tables untouched. Page-table updates go through the physical write path, so
 * dirty logs see them: setting an A bit is a guest memory write.
 */
export class PageWalker {
  /** Results of the last successful walk (read right after walk() returns). */
  physical = 0;
  /** Effective U/S and R/W of the translation (both levels ANDed). */
  user = false;
  writable = false;
  /** The final entry's D bit after this walk. */
  dirty = false;
  global = false;

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly fault: PageFaultError,
  ) {}

  /**
   * Translates `linear`; throws the #PF singleton or PageAbsentError (a page table in an absent
   * page). `wp` is CR0.WP: supervisor writes honour R/W only when it is set.
   */
  walk(cr3: number, pse: boolean, wp: boolean, linear: number, write: boolean, userAccess: boolean): void {
    const mem = this.mem;
    const pdeAddr = ((cr3 & ~0xfff) + ((linear >>> 22) << 2)) >>> 0;
    const pde = mem.readPhys32(pdeAddr);
    if ((pde & PTE_P) === 0) this.raise(linear, 0, write, userAccess);

    if (pse && (pde & PDE_PS) !== 0) {
      this.check(linear, pde, write, userAccess, wp);
      const set = PTE_A | (write ? PTE_D : 0);
      if ((pde & set) !== set) mem.writePhys32(pdeAddr, pde | set);
      // Bits 21..13 of a 4 MiB PDE would extend the address past 4 GiB (PSE-36); not advertised.
      this.physical = ((pde & 0xffc00000) | (linear & 0x3ff000)) >>> 0;
      this.user = (pde & PTE_US) !== 0;
      this.writable = (pde & PTE_RW) !== 0;
      this.dirty = write || (pde & PTE_D) !== 0;
      this.global = (pde & PTE_G) !== 0;
      return;
    }

    const pteAddr = ((pde & ~0xfff) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0;
    const pte = mem.readPhys32(pteAddr);
    if ((pte & PTE_P) === 0) this.raise(linear, 0, write, userAccess);
    const both = pde & pte;
    this.check(linear, both, write, userAccess, wp);
    if ((pde & PTE_A) === 0) mem.writePhys32(pdeAddr, pde | PTE_A);
    const set = PTE_A | (write ? PTE_D : 0);
    if ((pte & set) !== set) mem.writePhys32(pteAddr, pte | set);
    this.physical = ((pte & ~0xfff) | 0) >>> 0;
    this.user = (both & PTE_US) !== 0;
    this.writable = (both & PTE_RW) !== 0;
    this.dirty = write || (pte & PTE_D) !== 0;
    this.global = (pte & PTE_G) !== 0;
  }

  /** Privilege checks on the combined U/S and R/W bits (SDM vol. 3A §4.6). */
  private check(linear: number, bits: number, write: boolean, userAccess: boolean, wp: boolean): void {
    if (userAccess && (bits & PTE_US) === 0) this.raise(linear, PF_PROTECTION, write, userAccess);
    if (write && (bits & PTE_RW) === 0 && (userAccess || wp)) this.raise(linear, PF_PROTECTION, write, userAccess);
  }

  private raise(linear: number, bits: number, write: boolean, userAccess: boolean): never {
    const f = this.fault;
    f.errorCode = bits | (write ? PF_WRITE : 0) | (userAccess ? PF_USER : 0);
    f.linear = linear >>> 0;
    throw f;
  }
}
