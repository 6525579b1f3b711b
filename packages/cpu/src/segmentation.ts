/**
 * Protected-mode segmentation: descriptor fetches from the GDT/LDT and the checks each kind of
 * segment-register load performs (Intel SDM vol. 3A §3.4-3.5, §5.5-5.10; vol. 2 MOV/POP/LDS).
 */
import * as constantsModule from './constants.ts';
import type { Cpu } from './cpu.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const {
  ATTR_DPL_SHIFT, ATTR_G, ATTR_P, ATTR_S, ATTR_TYPE_ACCESSED, ATTR_TYPE_CODE, ATTR_TYPE_EC, ATTR_TYPE_RW,
  CR0_PE, DS, ES, EXC_GP, EXC_NP, EXC_SS, FS, GS, SS, VM
} = constantsModule;

/** A descriptor as read from a table; preallocated and reused (no allocation per load). */
export class Descriptor {
  /** Linear address of the 8-byte entry. */
  addr = 0;
  lo = 0;
  hi = 0;
  base = 0;
  /** Byte-granular limit (G applied), 0..0xFFFFFFFF. */
  limit = 0;
  /** Descriptor bits 40..55 in the segment-cache layout. */
  attr = 0;

  get dpl(): number {
    return (this.attr >> ATTR_DPL_SHIFT) & 3;
  }
  get present(): boolean {
    return (this.attr & ATTR_P) !== 0;
  }
  /** S=1: a code or data segment. */
  get isSegment(): boolean {
    return (this.attr & ATTR_S) !== 0;
  }
  get isCode(): boolean {
    return (this.attr & (ATTR_S | ATTR_TYPE_CODE)) === (ATTR_S | ATTR_TYPE_CODE);
  }
  get isConforming(): boolean {
    return (this.attr & ATTR_TYPE_EC) !== 0;
  }
  /** Code: readable. Data: writable. */
  get rw(): boolean {
    return (this.attr & ATTR_TYPE_RW) !== 0;
  }
  /** System-descriptor type (S = 0) or the 4-bit segment type. */
  get type(): number {
    return this.attr & 0xf;
  }

  /** Fills the derived fields from raw dwords. */
  parse(lo: number, hi: number): void {
    this.lo = lo;
    this.hi = hi;
    this.base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
    let limit = (lo & 0xffff) | (hi & 0xf0000);
    const attr = (hi >>> 8) & 0xf0ff;
    if ((attr & ATTR_G) !== 0) limit = ((limit << 12) | 0xfff) >>> 0;
    this.limit = limit;
    this.attr = attr;
  }
}

/**
 * Reads the descriptor `sel` names into `d`. Returns false if the selector's index is beyond its
 * table's limit (or names the LDT while none is loaded); the caller picks the exception.
 */
export function fetchDescriptor(c: Cpu, sel: number, d: Descriptor): boolean {
  let base: number;
  let limit: number;
  if ((sel & 4) !== 0) {
    if ((c.ldtrSel & 0xfffc) === 0) return false;
    base = c.ldtrBase;
    limit = c.ldtrLimit;
  } else {
    base = c.gdtrBase;
    limit = c.gdtrLimit;
  }
  const index = sel & 0xfff8;
  if (index + 7 > limit) return false;
  d.addr = (base + index) | 0;
  const lo = c.mmu.readSys32(d.addr);
  const hi = c.mmu.readSys32((d.addr + 4) | 0);
  d.parse(lo, hi);
  return true;
}

/** Sets the descriptor's accessed bit in memory (done by every successful segment load). */
export function markAccessed(c: Cpu, d: Descriptor): void {
  if ((d.attr & ATTR_TYPE_ACCESSED) === 0) {
    d.attr |= ATTR_TYPE_ACCESSED;
    d.hi |= ATTR_TYPE_ACCESSED << 8;
    c.mmu.writeSys8((d.addr + 5) | 0, (d.hi >>> 8) & 0xff);
  }
}

const scratch = new Descriptor();

