/**
 * Operations shared by the x87 handlers: the arithmetic kinds (FADD/FMUL/FSUB(R)/FDIV(R)) with
 * their double fast path, m32/m64 real operand reads, the FCOM/FUCOM/FCOMI compare core, and
 * pushing a result onto the register stack.
 */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import * as constantsModule from '../constants.ts';
import * as flagsModule from '../flags.ts';
import { EXP_MAX, Fpu, K_DENORMAL, K_INVALID, K_QNAN, K_SNAN, SW_C0, SW_C1, SW_C2, SW_C3, SW_DE, SW_IE, classify } from './fpu.ts';
import { off } from './entry.ts';
import { arith } from './exact-arith.ts';

const { CF, PF, ZF, OF, SF, AF } = constantsModule;
const { materializeFlags } = flagsModule;

const MSB = 0x8000000000000000n;

// ---- shared operations ----------------------------------------------------------------------

const OPK_ADD = 0;
const OPK_MUL = 1;
const OPK_SUB = 4; // dest - src
const OPK_SUBR = 5; // src - dest
const OPK_DIV = 6; // dest / src
// 7: OPK_DIVR, src / dest (the default case)

/**
 * The fast path of arithTo: ST(d) = ST(d) kind b for a double b, when ST(d) is a double too and
 * the result stays in the window (Fpu.fastOp). Returns false with nothing changed otherwise.
 */
export function arithFast(f: Fpu, kind: number, d: number, b: number): boolean {
  const a = f.fastD(d);
  if (a !== a) return false; // NaN: not eligible
  // One fastOp call site (small enough to be inlined into the handlers).
  let op = 0;
  let x = a;
  let y = b;
  if (kind === OPK_MUL) op = 1;
  else if (kind === OPK_SUB) y = -b;
  else if (kind === OPK_SUBR) {
    x = b;
    y = -a;
  } else if (kind === OPK_DIV) op = 2;
  else if (kind !== OPK_ADD) {
    // OPK_DIVR
    op = 2;
    x = b;
    y = a;
  }
  if (!f.fastOp(op, x, y)) return false;
  f.setStD(d, f.fx[2]!);
  return true;
}

/**
 * An m32real/m64real operand as a double if it is normal (and, for m64, inside the window) or a
 * signed zero; NaN for denormals, infinities and NaNs (the exact path handles their flags).
 */
export function memDouble(c: Cpu, i: Insn, ea: number, m64: boolean): number {
  if (!m64) {
    const bits = c.rd32(i.seg, ea);
    const ex = (bits >>> 23) & 0xff;
    if (ex === 0xff || (ex === 0 && (bits & 0x7fffff) !== 0)) return NaN;
    U32V[0] = bits;
    return F32V[0]!;
  }
  const lo = c.rd32(i.seg, ea);
  const hi = c.rd32(i.seg, off(i, ea, 4));
  const ex = (hi >>> 20) & 0x7ff;
  if (ex < 1023 - 959 || ex > 1023 + 959) {
    if (ex !== 0 || lo !== 0 || (hi & 0xfffff) !== 0) return NaN;
  }
  D32V[0] = lo;
  D32V[1] = hi;
  return F64V[0]!;
}
export const F32V = new Float32Array(1);
export const U32V = new Uint32Array(F32V.buffer);
export const F64V = new Float64Array(1);
export const D32V = new Uint32Array(F64V.buffer);

