/**
 * Bit instructions (BT/BTS/BTR/BTC, BSF/BSR) and the i486 atomics XADD/CMPXCHG plus the
 * Pentium CMPXCHG8B (SDM vol. 2). Memory operands are read, the result written, then registers
 * and flags committed.
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { CF, ZF } = constantsModule;
const { K_ADD, K_SUB, materializeFlags, SZ16, SZ32, SZ8 } = flagsModule;

function setCF(c: Cpu, bit: number): void {
  materializeFlags(c);
  c.flags = (c.flags & ~CF) | bit;
}

function setZF(c: Cpu, on: boolean): void {
  materializeFlags(c);
  c.flags = on ? c.flags | ZF : c.flags & ~ZF;
}

/** BT family (i.op: 0 BT, 1 BTS, 2 BTR, 3 BTC); bit offset from i.imm, or register i.reg if i.imm < 0. */
function bitOp(op: number, v: number, mask: number): number {
  switch (op) {
    case 1:
      return v | mask;
    case 2:
      return v & ~mask;
    case 3:
      return v ^ mask;
    default:
      return v;
  }
}

export function bt16(c: Cpu, i: Insn): void {
  if (i.rm >= 0) {
    const bit = (i.imm >= 0 ? i.imm : c.r16[i.reg]!) & 15;
    const v = c.r16[i.rm]!;
    if (i.op !== 0) c.r16[i.rm] = bitOp(i.op, v, 1 << bit);
    setCF(c, (v >>> bit) & 1);
    return;
  }
  let off = c.ea(i);
  let bit: number;
  if (i.imm >= 0) bit = i.imm & 15;
  else {
    // A register bit offset is signed and may address outside the operand (SDM BT).
    const n = (c.r16[i.reg]! << 16) >> 16;
    off = i.a32 ? (off + 2 * (n >> 4)) | 0 : (off + 2 * (n >> 4)) & 0xffff;
    bit = n & 15;
  }
  const v = c.rd16(i.seg, off);
  if (i.op !== 0) c.wr16(i.seg, off, bitOp(i.op, v, 1 << bit));
  setCF(c, (v >>> bit) & 1);
}

export function bt32(c: Cpu, i: Insn): void {
  if (i.rm >= 0) {
    const bit = (i.imm >= 0 ? i.imm : c.r32[i.reg]!) & 31;
    const v = c.r32[i.rm]!;
    if (i.op !== 0) c.r32[i.rm] = bitOp(i.op, v, 1 << bit);
    setCF(c, (v >>> bit) & 1);
    return;
  }
  let off = c.ea(i);
  let bit: number;
  if (i.imm >= 0) bit = i.imm & 31;
  else {
    const n = c.r32[i.reg]!;
    off = i.a32 ? (off + 4 * (n >> 5)) | 0 : (off + 4 * (n >> 5)) & 0xffff;
    bit = n & 31;
  }
  const v = c.rd32(i.seg, off);
  if (i.op !== 0) c.wr32(i.seg, off, bitOp(i.op, v, 1 << bit));
  setCF(c, (v >>> bit) & 1);
}

/** BSF (i.op 0) / BSR (i.op 1). A zero source sets ZF and leaves the destination unchanged. */
export function bsf16(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  if (v === 0) return setZF(c, true);
  c.r16[i.reg] = i.op === 0 ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
  setZF(c, false);
}
export function bsf32(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r32[i.rm]! : c.rd32(i.seg, c.ea(i));
  if (v === 0) return setZF(c, true);
  c.r32[i.reg] = i.op === 0 ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
  setZF(c, false);
}

// ---- XADD -------------------------------------------------------------------------------------------

function addFlags(c: Cpu, a: number, b: number, r: number, sz: number): void {
  c.fOp = K_ADD | sz;
  c.fA = a;
  c.fB = b;
  c.fRes = r;
}

