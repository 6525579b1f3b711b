/**
 * Integer arithmetic handlers: the ALU op family (00-3F, 80-83), TEST, INC/DEC, NOT/NEG,
 * MUL/IMUL/DIV/IDIV (SDM vol. 2 instruction pages). `i.op` holds the ALU operation.
 *
 * Naming: E = r/m operand, G = ModRM reg, I = immediate; b/w/d = 8/16/32 bits; R/M suffix = the
 * r/m operand is a register / memory. For "G, E" register forms the decoder swaps reg and rm so
 * the E,G handler serves both.
 */
import * as aluModule from '../alu.ts';
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { alu, aluFlags, aluResult, OP_CMP, setDecFlags, setIncFlags, setLogicFlags, setSubFlags } = aluModule;
const { EXC_DE } = constantsModule;
const { K_MUL, SZ16, SZ32, SZ8 } = flagsModule;

// ---- op E, G / op G, E / op E, I ---------------------------------------------------------------

export function aluEbGbR(c: Cpu, i: Insn): void {
  const r = alu(c, i.op, c.r8[i.rm]!, c.r8[i.reg]!, SZ8);
  if (i.op !== OP_CMP) c.r8[i.rm] = r;
}
export function aluEwGwR(c: Cpu, i: Insn): void {
  const r = alu(c, i.op, c.r16[i.rm]!, c.r16[i.reg]!, SZ16);
  if (i.op !== OP_CMP) c.r16[i.rm] = r;
}
export function aluEdGdR(c: Cpu, i: Insn): void {
  const r = alu(c, i.op, c.r32[i.rm]!, c.r32[i.reg]!, SZ32);
  if (i.op !== OP_CMP) c.r32[i.rm] = r;
}

export function aluEbGbM(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd8(i.seg, off);
  const b = c.r8[i.reg]!;
  const r = aluResult(c, i.op, a, b);
  if (i.op !== OP_CMP) c.wr8(i.seg, off, r);
  aluFlags(c, i.op, a, b, r, SZ8);
}
export function aluEwGwM(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd16(i.seg, off);
  const b = c.r16[i.reg]!;
  const r = aluResult(c, i.op, a, b);
  if (i.op !== OP_CMP) c.wr16(i.seg, off, r);
  aluFlags(c, i.op, a, b, r, SZ16);
}
export function aluEdGdM(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd32(i.seg, off);
  const b = c.r32[i.reg]!;
  const r = aluResult(c, i.op, a, b);
  if (i.op !== OP_CMP) c.wr32(i.seg, off, r);
  aluFlags(c, i.op, a, b, r, SZ32);
}

export function aluGbEbM(c: Cpu, i: Insn): void {
  const b = c.rd8(i.seg, c.ea(i));
  const r = alu(c, i.op, c.r8[i.reg]!, b, SZ8);
  if (i.op !== OP_CMP) c.r8[i.reg] = r;
}
export function aluGwEwM(c: Cpu, i: Insn): void {
  const b = c.rd16(i.seg, c.ea(i));
  const r = alu(c, i.op, c.r16[i.reg]!, b, SZ16);
  if (i.op !== OP_CMP) c.r16[i.reg] = r;
}
export function aluGdEdM(c: Cpu, i: Insn): void {
  const b = c.rd32(i.seg, c.ea(i));
  const r = alu(c, i.op, c.r32[i.reg]!, b, SZ32);
  if (i.op !== OP_CMP) c.r32[i.reg] = r;
}

export function aluEbIbR(c: Cpu, i: Insn): void {
  const r = alu(c, i.op, c.r8[i.rm]!, i.imm, SZ8);
  if (i.op !== OP_CMP) c.r8[i.rm] = r;
}
export function aluEwIwR(c: Cpu, i: Insn): void {
  const r = alu(c, i.op, c.r16[i.rm]!, i.imm, SZ16);
  if (i.op !== OP_CMP) c.r16[i.rm] = r;
}
export function aluEdIdR(c: Cpu, i: Insn): void {
  const r = alu(c, i.op, c.r32[i.rm]!, i.imm, SZ32);
  if (i.op !== OP_CMP) c.r32[i.rm] = r;
}
export function aluEbIbM(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd8(i.seg, off);
  const r = aluResult(c, i.op, a, i.imm);
  if (i.op !== OP_CMP) c.wr8(i.seg, off, r);
  aluFlags(c, i.op, a, i.imm, r, SZ8);
}
export function aluEwIwM(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd16(i.seg, off);
  const r = aluResult(c, i.op, a, i.imm);
  if (i.op !== OP_CMP) c.wr16(i.seg, off, r);
  aluFlags(c, i.op, a, i.imm, r, SZ16);
}
export function aluEdIdM(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd32(i.seg, off);
  const r = aluResult(c, i.op, a, i.imm);
  if (i.op !== OP_CMP) c.wr32(i.seg, off, r);
  aluFlags(c, i.op, a, i.imm, r, SZ32);
}

