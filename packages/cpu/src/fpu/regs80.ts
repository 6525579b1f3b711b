/**
 * Register-level glue for the BigInt-free exact path (exact.ts): the fast handlers (fast.ts)
 * call these when an operand is not held as a double — typically at precision control 64, where
 * products of doubles need more than 53 bits. Each function either does the whole instruction
 * step or returns false with nothing changed, so the generic handler can run instead.
 *
 * Registers in 80-bit form are read through Fpu.manW (32-bit words of the significand) and
 * double-held ones (Fpu.dstate) from their doubles' words, so no BigInt is created.
 */
import * as exactModule from './exact.ts';
import type { Fpu } from './fpu.ts';
import * as fpuModule from './fpu.ts';

// Imported values copied into module constants (under vitest every imported binding is a getter).
const { OPN, OPW, RES, RES_F, addX, divX, mulX, toIntX, toRealX } = exactModule;
const { SW_C1, SW_PE } = fpuModule;

const BIAS = 16383;

/**
 * Loads physical register p (8: the memory operand in dbl[8]) into operand slot k (0 = a,
 * 1 = b), its sign flipped if `neg`. False if it is empty or not a normal value or zero.
 */
function load(f: Fpu, p: number, k: number, neg: number): boolean {
  let s: number;
  let e: number;
  let hi: number;
  let lo: number;
  if (p === 8 || f.dstate[p] !== 0) {
    if (p !== 8 && ((f.empty >> p) & 1) !== 0) return false;
    const w = f.dblWords;
    const dhi = w[2 * p + 1]!;
    const dlo = w[2 * p]!;
    s = dhi >>> 31;
    const ex = (dhi >>> 20) & 0x7ff;
    if (ex === 0) {
      if ((dhi & 0xfffff) !== 0 || dlo !== 0) return false; // a denormal double
      e = 0;
      hi = 0;
      lo = 0;
    } else {
      if (ex === 0x7ff) return false;
      e = ex - 1023 + BIAS;
      hi = (0x80000000 | ((dhi & 0xfffff) << 11) | (dlo >>> 21)) >>> 0;
      lo = (dlo << 11) >>> 0;
    }
  } else {
    if (((f.empty >> p) & 1) !== 0) return false;
    const w = f.manW;
    e = f.exp[p]!;
    hi = w[2 * p + 1]!;
    lo = w[2 * p]!;
    s = f.sgn[p]!;
    if (e === 0) {
      if ((hi | lo) !== 0) return false; // denormal
    } else if (e === 0x7fff || hi < 0x80000000) return false; // infinity, NaN, unnormal
  }
  OPN[2 * k] = s ^ neg;
  OPN[2 * k + 1] = e;
  OPW[2 * k] = hi;
  OPW[2 * k + 1] = lo;
  return true;
}

/** Writes RES to physical register p (80-bit form) with C1 and PE from RES_F. */
function commit(f: Fpu, p: number): void {
  f.sgn[p] = RES[0]!;
  f.exp[p] = RES[1]!;
  const w = f.manW;
  w[2 * p + 1] = RES[2]!;
  w[2 * p] = RES[3]!;
  f.dstate[p] = 0;
  f.pend = 0;
  let sw = f.swBits & ~SW_C1;
  if (RES_F[0] !== 0) sw |= SW_C1;
  if (RES_F[1] !== 0) sw |= SW_PE; // as Fpu.signal: an unmasked PE still delivers the result
  f.swBits = sw;
}

/**
 * Physical register pd = pd kind ps for the arithmetic kinds of exec.ts (0 add, 1 mul, 4 sub,
 * 5 subr, 6 div, 7 divr); ps = 8 is a memory operand held in dbl[8]. Both must be in use.
 */
export function arithX(f: Fpu, kind: number, pd: number, ps: number): boolean {
  // SUBR and DIVR take the source as the first operand; SUB and SUBR negate the second.
  const rev = kind === 5 || kind === 7;
  if (!load(f, rev ? ps : pd, 0, 0) || !load(f, rev ? pd : ps, 1, kind === 4 || kind === 5 ? 1 : 0)) return false;
  const cw = f.cw;
  if (!(kind === 1 ? mulX(cw) : kind >= 6 ? divX(cw) : addX(cw))) return false;
  commit(f, pd);
  return true;
}

/**
 * Compares physical registers pa and pb (8: dbl[8]) if both are normal values or zeros:
 * -1, 0, 1 for a <, =, > b; 2 if not eligible (the generic compare handles it).
 */
