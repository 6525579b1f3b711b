/**
 * Instruction byte fetch and ModRM/SIB decoding (Intel SDM vol. 2 §2.1, tables 2-1 to 2-3).
 *
 * The fetcher reads code bytes at CS:EIP+n through the Mmu's fetch translation, checking the CS
 * limit for every byte and the 15-byte length limit (#GP(0) for either). It remembers whether the
 * instruction crossed a page, because such an instruction cannot be cached under one page.
 * State is module-level: decoding never allocates.
 */
import { CS, DS, SS } from './constants.ts';
import type { Cpu } from './cpu.ts';
import type { Insn } from './insn.ts';

let fc: Cpu;
let fEip = 0;
let fCsBase = 0;
let fLimit = 0;
let fLinPage = -1;
let fPhysPage = 0;
/** Number of bytes consumed so far. */
export let fCount = 0;
/** True if the bytes read so far span two pages. */
export let fCrossed = false;

export function fetchBegin(c: Cpu, eip: number): void {
  fc = c;
  fEip = eip;
  fCsBase = c.segBase[CS]!;
  fLimit = c.segLimit[CS]!;
  fLinPage = -1;
  fCount = 0;
  fCrossed = false;
}

export function u8(): number {
  if (fCount >= 15) fc.gp(0);
  const off = fEip + fCount;
  if (off > fLimit) fc.gp(0);
  const lin = (fCsBase + off) | 0;
  const lp = lin >>> 12;
  if (lp !== fLinPage) {
    fPhysPage = fc.mmu.translateFetch(lin) & ~0xfff;
    if (fLinPage !== -1) fCrossed = true;
    fLinPage = lp;
  }
  fCount++;
  return fc.mmu.phys.readPhys8((fPhysPage | (lin & 0xfff)) >>> 0);
}

export function s8(): number {
  return (u8() << 24) >> 24;
}
export function u16(): number {
  const lo = u8();
  return lo | (u8() << 8);
}
export function s16(): number {
  return (u16() << 16) >> 16;
}
export function i32(): number {
  const lo = u16();
  return (lo | (u16() << 16)) | 0;
}

/** Fields of the last ModRM byte. */
export let mMod = 0;
export let mReg = 0;
export let mRm = 0;

/** Register-number -> view-index maps (see Cpu.r8/r16/r32). */
export function reg8(n: number): number {
  return ((n & 3) << 2) | (n >> 2);
}
export function reg16(n: number): number {
  return n << 1;
}

// 16-bit addressing forms: base and index as r16 indices (16 = always zero).
const BX = 6;
const BP = 10;
const SI = 12;
const DI = 14;
const Z16 = 16;
const EA16_BASE = [BX, BX, BP, BP, SI, DI, BP, BX];
const EA16_INDEX = [SI, DI, SI, DI, Z16, Z16, Z16, Z16];

/**
 * Reads a ModRM byte (and SIB/displacement) and fills the instruction's memory-operand fields.
 * `segOverride` is -1 if no segment prefix was given. Leaves i.rm = -1 for a memory operand.
 */
export function readModrm(i: Insn, a32: boolean, segOverride: number): void {
  const b = u8();
  mMod = b >> 6;
  mReg = (b >> 3) & 7;
  mRm = b & 7;
  if (mMod === 3) return;
  i.rm = -1;
  i.a32 = a32;
  let seg = DS;
  if (!a32) {
    i.scale = 0;
    if (mMod === 0 && mRm === 6) {
      i.base = Z16;
      i.index = Z16;
      i.disp = u16();
    } else {
      i.base = EA16_BASE[mRm]!;
      i.index = EA16_INDEX[mRm]!;
      if (i.base === BP) seg = SS;
      i.disp = mMod === 1 ? s8() : mMod === 2 ? s16() : 0;
    }
  } else {
    let base = mRm;
    let index = 8;
    let scale = 0;
    if (mRm === 4) {
      const sib = u8();
      scale = sib >> 6;
      index = (sib >> 3) & 7;
      if (index === 4) index = 8;
      base = sib & 7;
      if (base === 5 && mMod === 0) {
        base = 8;
        i.disp = i32();
      }
    } else if (mRm === 5 && mMod === 0) {
      base = 8;
      i.disp = i32();
    }
    if (base === 4 || base === 5) seg = SS;
    if (mMod === 1) i.disp = s8();
    else if (mMod === 2) i.disp = i32();
    else if (base !== 8) i.disp = 0;
    i.base = base;
    i.index = index;
    i.scale = scale;
  }
  i.seg = segOverride >= 0 ? segOverride : seg;
}
