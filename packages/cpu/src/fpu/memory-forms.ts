/**
 * x87 memory-operand forms (ModRM.mod != 3): `fpuMem` and the per-escape groups D9/DB/DD/DF
 * (loads and stores of m16/m32/m64 integers and m32/m64/m80 reals, FLDCW/FSTCW/FSTSW, and the
 * environment forms FLDENV/FSTENV/FRSTOR/FSAVE via env.ts). Intel SDM vol. 2, opcode map A.5.
 */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { EXC_MASK, EXP_MAX, type Fpu, K_DENORMAL, K_SNAN, SW_C0, SW_C1, SW_C3, SW_DE, SW_IE } from './fpu.ts';
import { envSize, loadEnv, restoreRegs, saveRegs, storeEnv } from './env.ts';
import { enter, noteInsn, finish, off, rd64, wr64, touch } from './entry.ts';
import { arithFast, memDouble, F32V, U32V, F64V, D32V, arithTo, compare, pushRes, pushDouble } from './operations.ts';
import { storeBcd } from './bcd.ts';
import { fromF32, fromF64, fromInt, toIeee, toInt } from './conversions.ts';

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
      const k = esc === 0 ? fromF32(f, c.rd32(i.seg, ea)) : fromF64(f, c.rd32(i.seg, ea), c.rd32(i.seg, off(i, ea, 4)));
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
      fromInt(f, BigInt(v));
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
      const k = fromF32(f, c.rd32(i.seg, ea));
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
    bits = toIeee(f, f.sgn[r]!, f.exp[r]!, f.man[r]!, p);
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
      fromInt(f, BigInt(v));
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
    v = toInt(f, f.sgn[p]!, f.exp[p]!, f.man[p]!, bits);
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
      const k = fromF64(f, c.rd32(i.seg, ea), c.rd32(i.seg, off(i, ea, 4)));
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
      fromInt(f, BigInt(v));
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
      fromInt(f, v);
      f.resS = sign;
      pushRes(f);
      return;
    }
    case 5: {
      fromInt(f, BigInt.asIntN(64, rd64(c, i, ea)));
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
