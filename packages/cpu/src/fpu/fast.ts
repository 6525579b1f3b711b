/**
 * One handler per common x87 instruction form, chosen by the decoder, in front of the generic
 * `fpuMem`/`fpuReg` of exec.ts (which dispatch on the opcode at every execution).
 *
 * Each handler does its instruction only in the common case: the FPU is usable (CR0.EM = TS =
 * 0), no unmasked exception is pending (SW.ES = 0, so no #MF can be due), and the operands are
 * held as doubles (Fpu.usableD: `dbl`/`dstate`), so the float64 fast path applies (Fpu.arithP
 * and fastCore decide whether the double result is the x87's, SDM vol. 1 §4.8.3 and §8.1.5;
 * C1 may be left pending, see Fpu.pend). Anything else — and anything the fast path refuses —
 * goes to the generic handler before any state has changed, so both routes give bit-identical
 * results (test/fpu-handlers.test.ts); the generic handler still covers every form on its own.
 * Operands in 80-bit form (at precision 64 most results are) take the BigInt-free exact word
 * path of regs80.ts/exact.ts instead of the doubles, under the same rule.
 * Values move between typed arrays (registers, dbl[8] for a memory operand), never as double
 * arguments or results of calls, which V8 would box when a call is not inlined.
 *
 * Record fields are the generic ones (exec.ts header): `i.op` = escape << 3 | ModRM.reg,
 * `i.rm` = ModRM.rm, `i.imm` = FOP.
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Handler, Insn } from '../insn.ts';
import * as execModule from './exec.ts';
import * as fpuModule from './fpu.ts';
import type { Fpu } from './fpu.ts';
import * as regs80Module from './regs80.ts';

// Imported values copied into module constants (see the cpu package README: under vitest every
// imported binding is a getter call).
const { AF, CF, CR0_EM, CR0_TS, OF, PF, SF, ZF } = constantsModule;
const { materializeFlags } = flagsModule;
const { SW_C0, SW_C1, SW_C3, SW_ES, SW_PE } = fpuModule;
const { finish, fpuMem, fpuReg, isNormalFloat, noteInsn } = execModule;
const { arithX, compareX, copyReg, storeFlags, swapRegs, toIntReg, toRealReg } = regs80Module;

const F32V = new Float32Array(1);
const U32V = new Uint32Array(F32V.buffer);

/** The FPU is usable and nothing is pending: the fast handlers may run. */
function ready(c: Cpu, f: Fpu): boolean {
  return (c.cr0 & (CR0_EM | CR0_TS)) === 0 && (f.swBits & SW_ES) === 0;
}

/** Records the data pointer of a memory form (SDM vol. 1 §8.1.8). */
function noteData(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  f.fds = c.segSel[i.seg]!;
  f.fdp = ea;
}

// ---- register forms -------------------------------------------------------------------------

/**
 * FADD FMUL FSUB FSUBR FDIV FDIVR with register operands: D8 (ST(0) = ST(0) op ST(i)), DC
 * (ST(i) = ST(i) op ST(0), SUB/SUBR and DIV/DIVR swapped, SDM vol. 2 A.5) and DE (DC, then pop).
 */
export function fArithReg(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && f.fast) {
    const op = i.op;
    let kind = op & 7;
    const top = f.top;
    let pd = top;
    let ps = (top + i.rm) & 7;
    if (op >= 0x20) {
      pd = ps;
      ps = top;
      if (kind >= 4) kind ^= 1;
    }
    // Doubles first; else (e.g. 64-bit values at precision 64) the exact word path.
    if ((f.fastMode && f.usableD(pd) && f.usableD(ps) && f.arithP(kind, pd, ps)) || arithX(f, kind, pd, ps)) {
      noteInsn(c, f, i);
      if (op >= 0x30) f.pop();
      finish(c, f);
      return;
    }
  }
  fpuReg(c, i);
}

/**
 * FCOM FCOMP FUCOM FUCOMP FCOMPP FUCOMPP FCOMI FCOMIP FUCOMI FUCOMIP (and the FCOM2/FCOMP3/
 * FCOMP5 aliases) of two doubles: ordered, so signalling and quiet forms agree and no flag
 * beyond the result is touched.
 */
export function fComReg(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f)) {
    const pa = f.top;
    const pb = (pa + i.rm) & 7;
    const r = f.usableD(pa) && f.usableD(pb) ? cmpD(f.dbl[pa]!, f.dbl[pb]!) : compareX(f, pa, pb);
    if (r !== 2) {
      noteInsn(c, f, i);
      compareP(c, f, i.op, r);
      finish(c, f);
      return;
    }
  }
  fpuReg(c, i);
}

