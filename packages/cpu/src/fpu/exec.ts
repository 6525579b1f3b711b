/**
 * x87 instruction execution (Intel SDM vol. 2 "FADD" ... "FYL2XP1", opcode map appendix A.5).
 *
 * `fpuMem` and `fpuReg` handle every D8-DF instruction, with `i.op` = (escape & 7) << 3 |
 * ModRM.reg, `i.rm` = ModRM.rm for register forms, and `i.imm` = the 11-bit FOP value. They
 * check CR0 (#NM) and pending exceptions (#MF), record the last instruction/data pointers, and
 * dispatch on `i.op`. The decoder gives the common forms a handler of their own (fast.ts), which
 * does the double-held common case and passes everything else to these two.
 *
 * Order inside each instruction follows the restart rule (DESIGN §2.2): memory is read, and
 * destination memory probed, before any FPU state changes, so a #PF re-runs it cleanly.
 */
import type { Cpu } from '../cpu.ts';
import * as constantsModule from '../constants.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';
import {
  EXC_MASK, EXP_MAX, Fpu, K_DENORMAL, K_INF, K_INVALID, K_NORMAL, K_QNAN, K_SNAN, K_ZERO, SW_B, SW_C0, SW_C1,
  SW_C2, SW_C3, SW_DE, SW_ES, SW_IE, SW_PE, SW_ZE, classify,
} from './fpu.ts';
import { bitLen, rInexact, roundFloat, rQ, rSig, rUp } from './round.ts';
import { envSize, loadEnv, restoreRegs, saveRegs, storeEnv } from './env.ts';

const { CR0_EM, CR0_MP, CR0_NE, CR0_TS, EXC_MF, EXC_NM, CS, CF, PF, ZF, OF, SF, AF } = constantsModule;
const { materializeFlags, testCC } = flagsModule;

const BIAS = 16383;
const MSB = 0x8000000000000000n;

// ---- entry checks ---------------------------------------------------------------------------

/**
 * #NM (SDM vol. 3A §2.5 table 2-2: EM or TS for escapes; MP and TS for WAIT) and the deferred
 * #MF of a pending unmasked exception at a waiting instruction (SDM vol. 1 §8.6; with
 * CR0.NE = 0 the exception was reported on FERR#/IRQ 13 when it happened and we go on, as a
 * PC whose chipset asserts IGNNE# does).
 */
function enter(c: Cpu, waiting: boolean): Fpu {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) c.raise(EXC_NM);
  const f = c.fpu!;
  if (waiting && (f.sw & SW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) c.raise(EXC_MF);
  return f;
}

/** Records FCS:FIP and FOP (SDM vol. 1 §8.1.8-8.1.9) for a non-control instruction. */
export function noteInsn(c: Cpu, f: Fpu, i: Insn): void {
  f.fcs = c.segSel[CS]!;
  f.fip = (c.eip - i.len) & (c.code32 ? -1 : 0xffff);
  f.fop = i.imm;
}

/** After an instruction: raise ES/B (and FERR#) if it left an unmasked exception flag. */
export function finish(c: Cpu, f: Fpu): void {
  // swBits: only exception bits are looked at, which a pending C1 (Fpu.pend) does not affect.
  const sw = f.swBits;
  if ((sw & ~f.cw & EXC_MASK) !== 0 && (sw & SW_ES) === 0) {
    f.sw |= SW_ES | SW_B;
    f.setFerr(true);
    if ((c.cr0 & CR0_NE) === 0) c.requestInterruptCheck();
  }
}

/** WAIT/FWAIT (9B). */
export function fwait(c: Cpu, _i: Insn): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(EXC_NM);
  const f = c.fpu!;
  if ((f.sw & SW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) c.raise(EXC_MF);
}

// ---- memory operand access ------------------------------------------------------------------

function off(i: Insn, ea: number, k: number): number {
  return i.a32 ? (ea + k) | 0 : (ea + k) & 0xffff;
}