// Specialised hot forms (32-bit register ops that dominate compiled code).
export function cmpEdGdR(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  const b = c.r32[i.reg]!;
  setSubFlags(c, a, b, (a - b) | 0, SZ32);
}
export function cmpEdIdR(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  setSubFlags(c, a, i.imm, (a - i.imm) | 0, SZ32);
}
export function addEdIdR(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  const r = (a + i.imm) | 0;
  c.fOp = 4 | SZ32; // K_ADD
  c.fA = a;
  c.fB = i.imm;
  c.fRes = r;
  c.r32[i.rm] = r;
}
export function subEdIdR(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  const r = (a - i.imm) | 0;
  setSubFlags(c, a, i.imm, r, SZ32);
  c.r32[i.rm] = r;
}
export function xorEdGdR(c: Cpu, i: Insn): void {
  const r = c.r32[i.rm]! ^ c.r32[i.reg]!;
  setLogicFlags(c, r, SZ32);
  c.r32[i.rm] = r;
}

// ---- TEST ---------------------------------------------------------------------------------------

export function testEbGbR(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.r8[i.rm]! & c.r8[i.reg]!, SZ8);
}
export function testEwGwR(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.r16[i.rm]! & c.r16[i.reg]!, SZ16);
}
export function testEdGdR(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.r32[i.rm]! & c.r32[i.reg]!, SZ32);
}
export function testEbGbM(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.rd8(i.seg, c.ea(i)) & c.r8[i.reg]!, SZ8);
}
export function testEwGwM(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.rd16(i.seg, c.ea(i)) & c.r16[i.reg]!, SZ16);
}
export function testEdGdM(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.rd32(i.seg, c.ea(i)) & c.r32[i.reg]!, SZ32);
}
export function testEbIbR(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.r8[i.rm]! & i.imm, SZ8);
}
export function testEwIwR(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.r16[i.rm]! & i.imm, SZ16);
}
export function testEdIdR(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.r32[i.rm]! & i.imm, SZ32);
}
export function testEbIbM(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.rd8(i.seg, c.ea(i)) & i.imm, SZ8);
}
export function testEwIwM(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.rd16(i.seg, c.ea(i)) & i.imm, SZ16);
}
export function testEdIdM(c: Cpu, i: Insn): void {
  setLogicFlags(c, c.rd32(i.seg, c.ea(i)) & i.imm, SZ32);
}

// ---- INC / DEC ------------------------------------------------------------------------------------

export function incR16(c: Cpu, i: Insn): void {
  const a = c.r16[i.rm]!;
  const r = (a + 1) & 0xffff;
  setIncFlags(c, a, r, SZ16);
  c.r16[i.rm] = r;
}
export function incR32(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  const r = (a + 1) | 0;
  setIncFlags(c, a, r, SZ32);
  c.r32[i.rm] = r;
}
export function decR16(c: Cpu, i: Insn): void {
  const a = c.r16[i.rm]!;
  const r = (a - 1) & 0xffff;
  setDecFlags(c, a, r, SZ16);
  c.r16[i.rm] = r;
}
export function decR32(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  const r = (a - 1) | 0;
  setDecFlags(c, a, r, SZ32);
  c.r32[i.rm] = r;
}
export function incR8(c: Cpu, i: Insn): void {
  const a = c.r8[i.rm]!;
  const r = (a + 1) & 0xff;
  setIncFlags(c, a, r, SZ8);
  c.r8[i.rm] = r;
}
export function decR8(c: Cpu, i: Insn): void {
  const a = c.r8[i.rm]!;
  const r = (a - 1) & 0xff;
  setDecFlags(c, a, r, SZ8);
  c.r8[i.rm] = r;
}
/** INC/DEC r/m in memory; i.op = 0 INC, 1 DEC. */
export function incDecM8(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd8(i.seg, off);
  const r = (i.op === 0 ? a + 1 : a - 1) & 0xff;
  c.wr8(i.seg, off, r);
  if (i.op === 0) setIncFlags(c, a, r, SZ8);
  else setDecFlags(c, a, r, SZ8);
}
export function incDecM16(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd16(i.seg, off);
  const r = (i.op === 0 ? a + 1 : a - 1) & 0xffff;
  c.wr16(i.seg, off, r);
  if (i.op === 0) setIncFlags(c, a, r, SZ16);
  else setDecFlags(c, a, r, SZ16);
}
export function incDecM32(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd32(i.seg, off);
  const r = (i.op === 0 ? a + 1 : a - 1) | 0;
  c.wr32(i.seg, off, r);
  if (i.op === 0) setIncFlags(c, a, r, SZ32);
  else setDecFlags(c, a, r, SZ32);
}