/** ST(d) = ST(d) op (s, e, m) for the arithmetic kinds above. */
export function arithTo(f: Fpu, kind: number, d: number, s: number, e: number, m: bigint): boolean {
  if (f.isEmpty(d)) {
    if (!f.underflow()) return false;
    f.setStIndefinite(d);
    return true;
  }
  const p = f.phys(d);
  const ds = f.sgn[p]!;
  const de = f.exp[p]!;
  const dm = f.man[p]!;
  let ok: boolean;
  switch (kind) {
    case OPK_ADD:
      ok = arith(f, 0, ds, de, dm, s, e, m);
      break;
    case OPK_MUL:
      ok = arith(f, 1, ds, de, dm, s, e, m);
      break;
    case OPK_SUB:
      ok = arith(f, 0, ds, de, dm, s ^ (isNan(e, m) ? 0 : 1), e, m);
      break;
    case OPK_SUBR:
      ok = arith(f, 0, s, e, m, ds ^ (isNan(de, dm) ? 0 : 1), de, dm);
      break;
    case OPK_DIV:
      ok = arith(f, 2, ds, de, dm, s, e, m);
      break;
    default: // OPK_DIVR
      ok = arith(f, 2, s, e, m, ds, de, dm);
      break;
  }
  if (ok) f.setStRes(d);
  return ok;
}

function isNan(e: number, m: bigint): boolean {
  return e === EXP_MAX && (m & ~MSB) !== 0n;
}

/** FCOM/FUCOM family core: sets C3/C2/C0 (or EFLAGS for FCOMI). Returns false if IE is unmasked. */
export function compare(c: Cpu, f: Fpu, aEmpty: boolean, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint, quiet: boolean, eflags: boolean): boolean {
  let r: number; // 0 >, 1 <, 2 =, 3 unordered
  let ok = true;
  if (aEmpty) {
    if (!f.underflow()) return false;
    r = 3;
  } else {
    const ka = classify(ae, am);
    const kb = classify(be, bm);
    // An unmasked IE or DE still sets the condition codes but suppresses the pop (as measured).
    if (ka === K_INVALID || kb === K_INVALID || ka === K_SNAN || kb === K_SNAN || ka === K_QNAN || kb === K_QNAN) {
      const signals = !quiet || ka === K_INVALID || kb === K_INVALID || ka === K_SNAN || kb === K_SNAN;
      if (signals && !f.signal(SW_IE)) ok = false;
      r = 3;
    } else {
      if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) ok = false;
      const cmp = Fpu.compare(as, ae, am, bs, be, bm);
      r = cmp > 0 ? 0 : cmp < 0 ? 1 : 2;
    }
  }
  if (eflags) {
    materializeFlags(c);
    let fl = c.flags & ~(ZF | PF | CF | OF | SF | AF);
    if (r === 1) fl |= CF;
    else if (r === 2) fl |= ZF;
    else if (r === 3) fl |= ZF | PF | CF;
    c.flags = fl;
    f.sw &= ~SW_C1;
  } else {
    f.setCC(r === 0 ? 0 : r === 1 ? SW_C0 : r === 2 ? SW_C3 : SW_C3 | SW_C2 | SW_C0);
  }
  return ok;
}

/** Compares ST(0) with ST(n). */
export function compareSt(c: Cpu, f: Fpu, n: number, quiet: boolean, eflags: boolean): boolean {
  const a = f.phys(0);
  const b = f.phys(n);
  const empty = f.isEmpty(0) || f.isEmpty(n);
  return compare(c, f, empty, f.sgn[a]!, f.exp[a]!, f.man[a]!, f.sgn[b]!, f.exp[b]!, f.man[b]!, quiet, eflags);
}

/**
 * Pushes the value in f.res (after the caller's checks). Every load leaves C1 = 0 unless the
 * stack overflows (SDM vol. 2 "FLD", "FILD"; measured for FLD m32/m64 and FILD with C1 set).
 */
export function pushRes(f: Fpu): void {
  const s = f.resS;
  const e = f.resE;
  const m = f.resM;
  f.sw &= ~SW_C1;
  if (f.pushCheck()) f.setSt(0, s, e, m);
}

/** Pushes the double x (a normal double inside the window or a zero), C1 as for pushRes. */
export function pushDouble(f: Fpu, x: number): void {
  f.sw &= ~SW_C1;
  if (f.pushCheck()) f.setStD(0, x);
}

export function st0Empty(f: Fpu): boolean {
  if (!f.isEmpty(0)) return false;
  if (f.underflow()) f.setStIndefinite(0);
  return true;
}