function rd64(c: Cpu, i: Insn, ea: number): bigint {
  const lo = c.rd32(i.seg, ea) >>> 0;
  const hi = c.rd32(i.seg, off(i, ea, 4)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function wr64(c: Cpu, i: Insn, ea: number, v: bigint): void {
  c.wr32(i.seg, ea, Number(v & 0xffffffffn) | 0);
  c.wr32(i.seg, off(i, ea, 4), Number((v >> 32n) & 0xffffffffn) | 0);
}

/** Reads the first and last byte of an area so a fault happens before anything changes. */
function touch(c: Cpu, i: Insn, ea: number, size: number): void {
  c.rd8(i.seg, ea);
  c.rd8(i.seg, off(i, ea, size - 1));
}

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
const F32V = new Float32Array(1);
const U32V = new Uint32Array(F32V.buffer);
const F64V = new Float64Array(1);
const D32V = new Uint32Array(F64V.buffer);

/** ST(d) = ST(d) op (s, e, m) for the arithmetic kinds above. */
function arithTo(f: Fpu, kind: number, d: number, s: number, e: number, m: bigint): boolean {
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
      ok = f.arith(0, ds, de, dm, s, e, m);
      break;
    case OPK_MUL:
      ok = f.arith(1, ds, de, dm, s, e, m);
      break;
    case OPK_SUB:
      ok = f.arith(0, ds, de, dm, s ^ (isNan(e, m) ? 0 : 1), e, m);
      break;
    case OPK_SUBR:
      ok = f.arith(0, s, e, m, ds ^ (isNan(de, dm) ? 0 : 1), de, dm);
      break;
    case OPK_DIV:
      ok = f.arith(2, ds, de, dm, s, e, m);
      break;
    default: // OPK_DIVR
      ok = f.arith(2, s, e, m, ds, de, dm);
      break;
  }
  if (ok) f.setStRes(d);
  return ok;
}

function isNan(e: number, m: bigint): boolean {
  return e === EXP_MAX && (m & ~MSB) !== 0n;
}

/** FCOM/FUCOM family core: sets C3/C2/C0 (or EFLAGS for FCOMI). Returns false if IE is unmasked. */
function compare(c: Cpu, f: Fpu, aEmpty: boolean, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint, quiet: boolean, eflags: boolean): boolean {
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
function compareSt(c: Cpu, f: Fpu, n: number, quiet: boolean, eflags: boolean): boolean {
  const a = f.phys(0);
  const b = f.phys(n);
  const empty = f.isEmpty(0) || f.isEmpty(n);
  return compare(c, f, empty, f.sgn[a]!, f.exp[a]!, f.man[a]!, f.sgn[b]!, f.exp[b]!, f.man[b]!, quiet, eflags);
}

/**
 * Pushes the value in f.res (after the caller's checks). Every load leaves C1 = 0 unless the
 * stack overflows (SDM vol. 2 "FLD", "FILD"; measured for FLD m32/m64 and FILD with C1 set).
 */
function pushRes(f: Fpu): void {
  const s = f.resS;
  const e = f.resE;
  const m = f.resM;
  f.sw &= ~SW_C1;
  if (f.pushCheck()) f.setSt(0, s, e, m);
}

/** Pushes the double x (a normal double inside the window or a zero), C1 as for pushRes. */
function pushDouble(f: Fpu, x: number): void {
  f.sw &= ~SW_C1;
  if (f.pushCheck()) f.setStD(0, x);
}

function st0Empty(f: Fpu): boolean {
  if (!f.isEmpty(0)) return false;
  if (f.underflow()) f.setStIndefinite(0);
  return true;
}

// ---- memory forms ---------------------------------------------------------------------------

/** Memory-operand forms (ModRM.mod != 3). */
export function fpuMem(c: Cpu, i: Insn): void {
  const op = i.op;
  const esc = op >> 3;
  const reg = op & 7;
  // The non-waiting control forms: FNSTENV, FNSTCW (D9 /6 /7), FNSAVE, FNSTSW (DD /6 /7).
  const control = (esc === 1 && reg >= 4) || (esc === 5 && (reg === 4 || reg === 6 || reg === 7));
  const waiting = !((esc === 1 && reg >= 6) || (esc === 5 && reg >= 6));
  const f = enter(c, waiting);
  const ea = c.ea(i);
  if (!control) {
    noteInsn(c, f, i);
    f.fds = c.segSel[i.seg]!;
    f.fdp = ea;
  }
  switch (esc) {
    case 0: // D8: arithmetic with m32real
    case 4: {
      // DC: arithmetic with m64real
      if (reg !== 2 && reg !== 3) {
        if (f.fastMode) {
          const x = memDouble(c, i, ea, esc === 4);
          if (x === x && arithFast(f, reg, 0, x)) break;
        }
      } else {
        // Compares of two normal doubles need no flags beyond the condition codes.
        const a = f.fastD(0);
        const x = a === a ? memDouble(c, i, ea, esc === 4) : NaN;
        if (x === x) {
          f.setCC(a > x ? 0 : a < x ? SW_C0 : SW_C3);
          if (reg === 3) f.pop();
          break;
        }
      }
      const k = esc === 0 ? f.fromF32(c.rd32(i.seg, ea)) : f.fromF64(c.rd32(i.seg, ea), c.rd32(i.seg, off(i, ea, 4)));
      const s = f.resS;
      const e = f.resE;
      const m = f.resM;
      if (reg === 2 || reg === 3) {
        // A denormal source (normal once widened) raises DE; unmasked, the compare still sets
        // the condition codes but does not pop, as for register operands.
        const a = f.phys(0);
        const deOk = k !== K_DENORMAL || f.isEmpty(0) || f.signal(SW_DE);
        if (compare(c, f, f.isEmpty(0), f.sgn[a]!, f.exp[a]!, f.man[a]!, s, e, m, false, false) && deOk && reg === 3) f.pop();
        break;
      }
      if (k === K_DENORMAL && !f.isEmpty(0) && !f.signal(SW_DE)) break;
      arithTo(f, reg, 0, s, e, m);
      break;
    }
    case 2: // DA: m32int
    case 6: {
      // DE: m16int
      const v = esc === 2 ? c.rd32(i.seg, ea) : (c.rd16(i.seg, ea) << 16) >> 16;
      f.fromInt(BigInt(v));
      const s = f.resS;
      const e = f.resE;
      const m = f.resM;
      if (reg === 2 || reg === 3) {
        const a = f.phys(0);
        if (compare(c, f, f.isEmpty(0), f.sgn[a]!, f.exp[a]!, f.man[a]!, s, e, m, false, false) && reg === 3) f.pop();
        break;
      }
      arithTo(f, reg, 0, s, e, m);
      break;
    }
    case 1:
      memD9(c, f, i, reg, ea);
      break;
    case 3:
      memDB(c, f, i, reg, ea);
      break;
    case 5:
      memDD(c, f, i, reg, ea);
      break;
    default:
      memDF(c, f, i, reg, ea);
      break;
  }
  finish(c, f);
}

function memD9(c: Cpu, f: Fpu, i: Insn, reg: number, ea: number): void {
  switch (reg) {
    case 0: {
      // FLD m32real
      const x = f.fast ? memDouble(c, i, ea, false) : NaN;
      if (x === x) {
        // A normal float or a zero: exactly a double inside the window (no flags).
        pushDouble(f, x);
        return;
      }
      const k = f.fromF32(c.rd32(i.seg, ea));
      loadConverted(f, k);
      return;
    }
    case 2:
    case 3:
      storeReal(c, f, i, ea, 24, reg === 3);
      return;
    case 4:
      touch(c, i, ea, envSize(i));
      loadEnv(c, f, i, ea);
      return;
    case 5:
      f.cw = (c.rd16(i.seg, ea) & 0x1f7f) | 0x40;
      f.updateSummary();
      return;
    case 6:
      storeEnv(c, f, i, ea);
      f.cw |= EXC_MASK;
      f.updateSummary();
      return;
    case 7:
      c.wr16(i.seg, ea, f.cw);
      return;
    default:
      c.ud();
  }
}

/** FST/FSTP m32real (p = 24) or m64real (p = 53). */
function storeReal(c: Cpu, f: Fpu, i: Insn, ea: number, p: number, pop: boolean): void {
  c.probeWrite(i.seg, ea, p === 24 ? 4 : 8);
  const x = f.fastD(0);
  if (p === 53) {
    if (x === x) {
      // Exactly a double: stored as is, exact (C1 = 0, no flags).
      F64V[0] = x;
      c.wr32(i.seg, ea, D32V[0]! | 0);
      c.wr32(i.seg, off(i, ea, 4), D32V[1]! | 0);
      f.sw &= ~SW_C1;
      if (pop) f.pop();
      return;
    }
  } else if (x === x && isNormalFloat(x)) {
    // Exactly a normal float (or a zero): stored as is, exact.
    F32V[0] = x;
    c.wr32(i.seg, ea, U32V[0]! | 0);
    f.sw &= ~SW_C1;
    if (pop) f.pop();
    return;
  }
  let bits: bigint | null;
  if (f.isEmpty(0)) bits = f.underflow() ? (p === 24 ? 0xffc00000n : 0xfff8000000000000n) : null;
  else {
    const r = f.phys(0);
    bits = f.toIeee(f.sgn[r]!, f.exp[r]!, f.man[r]!, p);
  }
  if (bits === null) return;
  if (p === 24) c.wr32(i.seg, ea, Number(bits) | 0);
  else wr64(c, i, ea, bits);
  if (pop) f.pop();
}

/** x (a double) is exactly a normal single-precision value or a zero. */
export function isNormalFloat(x: number): boolean {
  return Math.fround(x) === x && (x === 0 || x >= FLT_MIN || x <= -FLT_MIN);
}
const FLT_MIN = 2 ** -126;

/** Pushes a value converted from m32/m64 real: an SNaN signals IE, a denormal DE. */
function loadConverted(f: Fpu, k: number): void {
  if (k === K_SNAN) {
    if (!f.signal(SW_IE)) return;
    f.resM |= 0x4000000000000000n;
  } else if (k === K_DENORMAL) f.signal(SW_DE); // the load happens even with DE unmasked (as measured)
  pushRes(f);
}

function memDB(c: Cpu, f: Fpu, i: Insn, reg: number, ea: number): void {
  switch (reg) {
    case 0: {
      const v = c.rd32(i.seg, ea);
      if (f.fast) {
        // Every 32-bit integer is exactly a double inside the window (or zero).
        pushDouble(f, v);
        return;
      }
      f.fromInt(BigInt(v));
      pushRes(f);
      return;
    }
    case 2:
    case 3:
      storeInt(c, f, i, ea, 32, reg === 3);
      return;
    case 5: {
      const lo = rd64(c, i, ea);
      const se = c.rd16(i.seg, off(i, ea, 8));
      f.setRes(se >> 15, se & EXP_MAX, lo);
      pushRes(f);
      return;
    }
    case 7: {
      c.probeWrite(i.seg, ea, 10);
      let s = 1;
      let e = EXP_MAX;
      let m = 0xc000000000000000n;
      if (!f.isEmpty(0)) {
        const p = f.phys(0);
        s = f.sgn[p]!;
        e = f.exp[p]!;
        m = f.man[p]!;
      } else if (!f.underflow()) return;
      wr64(c, i, ea, m);
      c.wr16(i.seg, off(i, ea, 8), (s << 15) | e);
      f.pop();
      return;
    }
    default:
      c.ud();
  }
}

function storeInt(c: Cpu, f: Fpu, i: Insn, ea: number, bits: number, pop: boolean): void {
  c.probeWrite(i.seg, ea, bits >> 3);
  let v: bigint | null;
  if (f.isEmpty(0)) v = f.underflow() ? -(1n << BigInt(bits - 1)) : null;
  else {
    const p = f.phys(0);
    v = f.toInt(f.sgn[p]!, f.exp[p]!, f.man[p]!, bits);
  }
  if (v === null) return;
  if (bits === 16) c.wr16(i.seg, ea, Number(v & 0xffffn));
  else if (bits === 32) c.wr32(i.seg, ea, Number(BigInt.asIntN(32, v)));
  else wr64(c, i, ea, BigInt.asUintN(64, v));
  if (pop) f.pop();
}

function memDD(c: Cpu, f: Fpu, i: Insn, reg: number, ea: number): void {
  switch (reg) {
    case 0: {
      const x = f.fast ? memDouble(c, i, ea, true) : NaN;
      if (x === x) {
        // A normal double inside the window: kept as a double (exact, no flags).
        pushDouble(f, x);
        return;
      }
      const k = f.fromF64(c.rd32(i.seg, ea), c.rd32(i.seg, off(i, ea, 4)));
      loadConverted(f, k);
      return;
    }
    case 2:
    case 3:
      storeReal(c, f, i, ea, 53, reg === 3);
      return;
    case 4:
      touch(c, i, ea, envSize(i) + 80);
      loadEnv(c, f, i, ea);
      restoreRegs(c, f, i, ea);
      f.updateSummary();
      return;
    case 6:
      storeEnv(c, f, i, ea);
      saveRegs(c, f, i, ea);
      f.init();
      return;
    case 7:
      c.wr16(i.seg, ea, f.statusWord);
      return;
    default:
      c.ud();
  }
}

function memDF(c: Cpu, f: Fpu, i: Insn, reg: number, ea: number): void {
  switch (reg) {
    case 0: {
      const v = (c.rd16(i.seg, ea) << 16) >> 16;
      if (f.fast) {
        pushDouble(f, v);
        return;
      }
      f.fromInt(BigInt(v));
      pushRes(f);
      return;
    }
    case 2:
    case 3:
      storeInt(c, f, i, ea, 16, reg === 3);
      return;
    case 4: {
      // FBLD: 18 packed BCD digits and a sign byte (SDM vol. 1 §4.7).
      let v = 0n;
      for (let k = 8; k >= 0; k--) {
        const b = c.rd8(i.seg, off(i, ea, k));
        v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
      }
      const sign = c.rd8(i.seg, off(i, ea, 9)) >> 7;
      f.fromInt(v);
      f.resS = sign;
      pushRes(f);
      return;
    }
    case 5: {
      f.fromInt(BigInt.asIntN(64, rd64(c, i, ea)));
      pushRes(f);
      return;
    }
    case 6:
      storeBcd(c, f, i, ea);
      return;
    case 7:
      storeInt(c, f, i, ea, 64, true);
      return;
    default:
      c.ud();
  }
}

const BCD_LIMIT = 10n ** 18n;

function storeBcd(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  c.probeWrite(i.seg, ea, 10);
  let v: bigint | null = null;
  let s = 0;
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
  } else {
    const p = f.phys(0);
    s = f.sgn[p]!;
    const k = classify(f.exp[p]!, f.man[p]!);
    if (k === K_ZERO) v = 0n;
    else if (k === K_NORMAL || k === K_DENORMAL) {
      if (f.exp[p]! - BIAS < 64) {
        f.roundToInt(s, f.exp[p]!, f.man[p]!);
        const r = rSig;
        if (r < BCD_LIMIT) {
          v = r;
          if (rUp) f.sw |= SW_C1;
          else f.sw &= ~SW_C1;
          if (rInexact) f.signal(SW_PE);
        }
      }
    }
    if (v === null && !f.signal(SW_IE)) return;
  }
  if (v === null) {
    // The packed BCD indefinite: FFFF C000 0000 0000 0000.
    for (let k = 0; k < 7; k++) c.wr8(i.seg, off(i, ea, k), 0);
    c.wr8(i.seg, off(i, ea, 7), 0xc0);
    c.wr8(i.seg, off(i, ea, 8), 0xff);
    c.wr8(i.seg, off(i, ea, 9), 0xff);
  } else {
    let x = v;
    for (let k = 0; k < 9; k++) {
      const d = Number(x % 100n);
      x /= 100n;
      c.wr8(i.seg, off(i, ea, k), ((Math.floor(d / 10) << 4) | (d % 10)) & 0xff);
    }
    c.wr8(i.seg, off(i, ea, 9), s << 7);
  }
  f.pop();
}


// ---- register forms -------------------------------------------------------------------------

/** FCMOVcc conditions as Jcc condition codes: B, E, BE, P (DA) and their negations (DB). */
const FCMOV_CC = new Uint8Array([2, 4, 6, 10]);

/** Register-operand forms (ModRM.mod = 3). */
export function fpuReg(c: Cpu, i: Insn): void {
  const op = i.op;
  const n = i.rm;
  // Non-waiting: FNCLEX, FNINIT (DB E2/E3), FNSTSW AX (DF E0), FENI/FDISI/FSETPM (no-ops).
  const nowait = (op === 0x1c && (n <= 4)) || (op === 0x3c && n === 0);
  const f = enter(c, !nowait);
  if (!nowait) noteInsn(c, f, i);
  switch (op) {
    // D8: ST(0) = ST(0) op ST(i)
    case 0x00: case 0x01: case 0x04: case 0x05: case 0x06: case 0x07:
      binarySt(f, op & 7, 0, n);
      break;
    case 0x02: // FCOM
    case 0x03: // FCOMP
    case 0x22: // FCOM2 alias (DC D0)
    case 0x23: // FCOMP3 alias (DC D8)
    case 0x32: // FCOMP5 alias (DE D0)
      if (compareSt(c, f, n, false, false) && op !== 0x02 && op !== 0x22) f.pop();
      break;
    case 0x08: // FLD ST(i)
      fldSt(f, n);
      break;
    case 0x09: // FXCH
    case 0x29: // FXCH4 alias (DD C8)
    case 0x39: // FXCH7 alias (DF C8)
      fxch(f, n);
      break;
    case 0x0a:
      if (n !== 0) c.ud(); // FNOP
      break;
    case 0x0b: // FSTP1 alias (D9 D8)
    case 0x2b: // FSTP ST(i)
    case 0x3a: // FSTP8 alias (DF D0)
    case 0x3b: // FSTP9 alias (DF D8)
      if (fstSt(f, n)) f.pop();
      break;
    case 0x2a: // FST ST(i)
      fstSt(f, n);
      break;
    case 0x0c:
      groupD9E0(c, f, n);
      break;
    case 0x0d:
      loadConstant(c, f, n);
      break;
    case 0x0e:
    case 0x0f:
      groupD9F0(f, (op & 1) * 8 + n);
      break;
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x18: case 0x19: case 0x1a: case 0x1b: {
      // FCMOVcc (P6): DA = B/E/BE/U, DB = the negations.
      const cc = FCMOV_CC[op & 3]! | (op >= 0x18 ? 1 : 0);
      if (f.isEmpty(0) || f.isEmpty(n)) {
        if (f.underflow()) f.setStIndefinite(0);
        break;
      }
      if (testCC(c, cc)) {
        const p = f.phys(n);
        f.setSt(0, f.sgn[p]!, f.exp[p]!, f.man[p]!);
      }
      break;
    }
    case 0x15: // DA E9 FUCOMPP
      if (n !== 1) c.ud();
      if (compareSt(c, f, 1, true, false)) {
        f.pop();
        f.pop();
      }
      break;
    case 0x1c:
      switch (n) {
        case 0: case 1: case 4: // FNENI, FNDISI, FNSETPM: no-ops since the 80387
          break;
        case 2: // FNCLEX
          f.sw &= ~(EXC_MASK | 0x40 | SW_ES | SW_B);
          f.setFerr(false);
          break;
        case 3: // FNINIT
          f.init();
          break;
        default:
          c.ud();
      }
      break;
    case 0x1d: // FUCOMI
    case 0x1e: // FCOMI
      compareSt(c, f, n, op === 0x1d, true);
      break;
    case 0x3d: // FUCOMIP
    case 0x3e: // FCOMIP
      if (compareSt(c, f, n, op === 0x3d, true)) f.pop();
      break;
    // DC: ST(i) = ST(i) op ST(0) (note the SUB/SUBR and DIV/DIVR swap, SDM vol. 2 A.5)
    case 0x20: case 0x21: case 0x24: case 0x25: case 0x26: case 0x27:
    case 0x30: case 0x31: case 0x34: case 0x35: case 0x36: case 0x37: {
      const r = op & 7;
      const kind = r < 4 ? r : r ^ 1;
      if (binarySt(f, kind, n, 0) && op >= 0x30) f.pop();
      break;
    }
    case 0x28: // FFREE
      f.empty |= 1 << f.phys(n);
      break;
    case 0x38: // FFREEP
      f.empty |= 1 << f.phys(n);
      f.pop();
      break;
    case 0x2c: // FUCOM
    case 0x2d: // FUCOMP
      if (compareSt(c, f, n, true, false) && op === 0x2d) f.pop();
      break;
    case 0x33: // DE D9 FCOMPP
      if (n !== 1) c.ud();
      if (compareSt(c, f, 1, false, false)) {
        f.pop();
        f.pop();
      }
      break;
    case 0x3c: // DF E0 FNSTSW AX
      if (n !== 0) c.ud();
      c.r16[0] = f.statusWord;
      break;
    default:
      c.ud();
  }
  finish(c, f);
}

/** ST(d) = ST(d) kind ST(s). */
function binarySt(f: Fpu, kind: number, d: number, s: number): boolean {
  if (f.fastMode) {
    const b = f.fastD(s);
    if (b === b && arithFast(f, kind, d, b)) return true;
  }
  if (f.isEmpty(s) || f.isEmpty(d)) {
    if (!f.underflow()) return false;
    f.setStIndefinite(d);
    return true;
  }
  const p = f.phys(s);
  return arithTo(f, kind, d, f.sgn[p]!, f.exp[p]!, f.man[p]!);
}

function fldSt(f: Fpu, n: number): void {
  if (f.isEmpty(n)) {
    if (!f.underflow()) return;
    f.setIndefinite();
  } else {
    const x = f.fastD(n);
    if (x === x) {
      f.sw &= ~SW_C1;
      if (f.pushCheck()) f.setStD(0, x);
      return;
    }
    const p = f.phys(n);
    f.setRes(f.sgn[p]!, f.exp[p]!, f.man[p]!);
  }
  f.sw &= ~SW_C1;
  pushRes(f);
}

export function fxch(f: Fpu, n: number): void {
  if (f.isEmpty(0) || f.isEmpty(n)) {
    if (!f.underflow()) return;
    if (f.isEmpty(0)) f.setStIndefinite(0);
    if (f.isEmpty(n)) f.setStIndefinite(n);
  }
  // Swap both representations as they are (no need to materialise a double-held register).
  const a = (f.top) & 7;
  const b = (f.top + n) & 7;
  const s = f.sgn[a]!;
  const e = f.exp[a]!;
  const m = f.man[a]!;
  const x = f.dbl[a]!;
  const ds = f.dstate[a]!;
  f.sgn[a] = f.sgn[b]!;
  f.exp[a] = f.exp[b]!;
  f.man[a] = f.man[b]!;
  f.dbl[a] = f.dbl[b]!;
  f.dstate[a] = f.dstate[b]!;
  f.sgn[b] = s;
  f.exp[b] = e;
  f.man[b] = m;
  f.dbl[b] = x;
  f.dstate[b] = ds;
  f.sw &= ~SW_C1;
}

/** ST(n) = ST(0); false if an unmasked stack underflow suppressed it. */
function fstSt(f: Fpu, n: number): boolean {
  if (f.isEmpty(0)) {
    if (!f.underflow()) return false;
    f.setStIndefinite(n);
    return true;
  }
  const p = f.phys(0);
  f.setSt(n, f.sgn[p]!, f.exp[p]!, f.man[p]!);
  f.sw &= ~SW_C1;
  return true;
}

/** D9 E0-E7: FCHS FABS FTST FXAM. */
function groupD9E0(c: Cpu, f: Fpu, n: number): void {
  const p = f.phys(0);
  switch (n) {
    case 0:
    case 1:
      if (st0Empty(f)) return;
      f.sgn[p] = n === 0 ? f.sgn[p]! ^ 1 : 0;
      f.sw &= ~SW_C1;
      return;
    case 4:
      compare(c, f, f.isEmpty(0), f.sgn[p]!, f.exp[p]!, f.man[p]!, 0, 0, 0n, false, false);
      return;
    case 5: {
      // FXAM (SDM vol. 2 "FXAM" table 3-39): C3 C2 C0 give the class, C1 the sign.
      let cc: number;
      if (f.isEmpty(0)) cc = SW_C3 | SW_C0;
      else {
        switch (classify(f.exp[p]!, f.man[p]!)) {
          case K_ZERO: cc = SW_C3; break;
          case K_NORMAL: cc = SW_C2; break;
          case K_DENORMAL: cc = SW_C3 | SW_C2; break;
          case K_INF: cc = SW_C2 | SW_C0; break;
          case K_QNAN: case K_SNAN: cc = SW_C0; break;
          default: cc = 0;
        }
      }
      if (f.sgn[p]! !== 0) cc |= SW_C1;
      f.setCC(cc);
      return;
    }
    default:
      c.ud();
  }
}

// Constants as 128-bit significands (leading bit = bit 127) and unbiased exponents; the x87
// rounds them to 64 bits under the rounding control (SDM vol. 1 §8.3.8). 
const CONSTS: ReadonlyArray<readonly [bigint, number]> = [
  [1n << 127n, 0], // FLD1
  [0xd49a784bcd1b8afe492bf6ff4dafdb4dn, 1], // FLDL2T log2(10)
  [0xb8aa3b295c17f0bbbe87fed0691d3e89n, 0], // FLDL2E log2(e)
  [0xc90fdaa22168c234c4c6628b80dc1cd1n, 1], // FLDPI
  [0x9a209a84fbcff7988f8959ac0b7c9178n, -2], // FLDLG2 log10(2)
  [0xb17217f7d1cf79abc9e3b39803f2f6afn, -1], // FLDLN2 ln(2)
];

export function loadConstant(c: Cpu, f: Fpu, n: number): void {
  if (n === 7) c.ud();
  if ((n === 0 || n === 6) && f.fast) {
    // FLD1 and FLDZ are exact under every rounding control: kept as doubles.
    f.sw &= ~SW_C1;
    if (f.pushCheck()) f.setStD(0, n === 0 ? 1 : 0);
    return;
  }
  if (n === 6) f.setRes(0, 0, 0n);
  else {
    const [sig, e] = CONSTS[n]!;
    roundFloat(0, sig, e - 127, 64, -16382, 16383, f.rc);
    const r = rSig;
    const bl = bitLen(r);
    f.setRes(0, rQ + bl - 1 + BIAS, r << BigInt(64 - bl));
  }
  f.sw &= ~SW_C1;
  pushRes(f);
}

/** D9 F0-FF: the transcendental and miscellaneous group. */
function groupD9F0(f: Fpu, n: number): void {
  switch (n) {
    case 6: // FDECSTP
      f.top = (f.top - 1) & 7;
      f.sw &= ~SW_C1;
      return;
    case 7: // FINCSTP
      f.top = (f.top + 1) & 7;
      f.sw &= ~SW_C1;
      return;
    case 10: {
      // FSQRT
      if (st0Empty(f)) return;
      const p = f.phys(0);
      if (f.sqrt(f.sgn[p]!, f.exp[p]!, f.man[p]!)) f.setStRes(0);
      return;
    }
    case 12: {
      // FRNDINT
      if (st0Empty(f)) return;
      const p = f.phys(0);
      if (f.frndint(f.sgn[p]!, f.exp[p]!, f.man[p]!)) f.setStRes(0);
      return;
    }
    case 4:
      fxtract(f);
      return;
    case 13:
      fscale(f);
      return;
    case 5:
    case 8:
      fprem(f, n === 5);
      return;
    default:
      transcendental(f, n);
  }
}

function fxtract(f: Fpu): void {
  if (st0Empty(f)) return;
  if (!f.isEmpty(7)) {
    f.sw |= SW_C1;
    if (f.signal(SW_IE | 0x40)) {
      f.setStIndefinite(0);
      f.top = (f.top - 1) & 7;
      f.setStIndefinite(0);
    }
    return;
  }
  const p = f.phys(0);
  const s = f.sgn[p]!;
  const e = f.exp[p]!;
  const m = f.man[p]!;
  const k = classify(e, m);
  switch (k) {
    case K_ZERO:
      if (!f.signal(SW_ZE)) return;
      f.setSt(0, 1, EXP_MAX, MSB);
      f.top = (f.top - 1) & 7;
      f.setSt(0, s, 0, 0n);
      return;
    case K_INF:
      f.setSt(0, 0, EXP_MAX, MSB);
      f.top = (f.top - 1) & 7;
      f.setSt(0, s, e, m);
      return;
    case K_QNAN:
    case K_SNAN:
    case K_INVALID:
      if (k !== K_QNAN && !f.signal(SW_IE)) return;
      if (k === K_INVALID) f.setIndefinite();
      else f.setRes(s, e, m | 0x4000000000000000n);
      f.setStRes(0);
      f.top = (f.top - 1) & 7;
      f.setStRes(0);
      return;
  }
  if (k === K_DENORMAL && !f.signal(SW_DE)) return;
  const lead = bitLen(m) - 1;
  const ue = (e === 0 ? 1 : e) - BIAS - (63 - lead);
  f.fromInt(BigInt(ue));
  f.setStRes(0);
  f.top = (f.top - 1) & 7;
  f.setSt(0, s, BIAS, m << BigInt(63 - lead));
}

function fscale(f: Fpu): void {
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (f.underflow()) f.setStIndefinite(0);
    return;
  }
  const a = f.phys(0);
  const b = f.phys(1);
  const as = f.sgn[a]!;
  const ae = f.exp[a]!;
  const am = f.man[a]!;
  const bs = f.sgn[b]!;
  const be = f.exp[b]!;
  const bm = f.man[b]!;
  const ka = classify(ae, am);
  const kb = classify(be, bm);
  const nn = f.nanCheck2(ka, as, ae, am, kb, bs, be, bm);
  if (nn !== 0) {
    if (nn > 0) f.setStRes(0);
    return;
  }
  if (kb === K_INF) {
    if ((ka === K_ZERO && bs === 0) || (ka === K_INF && bs !== 0)) {
      if (f.invalid()) f.setStRes(0);
      return;
    }
    if (ka === K_ZERO || ka === K_INF) return;
    f.setSt(0, as, bs ? 0 : EXP_MAX, bs ? 0n : MSB);
    return;
  }
  if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return;
  if (ka === K_ZERO || ka === K_INF) return;
  // trunc(ST(1)), clamped far beyond any exponent that could matter.
  let sc = 0;
  if (kb !== K_ZERO && be - BIAS >= 0) {
    const sh = be - BIAS - 63;
    const t = sh >= 0 ? 1n << 20n : bm >> BigInt(-sh);
    sc = Number(t > 1n << 20n ? 1n << 20n : t);
    if (bs) sc = -sc;
  }
  const q = (ae === 0 ? 1 : ae) - BIAS - 63;
  if (f.packReg(as, am, q + sc, 64)) f.setStRes(0);
}