// ---- NOT / NEG (group 3 /2 /3) -----------------------------------------------------------------

export function notR8(c: Cpu, i: Insn): void {
  c.r8[i.rm] = ~c.r8[i.rm]!;
}
export function notR16(c: Cpu, i: Insn): void {
  c.r16[i.rm] = ~c.r16[i.rm]!;
}
export function notR32(c: Cpu, i: Insn): void {
  c.r32[i.rm] = ~c.r32[i.rm]!;
}
export function notM8(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  c.wr8(i.seg, off, ~c.rd8(i.seg, off));
}
export function notM16(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  c.wr16(i.seg, off, ~c.rd16(i.seg, off));
}
export function notM32(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  c.wr32(i.seg, off, ~c.rd32(i.seg, off));
}
export function negR8(c: Cpu, i: Insn): void {
  const a = c.r8[i.rm]!;
  const r = -a & 0xff;
  setSubFlags(c, 0, a, r, SZ8);
  c.r8[i.rm] = r;
}
export function negR16(c: Cpu, i: Insn): void {
  const a = c.r16[i.rm]!;
  const r = -a & 0xffff;
  setSubFlags(c, 0, a, r, SZ16);
  c.r16[i.rm] = r;
}
export function negR32(c: Cpu, i: Insn): void {
  const a = c.r32[i.rm]!;
  const r = -a | 0;
  setSubFlags(c, 0, a, r, SZ32);
  c.r32[i.rm] = r;
}
export function negM8(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd8(i.seg, off);
  const r = -a & 0xff;
  c.wr8(i.seg, off, r);
  setSubFlags(c, 0, a, r, SZ8);
}
export function negM16(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd16(i.seg, off);
  const r = -a & 0xffff;
  c.wr16(i.seg, off, r);
  setSubFlags(c, 0, a, r, SZ16);
}
export function negM32(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const a = c.rd32(i.seg, off);
  const r = -a | 0;
  c.wr32(i.seg, off, r);
  setSubFlags(c, 0, a, r, SZ32);
}

// ---- MUL / IMUL / DIV / IDIV (group 3 /4../7) --------------------------------------------------

function setMulFlags(c: Cpu, lo: number, overflow: boolean, sz: number): void {
  c.fCin = overflow ? 1 : 0;
  c.fOp = K_MUL | sz;
  c.fA = 0;
  c.fB = 0;
  c.fRes = lo;
}

/** Source operand of a group-3 instruction (register or memory) by size. */
function src8(c: Cpu, i: Insn): number {
  return i.rm >= 0 ? c.r8[i.rm]! : c.rd8(i.seg, c.ea(i));
}
function src16(c: Cpu, i: Insn): number {
  return i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
}
function src32(c: Cpu, i: Insn): number {
  return i.rm >= 0 ? c.r32[i.rm]! : c.rd32(i.seg, c.ea(i));
}

/** Unsigned 32x32 -> 64 multiply; the high half is left in mulHi. */
let mulHi = 0;
function mulU32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mulHi = (ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
  return ((mid << 16) | (ll & 0xffff)) | 0;
}

export function mul8(c: Cpu, i: Insn): void {
  const r = c.r8[0]! * src8(c, i);
  c.r16[0] = r;
  setMulFlags(c, r & 0xff, r > 0xff, SZ8);
}
export function mul16(c: Cpu, i: Insn): void {
  const r = c.r16[0]! * src16(c, i);
  c.r16[0] = r;
  c.r16[4] = r >>> 16;
  setMulFlags(c, r & 0xffff, r > 0xffff, SZ16);
}
export function mul32(c: Cpu, i: Insn): void {
  const b = src32(c, i);
  const lo = mulU32(c.r32[0]!, b);
  c.r32[0] = lo;
  c.r32[2] = mulHi;
  setMulFlags(c, lo, mulHi !== 0, SZ32);
}
export function imul8(c: Cpu, i: Insn): void {
  const r = ((c.r8[0]! << 24) >> 24) * ((src8(c, i) << 24) >> 24);
  c.r16[0] = r;
  setMulFlags(c, r & 0xff, r !== (r << 24) >> 24, SZ8);
}
export function imul16(c: Cpu, i: Insn): void {
  const r = ((c.r16[0]! << 16) >> 16) * ((src16(c, i) << 16) >> 16);
  c.r16[0] = r;
  c.r16[4] = r >> 16;
  setMulFlags(c, r & 0xffff, r !== (r << 16) >> 16, SZ16);
}
export function imul32(c: Cpu, i: Insn): void {
  const a = c.r32[0]!;
  const b = src32(c, i);
  const lo = mulU32(a, b);
  // Signed high half = unsigned high half minus the other operand for each negative one.
  let hi = mulHi;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  c.r32[0] = lo;
  c.r32[2] = hi;
  setMulFlags(c, lo, hi !== lo >> 31, SZ32);
}

