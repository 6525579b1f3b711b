/**
 * Group 2 shifts and rotates (C0/C1/D0-D3: ROL ROR RCL RCR SHL SHR SAL SAR) and SHLD/SHRD
 * (SDM vol. 2 "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
 *
 * The count is masked to 5 bits (as on every processor since the 80186); a masked count of 0
 * changes nothing, flags included. Shifts record lazy flags (CF kept in fCin); rotates change
 * only CF and OF. OF for counts other than 1 (undefined in the SDM) and the SHLD/SHRD results for
 * 16-bit counts above 16 follow Bochs.
 *
 * i.op = /reg operation; i.imm = count, or -1 to use CL; i.rm >= 0 register operand, else memory.
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { ARITH_FLAGS, CF, OF } = constantsModule;
const { getAF, getCF, getPF, getSF, getZF, K_SHL, K_SAR, K_SHR, SZ16, SZ32, SZ8 } = flagsModule;

// Pending flag results of the last computation (applied after the memory write succeeds).
const P_NONE = 0;
const P_LAZY = 1;
const P_ROTATE = 2;
let pKind = P_NONE;
let pOp = 0;
let pA = 0;
let pRes = 0;
let pCF = 0;
let pOF = 0;

const MASKS = [0xff, 0xffff, -1];

/** Computes `op` on the `sz`-sized value v by `count` (already masked to 5 bits). */
function shiftCompute(c: Cpu, op: number, v: number, count: number, sz: number): number {
  if (count === 0) {
    pKind = P_NONE;
    return v;
  }
  const bits = 8 << sz;
  const mask = MASKS[sz]!;
  const msb = bits - 1;
  let res: number;
  switch (op) {
    case 0: {
      // ROL
      const n = count & msb;
      res = n === 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
      pCF = res & 1;
      pOF = ((res >>> msb) & 1) ^ pCF;
      pKind = P_ROTATE;
      return res;
    }
    case 1: {
      // ROR
      const n = count & msb;
      res = n === 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
      pCF = (res >>> msb) & 1;
      pOF = pCF ^ ((res >>> (msb - 1)) & 1);
      pKind = P_ROTATE;
      return res;
    }
    case 2: {
      // RCL: rotate through CF, a (bits+1)-bit rotation
      // A count that is a multiple of size+1 rotates nothing but still sets OF (recorded on the
      // 286 vectors; the SDM leaves OF undefined for counts other than 1).
      const n = sz === SZ32 ? count : count % (bits + 1);
      let cf = getCF(c);
      res = v;
      for (let k = 0; k < n; k++) {
        const out = (res >>> msb) & 1;
        res = ((res << 1) | cf) & mask;
        cf = out;
      }
      pCF = cf;
      pOF = ((res >>> msb) & 1) ^ cf;
      pKind = P_ROTATE;
      return res;
    }
    case 3: {
      // RCR
      const n = sz === SZ32 ? count : count % (bits + 1);
      let cf = getCF(c);
      res = v;
      for (let k = 0; k < n; k++) {
        const out = res & 1;
        res = ((res >>> 1) | (cf << msb)) & mask;
        cf = out;
      }
      pCF = cf;
      pOF = ((res >>> msb) ^ (res >>> (msb - 1))) & 1;
      pKind = P_ROTATE;
      return res;
    }
    case 4:
    case 6:
      // SHL / SAL
      res = count >= bits ? 0 : (v << count) & mask;
      pCF = count > bits ? 0 : (v >>> (bits - count)) & 1;
      pOp = K_SHL | sz;
      break;
    case 5:
      // SHR
      res = count >= bits ? 0 : (v >>> count) & mask;
      pCF = count > bits ? 0 : (v >>> (count - 1)) & 1;
      pOp = K_SHR | sz;
      break;
    default: {
      // SAR
      const sv = sz === SZ8 ? (v << 24) >> 24 : sz === SZ16 ? (v << 16) >> 16 : v | 0;
      res = (sv >> (count > msb ? msb : count)) & mask;
      pCF = (sv >> (count - 1 > msb ? msb : count - 1)) & 1;
      pOp = K_SAR | sz;
      break;
    }
  }
  pA = v;
  pRes = res;
  pKind = P_LAZY;
  return res;
}

function commitFlags(c: Cpu): void {
  if (pKind === P_LAZY) {
    c.fOp = pOp;
    c.fA = pA;
    c.fB = 0;
    c.fRes = pRes;
    c.fCin = pCF;
  } else if (pKind === P_ROTATE) {
    rotateFlags(c, pCF, pOF);
  }
}

/**
 * A rotate sets CF and OF and keeps PF AF ZF SF: those four are folded in from the lazy state
 * (materializeFlags without computing the old CF and OF, which are replaced anyway).
 */
function rotateFlags(c: Cpu, cf: number, of: number): void {
  let fl = c.flags;
  if (c.fOp !== 0) {
    fl = (fl & ~ARITH_FLAGS) | (getPF(c) << 2) | (getAF(c) << 4) | (getZF(c) << 6) | (getSF(c) << 7);
    c.fOp = 0;
  }
  c.flags = (fl & ~(CF | OF)) | cf | (of << 11);
}

function countOf(c: Cpu, i: Insn): number {
  return (i.imm >= 0 ? i.imm : c.r8[4]!) & 31;
}