/** -1, 0, 1 for a <, =, > b (both ordered). */
function cmpD(a: number, b: number): number {
  return a > b ? 1 : a < b ? -1 : 0;
}

/** The condition codes (or EFLAGS) and pops of an ordered compare with result r (cmpD). */
function compareP(c: Cpu, f: Fpu, op: number, r: number): void {
  if (op === 0x1d || op === 0x1e || op === 0x3d || op === 0x3e) {
    // FCOMI family: ZF PF CF (SDM vol. 2 "FCOMI" table 3-22), OF SF AF cleared, C1 = 0.
    materializeFlags(c);
    let fl = c.flags & ~(ZF | PF | CF | OF | SF | AF);
    if (r < 0) fl |= CF;
    else if (r === 0) fl |= ZF;
    c.flags = fl;
    f.clearC1();
    if (op >= 0x3d) f.pop();
    return;
  }
  f.setCC(r > 0 ? 0 : r < 0 ? SW_C0 : SW_C3);
  if (op === 0x33 || op === 0x15) {
    f.pop();
    f.pop();
  } else if ((op & 1) !== 0 || op === 0x32) f.pop(); // FCOMP 03, FCOMP3 23, FUCOMP 2D, FCOMP5 32
}

/** FLD ST(i) (D9 C0+i). */
export function fLdSt(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f)) {
    const ps = (f.top + i.rm) & 7;
    if (f.usableD(ps)) {
      noteInsn(c, f, i);
      f.clearC1();
      f.pushP(ps);
      finish(c, f);
      return;
    }
    const pd = (f.top - 1) & 7;
    if (!f.isEmpty(i.rm) && ((f.empty >> pd) & 1) !== 0) {
      // An 80-bit value: copy its words (no stack overflow; FLD ST(i) never converts).
      noteInsn(c, f, i);
      f.clearC1();
      f.top = pd;
      copyReg(f, pd, ps);
      finish(c, f);
      return;
    }
  }
  fpuReg(c, i);
}

/** FXCH ST(i) (D9 C8+i and the DD C8 / DF C8 aliases). */
export function fXch(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && !f.isEmpty(0) && !f.isEmpty(i.rm)) {
    noteInsn(c, f, i);
    const a = f.top;
    const b = (a + i.rm) & 7;
    const ds = f.dstate;
    if (ds[a] !== 0 && ds[b] !== 0) {
      // Both held as doubles: their 80-bit fields are stale and need not move (reading the
      // BigUint64Array would allocate).
      const dbl = f.dbl;
      const x = dbl[a]!;
      dbl[a] = dbl[b]!;
      dbl[b] = x;
      f.clearC1();
    } else {
      swapRegs(f, a, b);
      f.clearC1(); // FXCH sets C1 = 0: a pending C1 need not be settled
    }
    finish(c, f);
    return;
  }
  fpuReg(c, i);
}

/** FST ST(i) (DD D0+i), FSTP ST(i) (DD D8+i and the D9 D8 / DF D0 / DF D8 aliases). */
export function fStSt(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && !f.isEmpty(0)) {
    noteInsn(c, f, i);
    const n = i.rm;
    if (n !== 0) {
      // Copy every representation as it is (a double-held value stays a double).
      const a = f.top;
      const b = (a + n) & 7;
      copyReg(f, b, a);
    }
    f.clearC1();
    if (i.op !== 0x2a) f.pop();
    finish(c, f);
    return;
  }
  fpuReg(c, i);
}

/** FLD1 (D9 E8) and FLDZ (D9 EE): exact under every rounding control. */
export function fLdConst(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && f.fast) {
    noteInsn(c, f, i);
    f.clearC1();
    f.dbl[8] = i.rm === 0 ? 1 : 0;
    f.pushP(8);
    finish(c, f);
    return;
  }
  fpuReg(c, i);
}

/** FCHS (D9 E0) and FABS (D9 E1) of a double. */
export function fChsAbs(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f)) {
    const p = f.top;
    if (f.usableD(p)) {
      noteInsn(c, f, i);
      const x = f.dbl[p]!;
      f.dbl[p] = i.rm === 0 ? -x : Math.abs(x);
      f.clearC1();
      finish(c, f);
      return;
    }
  }
  fpuReg(c, i);
}

/** FNSTSW AX (DF E0): a non-waiting control instruction (no #MF, FIP unchanged). */
export function fnstswAx(c: Cpu, i: Insn): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) {
    fpuReg(c, i);
    return;
  }
  const f = c.fpu!;
  c.r16[0] = f.statusWord;
  finish(c, f);
}

