import * as C from './constants.ts';
import { PageFaultError } from './errors.ts';
import { PageWalker } from './PageWalker.ts';
import { PageKind, type PhysicalMemory } from './PhysicalMemory.ts';
import {
  TLB_GLOBAL, TLB_READ_SUPERVISOR, TLB_READ_USER, TLB_WRITE_SUPERVISOR, TLB_WRITE_USER, Tlb,
} from './Tlb.ts';

// Module-local copies: under vitest/CommonJS each imported binding read is a getter call, and
// these are read on every memory access.
const PAGE_SHIFT = C.PAGE_SHIFT;
const PAGE_SIZE = C.PAGE_SIZE;
const PAGE_MASK = C.PAGE_MASK;
const CR0_WP = 1 << 16;
const CR0_PG = 1 << 31;
const CR4_PSE = 1 << 4;
const CR4_PGE = 1 << 7;

/**
 * The CPU's view of memory: linear addresses, translated through paging (when CR0.PG is set) and
 * the A20 gate to physical addresses, with a software TLB in front.
 *
 * Fast path: an aligned (or same-page) access is one TLB array load, one mask test and one typed
 * array access. Everything else (first touch of a page, first write after a dirty-log collect,
 * ROM, MMIO, page-crossing accesses) takes the slow path.
 *
 * Faults are thrown: PageFaultError (this Mmu's singleton; read errorCode/linear at once) and
 * PageAbsentError. A multi-byte write that crosses a page translates both pages before it writes
 * any byte, so a fault never leaves half a value in memory.
 */
export class Mmu {
  readonly tlb = new Tlb();
  readonly pageFault = new PageFaultError();
  private readonly t: Int32Array;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly i32: Int32Array;
  private readonly walker: PageWalker;
  private readMask = TLB_READ_SUPERVISOR;
  private writeMask = TLB_WRITE_SUPERVISOR;
  private userMode = false;
  private currentCpl = 0;
  private paging = false;
  private wp = false;
  private pse = false;
  private pge = false;
  private cr3 = 0;

  constructor(readonly phys: PhysicalMemory) {
    this.t = this.tlb.entries;
    this.u8 = phys.ram;
    this.u16 = phys.ram16;
    this.i32 = phys.ram32;
    this.walker = new PageWalker(phys, this.pageFault);
    phys.addTranslationCache(this.tlb);
  }

  // ---- control ---------------------------------------------------------------------------------

  get cpl(): number {
    return this.currentCpl;
  }

  /** Current privilege level: U/S checks treat CPL 3 as user mode (SDM vol. 3A §4.6). */
  set cpl(value: number) {
    this.currentCpl = value;
    this.userMode = value === 3;
    this.readMask = this.userMode ? TLB_READ_USER : TLB_READ_SUPERVISOR;
    this.writeMask = this.userMode ? TLB_WRITE_USER : TLB_WRITE_SUPERVISOR;
  }

  get pagingEnabled(): boolean {
    return this.paging;
  }

  /**
   * Called on every write to CR0, CR3 or CR4. A change of PG, WP, PSE or PGE flushes everything;
   * otherwise (a CR3 load) non-global entries go (SDM vol. 3A §4.10.4.1).
   */
  setControl(cr0: number, cr3: number, cr4: number): void {
    const paging = (cr0 & CR0_PG) !== 0;
    const wp = (cr0 & CR0_WP) !== 0;
    const pse = (cr4 & CR4_PSE) !== 0;
    const pge = (cr4 & CR4_PGE) !== 0;
    const modeChanged = paging !== this.paging || wp !== this.wp || pse !== this.pse || pge !== this.pge;
    this.paging = paging;
    this.wp = wp;
    this.pse = pse;
    this.pge = pge;
    this.cr3 = cr3 >>> 0;
    if (modeChanged || !pge) this.tlb.flushAll();
    else this.tlb.flushNonGlobal();
  }

  invlpg(linear: number): void {
    this.tlb.invalidate(linear >>> PAGE_SHIFT);
  }