export function compareX(f: Fpu, pa: number, pb: number): number {
  if (!load(f, pa, 0, 0) || !load(f, pb, 1, 0)) return 2;
  const ea = OPN[1]!;
  const eb = OPN[3]!;
  if (ea === 0 && eb === 0) return 0; // +0 = -0
  const as = OPN[0]!;
  if (as !== OPN[2]!) return as !== 0 ? -1 : 1;
  let mag: number;
  if (ea !== eb) mag = ea < eb ? -1 : 1; // a zero has exponent 0: below every normal
  else {
    const ah = OPW[0]!;
    const bh = OPW[2]!;
    const al = OPW[1]!;
    const bl = OPW[3]!;
    mag = ah !== bh ? (ah < bh ? -1 : 1) : al !== bl ? (al < bl ? -1 : 1) : 0;
  }
  return as !== 0 ? -mag : mag;
}

/** Copies physical register ps (any contents, both forms) to pd and marks pd in use. */
export function copyReg(f: Fpu, pd: number, ps: number): void {
  f.sgn[pd] = f.sgn[ps]!;
  f.exp[pd] = f.exp[ps]!;
  const w = f.manW;
  w[2 * pd] = w[2 * ps]!;
  w[2 * pd + 1] = w[2 * ps + 1]!;
  f.dbl[pd] = f.dbl[ps]!;
  f.dstate[pd] = f.dstate[ps]!;
  f.empty &= ~(1 << pd);
}

/** Swaps physical registers a and b (both forms, no BigInt). */
export function swapRegs(f: Fpu, a: number, b: number): void {
  const s = f.sgn[a]!;
  const e = f.exp[a]!;
  const w = f.manW;
  const lo = w[2 * a]!;
  const hi = w[2 * a + 1]!;
  const x = f.dbl[a]!;
  const ds = f.dstate[a]!;
  f.sgn[a] = f.sgn[b]!;
  f.exp[a] = f.exp[b]!;
  w[2 * a] = w[2 * b]!;
  w[2 * a + 1] = w[2 * b + 1]!;
  f.dbl[a] = f.dbl[b]!;
  f.dstate[a] = f.dstate[b]!;
  f.sgn[b] = s;
  f.exp[b] = e;
  w[2 * b] = lo;
  w[2 * b + 1] = hi;
  f.dbl[b] = x;
  f.dstate[b] = ds;
}

/**
 * FST m64real (or m32real if `single`) of physical register p when the rounded value is a normal
 * value of the format or a zero: its bits go to dblWords[16..17] (a single's to [16]); the caller
 * stores them and then calls storeFlags. False with nothing changed otherwise.
 */
export function toRealReg(f: Fpu, p: number, single: boolean): boolean {
  if (!load(f, p, 0, 0) || !toRealX(f.cw, single)) return false;
  const w = f.dblWords;
  const s = RES[0]! << 31;
  const e = RES[1]!;
  const h = RES[2]!;
  const l = RES[3]!;
  if (single) w[16] = e === 0 ? s : s | ((e - BIAS + 127) << 23) | ((h >>> 8) & 0x7fffff);
  else if (e === 0) {
    w[16] = 0;
    w[17] = s;
  } else {
    w[16] = (h << 21) | (l >>> 11);
    w[17] = s | ((e - BIAS + 1023) << 20) | ((h >>> 11) & 0xfffff);
  }
  return true;
}

/**
 * FIST/FISTP of physical register p to a `bits`-bit integer (16, 32, 64) when it fits: the
 * two's complement words go to dblWords[16] (low) and [17] (high); the caller stores them and
 * then calls storeFlags. False with nothing changed otherwise.
 */
export function toIntReg(f: Fpu, p: number, bits: number): boolean {
  if (!load(f, p, 0, 0) || !toIntX(f.cw, bits)) return false;
  const w = f.dblWords;
  const h = RES[2]!;
  const l = RES[3]!;
  if (RES[0] === 0 || (h | l) === 0) {
    w[16] = l;
    w[17] = h;
  } else if (l === 0) {
    w[16] = 0;
    w[17] = -h;
  } else {
    w[16] = -l;
    w[17] = ~h;
  }
  return true;
}

/** C1 and PE of the last toRealReg or toIntReg, set once the store has been done (a #PF restarts it). */
export function storeFlags(f: Fpu): void {
  f.pend = 0;
  let sw = f.swBits & ~SW_C1;
  if (RES_F[0] !== 0) sw |= SW_C1;
  if (RES_F[1] !== 0) sw |= SW_PE;
  f.swBits = sw;
}