/** FPREM (truncating quotient) and FPREM1 (IEEE, round-to-nearest quotient). */
function fprem(f: Fpu, ieee: boolean): void {
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (f.underflow()) f.setStIndefinite(0);
    return;
  }
  const a = f.phys(0);
  const b = f.phys(1);
  const as = f.sgn[a]!;
  const ae = f.exp[a]!;
  const am = f.man[a]!;
  const be = f.exp[b]!;
  const bm = f.man[b]!;
  const ka = classify(ae, am);
  const kb = classify(be, bm);
  const nn = f.nanCheck2(ka, as, ae, am, kb, f.sgn[b]!, be, bm);
  if (nn !== 0) {
    if (nn > 0) f.setStRes(0);
    return;
  }
  if (ka === K_INF || kb === K_ZERO) {
    if (f.invalid()) f.setStRes(0);
    return;
  }
  if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return;
  f.sw &= ~(SW_C0 | SW_C1 | SW_C2 | SW_C3);
  if (ka === K_ZERO || kb === K_INF) return;
  const qa = (ae === 0 ? 1 : ae) - BIAS - 63;
  const qb = (be === 0 ? 1 : be) - BIAS - 63;
  const ea = qa + bitLen(am) - 1;
  const eb = qb + bitLen(bm) - 1;
  const d = ea - eb;
  let partial = false;
  let shiftExp = 0;
  if (d >= 64) {
    // Partial remainder: reduce the exponent difference by between 32 and 63 (SDM vol. 2 FPREM).
    partial = true;
    shiftExp = d - 32 - ((d - 32) & 31);
    if (shiftExp === d) shiftExp -= 32;
  }
  // Work in units of 2^qm: A = am << (qa - qm), B = bm << (qb + shiftExp - qm).
  const qbs = qb + shiftExp;
  let qm: number;
  let quo: bigint;
  let rem: bigint;
  let B: bigint;
  if (d < -1) {
    // |ST(0)| < |ST(1)| / 2: the quotient is 0 and the remainder ST(0) itself.
    qm = qa;
    quo = 0n;
    rem = am;
    B = 0n;
  } else {
    qm = qa < qbs ? qa : qbs;
    const A = am << BigInt(qa - qm);
    B = bm << BigInt(qbs - qm);
    quo = A / B;
    rem = A - quo * B;
  }
  if (ieee && !partial && d >= -1) {
    const twice = rem << 1n;
    if (twice > B || (twice === B && (quo & 1n) === 1n)) {
      quo += 1n;
      rem -= B;
    }
  }
  let rs = as;
  if (rem < 0n) {
    rem = -rem;
    rs ^= 1;
  }
  if (partial) f.sw |= SW_C2;
  else {
    const q = Number(quo & 7n);
    if (q & 1) f.sw |= SW_C1;
    if (q & 2) f.sw |= SW_C3;
    if (q & 4) f.sw |= SW_C0;
  }
  const cc = f.sw & (SW_C0 | SW_C1 | SW_C2 | SW_C3);
  if (rem === 0n) f.setRes(as, 0, 0n);
  else f.packReg(rs, rem, qm, 64); // exact, but a tiny remainder meets an unmasked UE
  f.setStRes(0);
  f.sw = (f.sw & ~(SW_C0 | SW_C1 | SW_C2 | SW_C3)) | cc;
}