  // ---- accesses with the current privilege -------------------------------------------------------

  read8(lin: number): number {
    return this.load8(lin, this.readMask, this.userMode);
  }
  read16(lin: number): number {
    return this.load16(lin, this.readMask, this.userMode);
  }
  /** Returns a signed int32. */
  read32(lin: number): number {
    return this.load32(lin, this.readMask, this.userMode);
  }
  write8(lin: number, v: number): void {
    this.store8(lin, v, this.writeMask, this.userMode);
  }
  write16(lin: number, v: number): void {
    this.store16(lin, v, this.writeMask, this.userMode);
  }
  write32(lin: number, v: number): void {
    this.store32(lin, v, this.writeMask, this.userMode);
  }

  // ---- supervisor ("implicit") accesses: descriptor tables, IDT, TSS -------------------------------

  readSys8(lin: number): number {
    return this.load8(lin, TLB_READ_SUPERVISOR, false);
  }
  readSys16(lin: number): number {
    return this.load16(lin, TLB_READ_SUPERVISOR, false);
  }
  readSys32(lin: number): number {
    return this.load32(lin, TLB_READ_SUPERVISOR, false);
  }
  writeSys8(lin: number, v: number): void {
    this.store8(lin, v, TLB_WRITE_SUPERVISOR, false);
  }
  writeSys16(lin: number, v: number): void {
    this.store16(lin, v, TLB_WRITE_SUPERVISOR, false);
  }
  writeSys32(lin: number, v: number): void {
    this.store32(lin, v, TLB_WRITE_SUPERVISOR, false);
  }

  /** Physical address of the code byte at `lin` (the decoded-code cache keys on it). */
  translateFetch(lin: number): number {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    if ((e & this.readMask) !== 0) return ((e & -PAGE_SIZE) | (lin & PAGE_MASK)) >>> 0;
    return this.translate(lin, false, this.userMode);
  }

  /** Checks that a write to [lin, lin+size) would succeed, without writing (for restartable ops). */
  probeWrite(lin: number, size: number): void {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    if ((e & this.writeMask) === 0 || (lin & PAGE_MASK) > PAGE_SIZE - size) {
      this.translate(lin, true, this.userMode);
      this.translate(((lin + size - 1) & -PAGE_SIZE) | 0, true, this.userMode);
    }
  }

  // ---- fast paths ---------------------------------------------------------------------------------

  private load8(lin: number, mask: number, user: boolean): number {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    if ((e & mask) !== 0) return this.u8[(e & -PAGE_SIZE) | (lin & PAGE_MASK)]!;
    return this.phys.readPhys8(this.translate(lin, false, user));
  }

  private load16(lin: number, mask: number, user: boolean): number {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    const off = lin & PAGE_MASK;
    if ((e & mask) !== 0 && off !== PAGE_MASK) {
      const a = (e & -PAGE_SIZE) | off;
      return (a & 1) === 0 ? this.u16[a >>> 1]! : this.u8[a]! | (this.u8[a + 1]! << 8);
    }
    if (off === PAGE_MASK) return this.load8(lin, mask, user) | (this.load8((lin + 1) | 0, mask, user) << 8);
    return this.phys.readPhys16(this.translate(lin, false, user));
  }

  private load32(lin: number, mask: number, user: boolean): number {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    const off = lin & PAGE_MASK;
    if ((e & mask) !== 0 && off <= PAGE_SIZE - 4) {
      const a = (e & -PAGE_SIZE) | off;
      if ((a & 3) === 0) return this.i32[a >>> 2]!;
      const u8 = this.u8;
      return u8[a]! | (u8[a + 1]! << 8) | (u8[a + 2]! << 16) | (u8[a + 3]! << 24);
    }
    if (off > PAGE_SIZE - 4) return this.load16(lin, mask, user) | (this.load16((lin + 2) | 0, mask, user) << 16);
    return this.phys.readPhys32(this.translate(lin, false, user));
  }