export function xadd8(c: Cpu, i: Insn): void {
  const src = c.r8[i.reg]!;
  if (i.rm >= 0) {
    const d = c.r8[i.rm]!;
    const r = (d + src) & 0xff;
    c.r8[i.reg] = d;
    c.r8[i.rm] = r;
    addFlags(c, d, src, r, SZ8);
    return;
  }
  const off = c.ea(i);
  const d = c.rd8(i.seg, off);
  const r = (d + src) & 0xff;
  c.wr8(i.seg, off, r);
  c.r8[i.reg] = d;
  addFlags(c, d, src, r, SZ8);
}
export function xadd16(c: Cpu, i: Insn): void {
  const src = c.r16[i.reg]!;
  if (i.rm >= 0) {
    const d = c.r16[i.rm]!;
    const r = (d + src) & 0xffff;
    c.r16[i.reg] = d;
    c.r16[i.rm] = r;
    addFlags(c, d, src, r, SZ16);
    return;
  }
  const off = c.ea(i);
  const d = c.rd16(i.seg, off);
  const r = (d + src) & 0xffff;
  c.wr16(i.seg, off, r);
  c.r16[i.reg] = d;
  addFlags(c, d, src, r, SZ16);
}
export function xadd32(c: Cpu, i: Insn): void {
  const src = c.r32[i.reg]!;
  if (i.rm >= 0) {
    const d = c.r32[i.rm]!;
    const r = (d + src) | 0;
    c.r32[i.reg] = d;
    c.r32[i.rm] = r;
    addFlags(c, d, src, r, SZ32);
    return;
  }
  const off = c.ea(i);
  const d = c.rd32(i.seg, off);
  const r = (d + src) | 0;
  c.wr32(i.seg, off, r);
  c.r32[i.reg] = d;
  addFlags(c, d, src, r, SZ32);
}

// ---- CMPXCHG (the destination is always written back, as on the 486 and later) -----------------------

function cmpFlags(c: Cpu, a: number, b: number, sz: number): void {
  c.fOp = K_SUB | sz;
  c.fA = a;
  c.fB = b;
  c.fRes = (a - b) | 0;
}

export function cmpxchg8(c: Cpu, i: Insn): void {
  const acc = c.r8[0]!;
  if (i.rm >= 0) {
    const d = c.r8[i.rm]!;
    if (acc === d) c.r8[i.rm] = c.r8[i.reg]!;
    else c.r8[0] = d;
    cmpFlags(c, acc, d, SZ8);
    return;
  }
  const off = c.ea(i);
  const d = c.rd8(i.seg, off);
  c.wr8(i.seg, off, acc === d ? c.r8[i.reg]! : d);
  if (acc !== d) c.r8[0] = d;
  cmpFlags(c, acc, d, SZ8);
}
export function cmpxchg16(c: Cpu, i: Insn): void {
  const acc = c.r16[0]!;
  if (i.rm >= 0) {
    const d = c.r16[i.rm]!;
    if (acc === d) c.r16[i.rm] = c.r16[i.reg]!;
    else c.r16[0] = d;
    cmpFlags(c, acc, d, SZ16);
    return;
  }
  const off = c.ea(i);
  const d = c.rd16(i.seg, off);
  c.wr16(i.seg, off, acc === d ? c.r16[i.reg]! : d);
  if (acc !== d) c.r16[0] = d;
  cmpFlags(c, acc, d, SZ16);
}
export function cmpxchg32(c: Cpu, i: Insn): void {
  const acc = c.r32[0]!;
  if (i.rm >= 0) {
    const d = c.r32[i.rm]!;
    if (acc === d) c.r32[i.rm] = c.r32[i.reg]!;
    else c.r32[0] = d;
    cmpFlags(c, acc, d, SZ32);
    return;
  }
  const off = c.ea(i);
  const d = c.rd32(i.seg, off);
  c.wr32(i.seg, off, acc === d ? c.r32[i.reg]! : d);
  if (acc !== d) c.r32[0] = d;
  cmpFlags(c, acc, d, SZ32);
}

/** CMPXCHG8B m64: ZF = (EDX:EAX == m64); then m64 = ECX:EBX, else EDX:EAX = m64. */
export function cmpxchg8b(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const hiOff = i.a32 ? (off + 4) | 0 : (off + 4) & 0xffff;
  const lo = c.rd32(i.seg, off);
  const hi = c.rd32(i.seg, hiOff);
  const equal = lo === c.r32[0] && hi === c.r32[2];
  c.probeWrite(i.seg, off, 4);
  c.probeWrite(i.seg, hiOff, 4);
  if (equal) {
    c.wr32(i.seg, off, c.r32[3]!);
    c.wr32(i.seg, hiOff, c.r32[1]!);
  } else {
    c.wr32(i.seg, off, lo);
    c.wr32(i.seg, hiOff, hi);
    c.r32[0] = lo;
    c.r32[2] = hi;
  }
  setZF(c, equal);
}