/**
 * F2XM1 FYL2X FPTAN FPATAN FYL2XP1 FSINCOS FSIN FCOS, computed in float64 (documented limit:
 * results carry at most 53 significant bits, correctly rounded only as far as the host's Math
 * functions are; the x87 itself is accurate to about 1 ulp of 64 bits).
 */
function transcendental(f: Fpu, n: number): void {
  const unary = n === 0 || n === 2 || n === 11 || n === 14 || n === 15;
  const needs = unary ? 1 : 2;
  if (f.isEmpty(0) || (needs === 2 && f.isEmpty(1))) {
    if (f.underflow()) {
      f.setStIndefinite(0);
      if (n === 2 || n === 11) {
        if (f.pushCheck()) f.setStIndefinite(0);
      }
    }
    return;
  }
  const a = f.phys(0);
  const x = Fpu.toDouble(f.sgn[a]!, f.exp[a]!, f.man[a]!);
  const ka = classify(f.exp[a]!, f.man[a]!);
  if (ka === K_SNAN || ka === K_INVALID) {
    if (!f.signal(SW_IE)) return;
  }
  if (ka === K_DENORMAL && !f.signal(SW_DE)) return;
  const trig = n === 2 || n === 11 || n === 14 || n === 15;
  if (trig) {
    if (ka === K_NORMAL && f.exp[a]! - BIAS >= 63) {
      f.sw |= SW_C2; // out of range: operand unchanged (SDM vol. 2 "FSIN")
      return;
    }
    f.sw &= ~SW_C2;
    if (ka === K_INF) {
      if (!f.signal(SW_IE)) return;
    }
  }
  let r: number;
  let r2 = 0;
  if (needs === 2) {
    const b = f.phys(1);
    const y = Fpu.toDouble(f.sgn[b]!, f.exp[b]!, f.man[b]!);
    const kb = classify(f.exp[b]!, f.man[b]!);
    if ((kb === K_SNAN || kb === K_INVALID) && !f.signal(SW_IE)) return;
    if (n === 1) {
      if (x === 0 && y !== 0 && !Number.isNaN(y) && !f.signal(SW_ZE)) return;
      if (x < 0 && !f.signal(SW_IE)) return;
      r = y * Math.log2(x);
    } else if (n === 9) {
      if (x < -1 && !f.signal(SW_IE)) return;
      r = (y * Math.log1p(x)) / Math.LN2;
    } else r = Math.atan2(y, x);
  } else if (n === 0) r = Math.expm1(x * Math.LN2);
  else if (n === 14) r = Math.sin(x);
  else if (n === 15) r = Math.cos(x);
  else if (n === 2) r = Math.tan(x);
  else {
    r = Math.sin(x);
    r2 = Math.cos(x);
  }
  if (Number.isNaN(r) && ka !== K_QNAN && ka !== K_SNAN) {
    if (!f.signal(SW_IE)) return;
  }
  if (Number.isNaN(r)) f.setIndefinite();
  else f.fromDouble(r);
  if (r !== 0 && Number.isFinite(r)) f.signal(SW_PE);
  f.sw &= ~SW_C1;
  if (needs === 2) {
    f.pop();
    f.setStRes(0);
    return;
  }
  if (n === 2 || n === 11) {
    if (!f.isEmpty(7)) {
      f.sw |= SW_C1;
      if (f.signal(SW_IE | 0x40)) {
        f.setStIndefinite(0);
        f.top = (f.top - 1) & 7;
        f.setStIndefinite(0);
      }
      return;
    }
    f.setStRes(0);
    if (n === 2) f.setRes(0, BIAS, MSB);
    else if (Number.isNaN(r2)) f.setIndefinite();
    else f.fromDouble(r2);
    f.top = (f.top - 1) & 7;
    f.setStRes(0);
    return;
  }
  f.setStRes(0);
}