// ---- memory forms ---------------------------------------------------------------------------

/**
 * Reads an m32real or m64real operand into f.dbl[8]. True if the fast path takes it: a normal
 * value (inside the window for m64) or a zero; denormals, infinities and NaNs need the exact path.
 */
function readReal(c: Cpu, f: Fpu, i: Insn, ea: number, m64: boolean): boolean {
  if (!m64) {
    const bits = c.rd32(i.seg, ea);
    const ex = (bits >>> 23) & 0xff;
    if (ex === 0xff || (ex === 0 && (bits & 0x7fffff) !== 0)) return false;
    U32V[0] = bits;
    f.dbl[8] = F32V[0]!;
    return true;
  }
  const lo = c.rd32(i.seg, ea);
  const hi = c.rd32(i.seg, i.a32 ? (ea + 4) | 0 : (ea + 4) & 0xffff);
  const ex = (hi >>> 20) & 0x7ff;
  if (ex < 1023 - 959 || ex > 1023 + 959) {
    if (ex !== 0 || lo !== 0 || (hi & 0xfffff) !== 0) return false;
  }
  const w = f.dblWords;
  w[16] = lo;
  w[17] = hi;
  return true;
}

/** FADD FMUL FSUB FSUBR FDIV FDIVR with an m32real (D8) or m64real (DC) operand. */
export function fArithMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && f.fast) {
    const pd = f.top;
    const ea = c.ea(i);
    noteInsn(c, f, i);
    noteData(c, f, i, ea);
    if (readReal(c, f, i, ea, i.op >= 0x20)) {
      const kind = i.op & 7;
      if ((f.fastMode && f.usableD(pd) && f.arithP(kind, pd, 8)) || arithX(f, kind, pd, 8)) {
        finish(c, f);
        return;
      }
    }
  }
  fpuMem(c, i);
}

/** FCOM/FCOMP with an m32real (D8 /2 /3) or m64real (DC /2 /3) operand. */
export function fComMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f)) {
    const pa = f.top;
    const ea = c.ea(i);
    noteInsn(c, f, i);
    noteData(c, f, i, ea);
    if (readReal(c, f, i, ea, i.op >= 0x20)) {
      const r = f.usableD(pa) ? cmpD(f.dbl[pa]!, f.dbl[8]!) : compareX(f, pa, 8);
      if (r !== 2) {
        f.setCC(r > 0 ? 0 : r < 0 ? SW_C0 : SW_C3);
        if ((i.op & 7) === 3) f.pop();
        finish(c, f);
        return;
      }
    }
  }
  fpuMem(c, i);
}

/** FLD m32real (D9 /0) and FLD m64real (DD /0). */
export function fLdMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && f.fast) {
    const ea = c.ea(i);
    noteInsn(c, f, i);
    noteData(c, f, i, ea);
    if (readReal(c, f, i, ea, i.op === 0x28)) {
      f.pushP(8);
      finish(c, f);
      return;
    }
  }
  fpuMem(c, i);
}

/** FST/FSTP m32real (D9 /2 /3) and m64real (DD /2 /3) of a value that fits exactly. */
export function fStMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f)) {
    const p = f.top;
    const m64 = i.op >= 0x28;
    // (16-bit addressing, whose second half may wrap at 64 KiB, is left to the generic path.)
    if (f.usableD(p) && (m64 ? i.a32 : isNormalFloat(f.dbl[p]!))) {
      const seg = i.seg;
      const ea = c.ea(i);
      noteInsn(c, f, i);
      noteData(c, f, i, ea);
      if (m64) {
        // Both halves must be writable before the first is written (restartable, DESIGN §2.2):
        // probe unless the operand lies in one page and inside the segment limit.
        const lin = (c.segBase[seg]! + ea) & 0xfff;
        if (lin > 0xff8 || (ea >>> 0) + 7 > c.segWLim[seg]!) c.probeWrite(seg, ea, 8);
        const w = f.dblWords;
        c.wr32(seg, ea, w[p * 2]!);
        c.wr32(seg, (ea + 4) | 0, w[p * 2 + 1]!);
      } else {
        F32V[0] = f.dbl[p]!;
        c.wr32(seg, ea, U32V[0]! | 0);
      }
      f.clearC1();
      if ((i.op & 1) !== 0) f.pop();
      finish(c, f);
      return;
    }
    if (i.a32 && f.fast && !f.isEmpty(0)) {
      // A value rounded by the word path (regs80.toRealReg), after the probe for m64.
      const seg = i.seg;
      const ea = c.ea(i);
      noteInsn(c, f, i);
      noteData(c, f, i, ea);
      const lin = (c.segBase[seg]! + ea) & 0xfff;
      if (m64 && (lin > 0xff8 || (ea >>> 0) + 7 > c.segWLim[seg]!)) c.probeWrite(seg, ea, 8);
      if (toRealReg(f, p, !m64)) {
        const w = f.dblWords;
        c.wr32(seg, ea, w[16]!);
        if (m64) c.wr32(seg, (ea + 4) | 0, w[17]!);
        storeFlags(f);
        if ((i.op & 1) !== 0) f.pop();
        finish(c, f);
        return;
      }
    }
  }
  fpuMem(c, i);
}

