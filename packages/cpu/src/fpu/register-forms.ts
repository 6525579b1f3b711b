/**
 * x87 register-operand forms (ModRM.mod = 3): `fpuReg` and the stack moves it uses (FLD ST(i),
 * FXCH, FST ST(i)), FCMOVcc, and the D9 E0-E7 group FCHS/FABS/FTST/FXAM. Intel SDM vol. 2,
 * opcode map A.5.
 */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import * as flagsModule from '../flags.ts';
import { EXC_MASK, type Fpu, K_DENORMAL, K_INF, K_NORMAL, K_QNAN, K_SNAN, K_ZERO, SW_B, SW_C0, SW_C1, SW_C2, SW_C3, SW_ES, classify } from './fpu.ts';
import { enter, noteInsn, finish } from './entry.ts';
import { arithFast, arithTo, compare, compareSt, pushRes, st0Empty } from './operations.ts';
import { loadConstant } from './load-constants.ts';
import { groupD9F0 } from './transcendental.ts';

const { testCC } = flagsModule;

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