/** IMUL r, r/m (, imm): truncated product, CF = OF = product did not fit. */
export function imulGwEw(c: Cpu, i: Insn): void {
  const b = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  const a = i.imm2 !== 0 ? i.imm : c.r16[i.reg]!;
  const r = ((a << 16) >> 16) * ((b << 16) >> 16);
  c.r16[i.reg] = r;
  setMulFlags(c, r & 0xffff, r !== (r << 16) >> 16, SZ16);
}
export function imulGdEd(c: Cpu, i: Insn): void {
  const b = i.rm >= 0 ? c.r32[i.rm]! : c.rd32(i.seg, c.ea(i));
  const a = i.imm2 !== 0 ? i.imm : c.r32[i.reg]!;
  const lo = Math.imul(a, b);
  // The exact product is representable when it fits 53 bits; anything larger overflowed anyway.
  const exact = a * b;
  c.r32[i.reg] = lo;
  setMulFlags(c, lo, exact !== lo, SZ32);
}

function divideError(c: Cpu): never {
  return c.raise(EXC_DE);
}

export function div8(c: Cpu, i: Insn): void {
  const d = src8(c, i);
  if (d === 0) divideError(c);
  const n = c.r16[0]!;
  const q = Math.floor(n / d);
  if (q > 0xff) divideError(c);
  c.r8[0] = q;
  c.r8[1] = n - q * d;
}
export function div16(c: Cpu, i: Insn): void {
  const d = src16(c, i);
  if (d === 0) divideError(c);
  const n = ((c.r16[4]! << 16) | c.r16[0]!) >>> 0;
  const q = Math.floor(n / d);
  if (q > 0xffff) divideError(c);
  c.r16[0] = q;
  c.r16[4] = n - q * d;
}

let divRem = 0;
/** Unsigned (hi:lo) / d for hi < d (so the quotient fits 32 bits); remainder in divRem. */
function divU64(hi: number, lo: number, d: number): number {
  // Two steps of 16 bits keep every intermediate below 2^48, exact in a double.
  const n1 = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(n1 / d);
  const r1 = n1 - q1 * d;
  const n0 = r1 * 65536 + (lo & 0xffff);
  const q0 = Math.floor(n0 / d);
  divRem = n0 - q0 * d;
  return q1 * 65536 + q0;
}

export function div32(c: Cpu, i: Insn): void {
  const d = src32(c, i) >>> 0;
  if (d === 0) divideError(c);
  const hi = c.r32[2]! >>> 0;
  if (hi >= d) divideError(c);
  const q = divU64(hi, c.r32[0]! >>> 0, d);
  c.r32[0] = q;
  c.r32[2] = divRem;
}
export function idiv8(c: Cpu, i: Insn): void {
  const d = (src8(c, i) << 24) >> 24;
  if (d === 0) divideError(c);
  const n = (c.r16[0]! << 16) >> 16;
  const q = Math.trunc(n / d);
  if (q > 127 || q < -128) divideError(c);
  c.r8[0] = q;
  c.r8[1] = n - q * d;
}
export function idiv16(c: Cpu, i: Insn): void {
  const d = (src16(c, i) << 16) >> 16;
  if (d === 0) divideError(c);
  const n = (c.r16[4]! << 16) | c.r16[0]!;
  const q = Math.trunc(n / d);
  if (q > 32767 || q < -32768) divideError(c);
  c.r16[0] = q;
  c.r16[4] = n - q * d;
}
export function idiv32(c: Cpu, i: Insn): void {
  const ds = src32(c, i);
  if (ds === 0) divideError(c);
  let hi = c.r32[2]!;
  let lo = c.r32[0]!;
  const negN = hi < 0;
  if (negN) {
    // 64-bit two's complement negation of hi:lo.
    lo = -lo | 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
  }
  const d = Math.abs(ds);
  if (hi >>> 0 >= d) divideError(c);
  const q = divU64(hi >>> 0, lo >>> 0, d);
  const negQ = negN !== ds < 0;
  if (negQ ? q > 0x80000000 : q > 0x7fffffff) divideError(c);
  c.r32[0] = negQ ? -q : q;
  c.r32[2] = negN ? -divRem : divRem;
}