/**
 * MOV/POP/LDS... into DS, ES, FS, GS or SS. In real mode only selector and base change. In
 * protected mode the selector is checked as the SDM's MOV pseudo-code says. Sets the interrupt
 * shadow for SS. All faults happen before the register changes.
 */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if ((c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0) {
    c.setSegReal(seg, sel);
  } else if (seg === SS) {
    loadStackSegment(c, sel);
  } else {
    checkDataSegment(c, sel, scratch);
    if ((sel & 0xfffc) === 0) c.setSegNull(seg, sel);
    else {
      markAccessed(c, scratch);
      c.setSegCache(seg, sel, scratch.base, scratch.limit, scratch.attr);
    }
  }
  if (seg === SS) {
    // MOV SS / POP SS hold off interrupts for one instruction so SS:ESP can be set as a pair.
    c.shadow = true;
    c.exit = true;
  }
}

/** The checks for DS/ES/FS/GS; leaves the descriptor in `d` (unless `sel` is null). */
export function checkDataSegment(c: Cpu, sel: number, d: Descriptor): void {
  if ((sel & 0xfffc) === 0) return;
  if (!fetchDescriptor(c, sel, d)) c.raise(EXC_GP, sel & 0xfffc);
  if (!d.isSegment || (d.isCode && !d.rw)) c.raise(EXC_GP, sel & 0xfffc);
  if (!d.isCode || !d.isConforming) {
    const dpl = d.dpl;
    if ((sel & 3) > dpl || c.cpl > dpl) c.raise(EXC_GP, sel & 0xfffc);
  }
  if (!d.present) c.raise(EXC_NP, sel & 0xfffc);
}

/** Checks a selector for SS at privilege `cpl`; leaves the descriptor in `d`. */
export function checkStackSegment(c: Cpu, sel: number, cpl: number, d: Descriptor): void {
  if ((sel & 0xfffc) === 0) c.raise(EXC_GP, 0);
  if (!fetchDescriptor(c, sel, d)) c.raise(EXC_GP, sel & 0xfffc);
  if ((sel & 3) !== cpl || !d.isSegment || d.isCode || !d.rw || d.dpl !== cpl) c.raise(EXC_GP, sel & 0xfffc);
  if (!d.present) c.raise(EXC_SS, sel & 0xfffc);
}

function loadStackSegment(c: Cpu, sel: number): void {
  checkStackSegment(c, sel, c.cpl, scratch);
  markAccessed(c, scratch);
  c.setSegCache(SS, sel, scratch.base, scratch.limit, scratch.attr);
}

/**
 * After a return to an outer privilege level, data segment registers the new CPL may not use
 * are nulled (SDM vol. 2 RET/IRET: "FOR each of segment register (ES, FS, GS, and DS)").
 */
export function nullInaccessibleSegments(c: Cpu): void {
  const cpl = c.cpl;
  for (const seg of DATA_SEGS) {
    if (c.segValid[seg] === 0) continue;
    const attr = c.segAttr[seg]!;
    const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
    const dataOrNonConforming = (attr & ATTR_TYPE_CODE) === 0 || (attr & ATTR_TYPE_EC) === 0;
    if (dataOrNonConforming && dpl < cpl) c.setSegNull(seg, 0);
  }
}
const DATA_SEGS = [ES, DS, FS, GS];

/**
 * Checks that `bytes` bytes ending just below offset `top` fit in a stack segment with the given
 * cache (normal or expand-down), for pushes onto a stack that is not loaded yet.
 */
export function stackFits(limit: number, attr: number, big: boolean, top: number, bytes: number): boolean {
  const lowest = big ? (top - bytes) >>> 0 : (top - bytes) & 0xffff;
  const last = big ? (top - 1) >>> 0 : (top - 1) & 0xffff;
  if (lowest > last) return false; // wraps around the stack size
  if ((attr & ATTR_TYPE_EC) !== 0) {
    const upper = big ? 0xffffffff : 0xffff;
    return lowest > limit && last <= upper;
  }
  return last <= limit;
}