export function shift8(c: Cpu, i: Insn): void {
  const count = countOf(c, i);
  if (i.rm >= 0) {
    c.r8[i.rm] = shiftCompute(c, i.op, c.r8[i.rm]!, count, SZ8);
  } else {
    const off = c.ea(i);
    const v = c.rd8(i.seg, off);
    const r = shiftCompute(c, i.op, v, count, SZ8);
    if (pKind !== P_NONE) c.wr8(i.seg, off, r);
  }
  commitFlags(c);
}
export function shift16(c: Cpu, i: Insn): void {
  const count = countOf(c, i);
  if (i.rm >= 0) {
    c.r16[i.rm] = shiftCompute(c, i.op, c.r16[i.rm]!, count, SZ16);
  } else {
    const off = c.ea(i);
    const v = c.rd16(i.seg, off);
    const r = shiftCompute(c, i.op, v, count, SZ16);
    if (pKind !== P_NONE) c.wr16(i.seg, off, r);
  }
  commitFlags(c);
}
export function shift32(c: Cpu, i: Insn): void {
  const rm = i.rm;
  const n = i.imm & 31;
  if (rm >= 0 && i.imm >= 0 && n !== 0) {
    // Register operand, immediate count: SHL/SHR/ROL inline (the same results and lazy flags
    // as shiftCompute + commitFlags).
    const op = i.op;
    const v = c.r32[rm]!;
    if (op === 5) {
      const res = v >>> n;
      c.r32[rm] = res;
      c.fOp = K_SHR | SZ32;
      c.fA = v;
      c.fB = 0;
      c.fRes = res | 0;
      c.fCin = (v >>> (n - 1)) & 1;
      return;
    }
    if (op === 4 || op === 6) {
      const res = v << n;
      c.r32[rm] = res;
      c.fOp = K_SHL | SZ32;
      c.fA = v;
      c.fB = 0;
      c.fRes = res;
      c.fCin = (v >>> (32 - n)) & 1;
      return;
    }
    if (op === 0) {
      const res = (v << n) | (v >>> (32 - n));
      c.r32[rm] = res;
      const cf = res & 1;
      rotateFlags(c, cf, ((res >>> 31) & 1) ^ cf);
      return;
    }
  }
  const count = countOf(c, i);
  if (i.rm >= 0) {
    c.r32[i.rm] = shiftCompute(c, i.op, c.r32[i.rm]!, count, SZ32);
  } else {
    const off = c.ea(i);
    const v = c.rd32(i.seg, off);
    const r = shiftCompute(c, i.op, v, count, SZ32);
    if (pKind !== P_NONE) c.wr32(i.seg, off, r);
  }
  commitFlags(c);
}

// ---- SHLD / SHRD: i.op = 0 SHLD, 1 SHRD; i.reg = source register ---------------------------------

function doubleShift(left: boolean, dest: number, src: number, count: number, sz: number): number {
  let res: number;
  if (sz === SZ32) {
    if (left) {
      res = (dest << count) | (src >>> (32 - count));
      pCF = (dest >>> (32 - count)) & 1;
    } else {
      res = (dest >>> count) | (src << (32 - count));
      pCF = (dest >>> (count - 1)) & 1;
    }
    res |= 0;
  } else if (left) {
    const t = ((dest << 16) | src) >>> 0;
    let r = count === 32 ? 0 : (t << count) >>> 0;
    if (count > 16) r = (r | (dest << (count - 16))) >>> 0;
    res = (r >>> 16) & 0xffff;
    pCF = (t >>> (32 - count)) & 1;
  } else {
    const t = ((src << 16) | dest) >>> 0;
    let r = t >>> count;
    if (count > 16) r = (r | (dest << (32 - count))) >>> 0;
    res = r & 0xffff;
    pCF = (t >>> (count - 1)) & 1;
  }
  pOp = (left ? K_SHL : K_SHR) | sz;
  pA = dest;
  pRes = res;
  pKind = P_LAZY;
  return res;
}

export function shxd16(c: Cpu, i: Insn): void {
  const count = countOf(c, i);
  if (count === 0) {
    // Still check the memory operand's address (it is read on hardware).
    if (i.rm < 0) c.rd16(i.seg, c.ea(i));
    return;
  }
  const src = c.r16[i.reg]!;
  if (i.rm >= 0) {
    c.r16[i.rm] = doubleShift(i.op === 0, c.r16[i.rm]!, src, count, SZ16);
  } else {
    const off = c.ea(i);
    const r = doubleShift(i.op === 0, c.rd16(i.seg, off), src, count, SZ16);
    c.wr16(i.seg, off, r);
  }
  commitFlags(c);
}
export function shxd32(c: Cpu, i: Insn): void {
  const count = countOf(c, i);
  if (count === 0) {
    if (i.rm < 0) c.rd32(i.seg, c.ea(i));
    return;
  }
  const src = c.r32[i.reg]!;
  if (i.rm >= 0) {
    c.r32[i.rm] = doubleShift(i.op === 0, c.r32[i.rm]!, src, count, SZ32);
  } else {
    const off = c.ea(i);
    const r = doubleShift(i.op === 0, c.rd32(i.seg, off), src, count, SZ32);
    c.wr32(i.seg, off, r);
  }
  commitFlags(c);
}