/**
 * FLD m80real (DB /5) and FSTP m80real (DB /7): the register's words move as they are (no
 * conversion, so no exception; SDM vol. 2 "FLD", "FST/FSTP"), without BigInts. Stack overflow,
 * underflow and 16-bit addressing go to the generic handler.
 */
export function fM80(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && i.a32) {
    const seg = i.seg;
    if (i.op === 0x1d) {
      const p = (f.top - 1) & 7;
      if (((f.empty >> p) & 1) !== 0) {
        const ea = c.ea(i);
        noteInsn(c, f, i);
        noteData(c, f, i, ea);
        const lo = c.rd32(seg, ea);
        const hi = c.rd32(seg, (ea + 4) | 0);
        const se = c.rd16(seg, (ea + 8) | 0);
        f.clearC1();
        f.top = p;
        f.sgn[p] = se >> 15;
        f.exp[p] = se & 0x7fff;
        f.manW[2 * p] = lo;
        f.manW[2 * p + 1] = hi;
        f.dstate[p] = 0;
        f.empty &= ~(1 << p);
        finish(c, f);
        return;
      }
    } else if (!f.isEmpty(0)) {
      const ea = c.ea(i);
      noteInsn(c, f, i);
      noteData(c, f, i, ea);
      c.probeWrite(seg, ea, 10);
      const p = f.phys(0); // a double-held value is widened first (exact)
      c.wr32(seg, ea, f.manW[2 * p]! | 0);
      c.wr32(seg, (ea + 4) | 0, f.manW[2 * p + 1]! | 0);
      c.wr16(seg, (ea + 8) | 0, (f.sgn[p]! << 15) | f.exp[p]!);
      f.pop();
      finish(c, f);
      return;
    }
  }
  fpuMem(c, i);
}

/** FILD m32int (DB /0) and m16int (DF /0): every such integer is exactly a double. */
export function fIldMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && f.fast) {
    const ea = c.ea(i);
    noteInsn(c, f, i);
    noteData(c, f, i, ea);
    f.dbl[8] = i.op === 0x18 ? c.rd32(i.seg, ea) : (c.rd16(i.seg, ea) << 16) >> 16;
    f.pushP(8);
    finish(c, f);
    return;
  }
  fpuMem(c, i);
}

/** FIADD FIMUL FISUB FISUBR FIDIV FIDIVR with an m32int (DA) or m16int (DE) operand. */
export function fIArithMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f) && f.fast) {
    const pd = f.top;
    const ea = c.ea(i);
    noteInsn(c, f, i);
    noteData(c, f, i, ea);
    // Every 16- or 32-bit integer is exactly a double.
    f.dbl[8] = i.op < 0x30 ? c.rd32(i.seg, ea) : (c.rd16(i.seg, ea) << 16) >> 16;
    const kind = i.op & 7;
    if ((f.fastMode && f.usableD(pd) && f.arithP(kind, pd, 8)) || arithX(f, kind, pd, 8)) {
      finish(c, f);
      return;
    }
  }
  fpuMem(c, i);
}

/**
 * FIST/FISTP m16int (DF /2 /3) and m32int (DB /2 /3), FISTP m64int (DF /7) of a double whose
 * rounded value fits (otherwise IE: the generic path). Rounding follows RC (SDM vol. 1 §4.8.4);
 * PE if inexact, C1 = 1 if the magnitude was rounded up, as the exact path reports them.
 */