  private store8(lin: number, v: number, mask: number, user: boolean): void {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    if ((e & mask) !== 0) {
      this.u8[(e & -PAGE_SIZE) | (lin & PAGE_MASK)] = v;
      return;
    }
    this.phys.writePhys8(this.translate(lin, true, user), v);
  }

  private store16(lin: number, v: number, mask: number, user: boolean): void {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    const off = lin & PAGE_MASK;
    if ((e & mask) !== 0 && off !== PAGE_MASK) {
      const a = (e & -PAGE_SIZE) | off;
      if ((a & 1) === 0) this.u16[a >>> 1] = v;
      else {
        this.u8[a] = v;
        this.u8[a + 1] = v >>> 8;
      }
      return;
    }
    if (off === PAGE_MASK) this.storeSplit(lin, v, 2, user);
    else this.phys.writePhys16(this.translate(lin, true, user), v);
  }

  private store32(lin: number, v: number, mask: number, user: boolean): void {
    const e = this.t[lin >>> PAGE_SHIFT]!;
    const off = lin & PAGE_MASK;
    if ((e & mask) !== 0 && off <= PAGE_SIZE - 4) {
      const a = (e & -PAGE_SIZE) | off;
      if ((a & 3) === 0) this.i32[a >>> 2] = v;
      else {
        const u8 = this.u8;
        u8[a] = v;
        u8[a + 1] = v >>> 8;
        u8[a + 2] = v >>> 16;
        u8[a + 3] = v >>> 24;
      }
      return;
    }
    if (off > PAGE_SIZE - 4) this.storeSplit(lin, v, 4, user);
    else this.phys.writePhys32(this.translate(lin, true, user), v);
  }

  // ---- slow path ----------------------------------------------------------------------------------

  /** A write across a page boundary: both pages are translated (and may fault) before any byte. */
  private storeSplit(lin: number, v: number, size: number, user: boolean): void {
    const first = this.translate(lin, true, user);
    // The second page is translated at its first byte, so CR2 names the page boundary (as Bochs).
    const last = this.translate(((lin + size - 1) & -PAGE_SIZE) | 0, true, user);
    const inFirst = PAGE_SIZE - (lin & PAGE_MASK);
    for (let i = 0; i < size; i++) {
      const addr = i < inFirst ? first + i : (last & -PAGE_SIZE) + (i - inFirst);
      this.phys.writePhys8(addr >>> 0, v >>> (8 * i));
    }
  }

  /**
   * Linear -> physical for one access, filling the TLB for RAM pages. For a write to RAM it marks
   * the page in every dirty log first, which is what lets the TLB hold a write entry afterwards.
   */
  private translate(lin: number, write: boolean, user: boolean): number {
    let physical: number;
    let userOk = true;
    let writable = true;
    let dirty = true;
    let global = false;
    if (this.paging) {
      const w = this.walker;
      w.walk(this.cr3, this.pse, this.wp, lin, write, user);
      physical = w.physical | (lin & PAGE_MASK);
      userOk = w.user;
      writable = w.writable;
      dirty = w.dirty;
      global = this.pge && w.global;
    } else {
      physical = lin;
    }
    physical = (physical & this.phys.a20Mask) >>> 0;
    const pp = physical >>> PAGE_SHIFT;
    const mem = this.phys;
    const kind = mem.kind[pp];
    if (kind === PageKind.Ram || kind === PageKind.RamReadOnly) {
      mem.checkPresent(pp);
      if (write && kind === PageKind.Ram) mem.markWritten(pp);
      let entry = (pp << PAGE_SHIFT) | TLB_READ_SUPERVISOR;
      if (userOk) entry |= TLB_READ_USER;
      if (global) entry |= TLB_GLOBAL;
      if (kind === PageKind.Ram && dirty && mem.writeCacheable(pp)) {
        if (writable || !this.wp) entry |= TLB_WRITE_SUPERVISOR;
        if (writable && userOk) entry |= TLB_WRITE_USER;
      }
      this.tlb.set(lin >>> PAGE_SHIFT, entry);
    }
    return physical;
  }
}