export function fIstMem(c: Cpu, i: Insn): void {
  const f = c.fpu!;
  if (ready(c, f)) {
    const p = f.top;
    if (f.usableD(p) && i.a32) {
      const x = f.dbl[p]!;
      let r: number;
      switch ((f.cw >> 10) & 3) {
        case 0: {
          r = Math.round(x); // halves go up; ties go to even instead
          if (r - x === 0.5 && (r & 1) !== 0) r -= 1;
          break;
        }
        case 1:
          r = Math.floor(x);
          break;
        case 2:
          r = Math.ceil(x);
          break;
        default:
          r = Math.trunc(x);
      }
      const op = i.op;
      const size = op === 0x1a || op === 0x1b ? 4 : op === 0x3f ? 8 : 2;
      const lim = size === 4 ? 2147483648 : size === 8 ? 9007199254740992 : 32768;
      if (r >= -lim && r < lim) {
        const seg = i.seg;
        const ea = c.ea(i);
        noteInsn(c, f, i);
        noteData(c, f, i, ea);
        if (size === 2) c.wr16(seg, ea, r & 0xffff);
        else if (size === 4) c.wr32(seg, ea, r | 0);
        else {
          const lin = (c.segBase[seg]! + ea) & 0xfff;
          if (lin > 0xff8 || (ea >>> 0) + 7 > c.segWLim[seg]!) c.probeWrite(seg, ea, 8);
          const hi = Math.floor(r / 4294967296);
          c.wr32(seg, ea, (r - hi * 4294967296) | 0);
          c.wr32(seg, (ea + 4) | 0, hi | 0);
        }
        f.clearC1();
        if (r !== x) {
          if ((r < 0 ? -r : r) > (x < 0 ? -x : x)) f.swBits |= SW_C1;
          f.signal(SW_PE);
        }
        if (op !== 0x1a && op !== 0x3a) f.pop();
        finish(c, f);
        return;
      }
    } else if (i.a32 && f.fast && !f.isEmpty(0)) {
      // An 80-bit value (e.g. at precision 64): rounded on words (regs80.toIntReg).
      const op = i.op;
      const size = op === 0x1a || op === 0x1b ? 32 : op === 0x3f ? 64 : 16;
      if (toIntReg(f, p, size)) {
        const seg = i.seg;
        const ea = c.ea(i);
        noteInsn(c, f, i);
        noteData(c, f, i, ea);
        const w = f.dblWords;
        if (size === 16) c.wr16(seg, ea, w[16]! & 0xffff);
        else if (size === 32) c.wr32(seg, ea, w[16]!);
        else {
          const lin = (c.segBase[seg]! + ea) & 0xfff;
          if (lin > 0xff8 || (ea >>> 0) + 7 > c.segWLim[seg]!) c.probeWrite(seg, ea, 8);
          c.wr32(seg, ea, w[16]!);
          c.wr32(seg, (ea + 4) | 0, w[17]!);
        }
        storeFlags(f);
        if (op !== 0x1a && op !== 0x3a) f.pop();
        finish(c, f);
        return;
      }
    }
  }
  fpuMem(c, i);
}

// ---- the decoder's choice -------------------------------------------------------------------

/** The handler for an x87 instruction with `op` = escape << 3 | ModRM.reg and ModRM.rm `rm`. */
export function fpuHandler(op: number, rm: number, register: boolean): Handler {
  const esc = op >> 3;
  const reg = op & 7;
  if (!register) {
    if (esc === 0 || esc === 4) return reg === 2 || reg === 3 ? fComMem : fArithMem;
    if (op === 0x08 || op === 0x28) return fLdMem;
    if (op === 0x0a || op === 0x0b || op === 0x2a || op === 0x2b) return fStMem;
    if (op === 0x18 || op === 0x38) return fIldMem;
    if (op === 0x1d || op === 0x1f) return fM80;
    if ((esc === 2 || esc === 6) && reg !== 2 && reg !== 3) return fIArithMem;
    if (op === 0x1a || op === 0x1b || op === 0x3a || op === 0x3b || op === 0x3f) return fIstMem;
    return fpuMem;
  }
  if ((esc === 0 || esc === 4 || esc === 6) && reg !== 2 && reg !== 3) return fArithReg;
  switch (op) {
    case 0x02: case 0x03: case 0x22: case 0x23: case 0x32: case 0x2c: case 0x2d:
    case 0x1d: case 0x1e: case 0x3d: case 0x3e:
      return fComReg;
    case 0x15: case 0x33: // FUCOMPP, FCOMPP: only with rm = 1
      return rm === 1 ? fComReg : fpuReg;
    case 0x08:
      return fLdSt;
    case 0x09: case 0x29: case 0x39:
      return fXch;
    case 0x0b: case 0x2a: case 0x2b: case 0x3a: case 0x3b:
      return fStSt;
    case 0x0c:
      return rm <= 1 ? fChsAbs : fpuReg;
    case 0x0d:
      return rm === 0 || rm === 6 ? fLdConst : fpuReg;
    case 0x3c:
      return rm === 0 ? fnstswAx : fpuReg;
    default:
      return fpuReg;
  }
}
