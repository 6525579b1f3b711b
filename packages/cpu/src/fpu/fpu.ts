/**
 * The x87 FPU's architectural state and its value arithmetic (Intel SDM vol. 1 chapter 8).
 *
 * Each of the eight physical registers holds an 80-bit extended value as sign, biased 15-bit
 * exponent and 64-bit significand (explicit integer bit) in typed arrays; ST(i) is physical
 * register (TOP + i) & 7. The tag word is kept as an "empty" bit per physical register; the full
 * two-bit tags that FSTENV/FSAVE store are computed from the register contents, and the tags
 * FLDENV/FRSTOR load are reduced to empty/non-empty, as the processor itself does (SDM vol. 1
 * §8.1.7).
 *
 * Arithmetic is exact: operands become sig * 2^q BigInts, the exact result is rounded once by
 * round.ts. Operations report their result in `resS`/`resE`/`resM` and return false when an
 * unmasked exception suppresses it.
 *
 * This file holds the state, the status/control/tag word accessors, exception signalling, the
 * register stack and the double-held fast representation. The rest is in files of its own:
 * status-word.ts (SW/CW bits), value-class.ts (operand classes), exact-arith.ts (NaN handling,
 * packReg, FADD..FDIV, FSQRT, FRNDINT), conversions.ts (integers, m32/m64 reals, doubles) and
 * fast-window.ts (the float64 window and its error-free transformations).
 */
import { RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO } from './round.ts';
import * as statusWordModule from './status-word.ts';
import * as valueClassModule from './value-class.ts';
import * as fastWindowModule from './fast-window.ts';
import { arith } from './exact-arith.ts';
import { toIeee, toInt } from './conversions.ts';

// Local bindings (not live imports) so the hot paths read constants, as in exec.ts and fast.ts.
const { CW_DEFAULT, EXC_MASK, SW_B, SW_C0, SW_C1, SW_C2, SW_C3, SW_CC, SW_DE, SW_ES, SW_IE, SW_OE, SW_PE, SW_SF, SW_UE, SW_ZE } = statusWordModule;
const { EXP_MAX, K_DENORMAL, K_INF, K_INVALID, K_NORMAL, K_QNAN, K_SNAN, K_ZERO, classify } = valueClassModule;
const { F64, FAST_EMAX, FAST_EMIN, FAST_LIMIT, FAST_MIN, POW2, U32, twoProductError } = fastWindowModule;

// The status/control word bits and operand classes live in their own files; they are re-exported
// here because the handlers and the tests import them from this module.
export { CW_DEFAULT, EXC_MASK, SW_B, SW_C0, SW_C1, SW_C2, SW_C3, SW_CC, SW_DE, SW_ES, SW_IE, SW_OE, SW_PE, SW_SF, SW_UE, SW_ZE };
export { EXP_MAX, K_DENORMAL, K_INF, K_INVALID, K_NORMAL, K_QNAN, K_SNAN, K_ZERO, classify };

const MSB = 0x8000000000000000n;
const QUIET = 0x4000000000000000n;
const M64 = 0xffffffffffffffffn;
const BIAS = 16383;

// Precision control (CW bits 8-9): 00 single, 01 reserved (treated as extended), 10 double, 11 extended.
const PRECISION = [24, 64, 53, 64];

export class Fpu {
  cw = CW_DEFAULT;
  /**
   * The status word without TOP (bits 11..13 are kept in `top`), except that C1 may be pending:
   * see `pend`. Code outside the fast path uses the `sw` accessor, which settles C1 first.
   */
  swBits = 0;
  /**
   * Lazy C1 of the last fast add (1), multiply (2) or divide (3), whose operands and double
   * result are in pendX. When PE is already set (and masked) and the control word is precision 53
   * with round to nearest, C1 (rounded up) is the only status bit a fast operation still has to
   * give, and the next x87 instruction usually overwrites it before anything reads it; so its
   * rounding error is computed only if the status word is read first. 0: C1 in swBits is valid.
   */
  pend = 0;
  readonly pendX = new Float64Array(3);
  top = 0;
  /** Bit n set: physical register n is empty. */
  empty = 0xff;
  readonly sgn = new Uint8Array(8);
  readonly exp = new Uint16Array(8);
  readonly man = new BigUint64Array(8);
  readonly manW = new Uint32Array(this.man.buffer); // man as words: p's lo = 2p, hi = 2p + 1
  /**
   * A second representation for the fast path: when dstate[p] is 2, physical register p holds
   * the double dbl[p] (a normal double inside the fast window, or a signed zero) and sgn/exp/man
   * are stale until
   * `phys()` materialises them. Every reader of sgn/exp/man goes through phys() or
   * materializeAll() first, so the two forms can never disagree.
   */
  readonly dbl = new Float64Array(9);
  readonly dstate = new Uint8Array(8);
  /**
   * dbl[8] is no register: the fast handlers put a memory operand there, so that values move
   * between typed arrays and never pass as doubles through calls (which would box them).
   * dblWords views dbl as 32-bit words (dbl[8] = words 16 and 17).
   */
  readonly dblWords = new Int32Array(this.dbl.buffer);
  /** fastCore's operands (0, 1), result (2) and its rounding error (3). */
  readonly fx = new Float64Array(4);
  /** Last instruction pointer, data pointer and opcode (for FSTENV/FSAVE). */
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;
  fop = 0;
  /** FERR# output: asserted while an unmasked exception is pending (legacy CR0.NE = 0 reporting). */
  ferr = false;
  /** Called when FERR# changes; a PC board routes it to IRQ 13 (see README). */
  onFerr: ((asserted: boolean) => void) | null = null;

  /**
   * Use the float64 fast path (precision 53, round to nearest, operands that are doubles, result
   * far from the double range's ends) and keep such values as doubles (dbl/dstate). Both are
   * bit-identical to the exact path; the flag exists so tests can compare the two.
   */
  fast = true;

  // Result of the last value operation.
  resS = 0;
  resE = 0;
  resM = 0n;

  /** FNINIT (SDM vol. 2 "FINIT/FNINIT"): registers keep their contents but are all tagged empty. */
  init(): void {
    this.cw = CW_DEFAULT;
    this.sw = 0;
    this.top = 0;
    this.empty = 0xff;
    this.fip = 0;
    this.fcs = 0;
    this.fdp = 0;
    this.fds = 0;
    this.fop = 0;
    this.setFerr(false);
  }

  /**
   * Power-on/RESET (SDM vol. 3A §9.1.1 table 9-1): CW 0040H (all exceptions unmasked, precision
   * 24), SW 0, TW 5555H (every register +0.0, tagged zero). Software runs FNINIT before use.
   */
  reset(): void {
    this.sgn.fill(0);
    this.exp.fill(0);
    this.man.fill(0n);
    this.dstate.fill(0);
    this.init();
    this.cw = 0x0040;
    this.empty = 0;
  }

  setFerr(on: boolean): void {
    if (this.ferr === on) return;
    this.ferr = on;
    if (this.onFerr !== null) this.onFerr(on);
  }

  /** The status word without TOP, C1 settled. */
  get sw(): number {
    if (this.pend !== 0) this.settleC1();
    return this.swBits;
  }

  set sw(v: number) {
    this.pend = 0;
    this.swBits = v;
  }

  /** Computes the pending C1 from the rounding error of the recorded operation. */
  private settleC1(): void {
    const op = this.pend;
    this.pend = 0;
    const x = this.pendX;
    const a = x[0]!;
    const b = x[1]!;
    const r = x[2]!;
    let err: number;
    if (op === 1) {
      const bb = r - a;
      err = a - (r - bb) + (b - bb);
    } else if (op === 2) err = twoProductError(a, b, r);
    else {
      const p = r * b;
      const rem = a - p - twoProductError(r, b, p);
      err = b > 0 ? rem : -rem;
    }
    if (err !== 0 && (err < 0) === (r > 0)) this.swBits |= SW_C1;
    else this.swBits &= ~SW_C1;
  }

  /**
   * Records the last fast operation (fx) for a lazy C1 if that is allowed: result inside the
   * window, precision 53 and round to nearest, PE masked and already set. False: decide now.
   */
  private deferC1(op: number): boolean {
    const fx = this.fx;
    const r = fx[2]!;
    const mag = r < 0 ? -r : r;
    if (!(mag >= FAST_MIN && mag < FAST_LIMIT)) return false;
    if ((this.cw & 0xf20) !== 0x220 || (this.swBits & SW_PE) === 0) return false;
    const x = this.pendX;
    x[0] = fx[0]!;
    x[1] = fx[1]!;
    x[2] = r;
    this.pend = op;
    return true;
  }

  get statusWord(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }

  set statusWord(v: number) {
    this.sw = v & ~0x3800 & 0xffff;
    this.top = (v >> 11) & 7;
  }

  /** Sets ES and B from the exception flags and the masks (after any change to either). */
  updateSummary(): void {
    if ((this.sw & ~this.cw & EXC_MASK) !== 0) {
      this.sw |= SW_ES | SW_B;
      this.setFerr(true);
    } else {
      this.sw &= ~(SW_ES | SW_B);
      this.setFerr(false);
    }
  }

  /** Records exception flags; returns true if all of them are masked (the default response applies). */
  signal(flags: number): boolean {
    this.sw |= flags;
    return (flags & ~this.cw & EXC_MASK) === 0;
  }

  get rc(): number {
    return (this.cw >> 10) & 3;
  }

  get precision(): number {
    return PRECISION[(this.cw >> 8) & 3]!;
  }

  // ---- the tag word ---------------------------------------------------------------------------

  /** Full tag word (SDM vol. 1 figure 8-7): 00 valid, 01 zero, 10 special, 11 empty. */
  get tagWord(): number {
    this.materializeAll();
    let t = 0;
    for (let p = 0; p < 8; p++) {
      let tag: number;
      if ((this.empty >> p) & 1) tag = 3;
      else {
        const e = this.exp[p]!;
        const m = this.man[p]!;
        if (e === 0 && m === 0n) tag = 1;
        else if (e === 0 || e === EXP_MAX || (m & MSB) === 0n) tag = 2;
        else tag = 0;
      }
      t |= tag << (p * 2);
    }
    return t;
  }

  set tagWord(v: number) {
    let em = 0;
    for (let p = 0; p < 8; p++) if (((v >> (p * 2)) & 3) === 3) em |= 1 << p;
    this.empty = em;
  }

  // ---- the register stack ---------------------------------------------------------------------

  /** Physical register of ST(i), with its 80-bit fields up to date (see dstate). */
  phys(i: number): number {
    const p = (this.top + i) & 7;
    if (this.dstate[p] !== 0) this.materialize(p);
    return p;
  }

  private materialize(p: number): void {
    F64[0] = this.dbl[p]!;
    const hi = U32[1]!;
    this.sgn[p] = hi >>> 31;
    const w = this.manW; // (writing the BigUint64Array would allocate a BigInt)
    if ((hi & 0x7fffffff) === 0) {
      this.exp[p] = 0; // a signed zero (the window holds no other value with a zero exponent)
      w[2 * p] = w[2 * p + 1] = 0;
    } else {
      this.exp[p] = ((hi >>> 20) & 0x7ff) - 1023 + BIAS;
      w[2 * p + 1] = 0x80000000 | ((hi & 0xfffff) << 11) | (U32[0]! >>> 21);
      w[2 * p] = U32[0]! << 11;
    }
    this.dstate[p] = 0;
  }

  materializeAll(): void {
    for (let p = 0; p < 8; p++) if (this.dstate[p] !== 0) this.materialize(p);
  }

  /** ST(i) = x, a normal double inside the fast window or a signed zero, kept as a double. */
  setStD(i: number, x: number): void {
    const p = (this.top + i) & 7;
    this.dbl[p] = x;
    this.dstate[p] = 2;
    this.empty &= ~(1 << p);
  }

  /**
   * The fast path may be tried: precision control 53 or 64 (fastOp itself accepts only exact
   * results unless the control word is precision 53, round to nearest).
   */
  get fastMode(): boolean {
    return (this.cw & 0x300) !== 0 && this.fast;
  }

  /**
   * ST(i) as a double if it is a non-empty normal double inside the fast window or a signed
   * zero, else NaN.
   */
  fastD(i: number): number {
    const p = (this.top + i) & 7;
    if (((this.empty >> p) & 1) !== 0 || !this.fast) return NaN;
    if (this.dstate[p] !== 0) return this.dbl[p]!;
    return this.fastD80(p);
  }

  /**
   * Physical register p is in use and held as a double, after converting it to the double form
   * if its 80-bit value is exactly one inside the window (or a zero).
   */
  usableD(p: number): boolean {
    if (((this.empty >> p) & 1) !== 0) return false;
    return this.dstate[p] !== 0 || this.promote(p);
  }

  private promote(p: number): boolean {
    if (!this.fast) return false;
    const x = this.fastD80(p);
    if (x !== x) return false;
    this.dbl[p] = x; // sgn/exp/man hold the same value: both forms agree
    this.dstate[p] = 2;
    return true;
  }

  /**
   * dbl[pd] = dbl[pd] kind dbl[ps] for the arithmetic kinds of exec.ts (0 add, 1 mul, 4 sub,
   * 5 subr, 6 div, 7 divr) when fastCore accepts the result; ps = 8 is a memory operand. The
   * caller has checked usableD(pd) and usableD(ps).
   */
  arithP(kind: number, pd: number, ps: number): boolean {
    const cw = this.cw;
    if ((cw & 0x300) === 0) return false; // precision 24 (see fastCore)
    const dbl = this.dbl;
    let a = dbl[pd]!;
    let b = dbl[ps]!;
    let op: number; // 1 add, 2 mul, 3 div (as `pend`)
    let r: number;
    if (kind === 0) {
      op = 1;
      r = a + b;
    } else if (kind === 1) {
      op = 2;
      r = a * b;
    } else if (kind === 4) {
      b = -b;
      op = 1;
      r = a + b;
    } else if (kind === 5) {
      const t = a;
      a = b;
      b = -t;
      op = 1;
      r = a + b;
    } else {
      if (kind === 7) {
        const t = a;
        a = b;
        b = t;
      }
      if (b === 0) return false; // ZE or IE
      op = 3;
      r = a / b;
    }
    const mag = r < 0 ? -r : r;
    if (mag >= FAST_MIN && mag < FAST_LIMIT && (cw & 0xf20) === 0x220 && (this.swBits & SW_PE) !== 0) {
      // The common case, inlined: C1 deferred (deferC1), no other flag to set.
      const x = this.pendX;
      x[0] = a;
      x[1] = b;
      x[2] = r;
      this.pend = op;
      dbl[pd] = r;
      this.dstate[pd] = 2;
      return true;
    }
    const fx = this.fx;
    fx[0] = a;
    fx[1] = b;
    if (!this.fastCore(op - 1)) return false;
    dbl[pd] = fx[2]!;
    this.dstate[pd] = 2;
    return true;
  }

  /**
   * Pushes a copy of physical register ps (or the memory operand in dbl[8]) held as a double.
   * C1 = 0, or 1 on stack overflow (as every load).
   */
  pushP(ps: number): void {
    this.pend = 0;
    this.swBits &= ~SW_C1;
    const p = (this.top - 1) & 7;
    if (((this.empty >> p) & 1) === 0) {
      this.pushCheck(); // overflow: the masked response or nothing
      return;
    }
    this.top = p;
    this.dbl[p] = this.dbl[ps]!;
    this.dstate[p] = 2;
    this.empty &= ~(1 << p);
  }

  /** fastD of a register held in 80-bit form (kept apart so fastD stays small enough to inline). */
  private fastD80(p: number): number {
    const e = this.exp[p]!;
    const lo = this.manW[2 * p]!; // words, not the BigInt (whose read allocates)
    const hi = this.manW[2 * p + 1]!;
    if (e < FAST_EMIN || e > FAST_EMAX) return e === 0 && (lo | hi) === 0 ? (this.sgn[p] ? -0 : 0) : NaN;
    if ((lo & 0x7ff) !== 0 || hi < 0x80000000) return NaN;
    const x = (hi * 4294967296 + lo) * POW2[e - FAST_EMIN]!; // 53 significant bits: exact
    return this.sgn[p] ? -x : x;
  }

  /**
   * The fast path's core: a op b for op 0 add, 1 mul, 2 div of operands inside the window (or
   * zeros), with the result in resD. Returns false (nothing changed) if the x87 result could
   * differ from the double one; the caller then takes the exact path. That is: the result
   * leaves the window (or is a zero that is not exact: an underflow), or it is inexact and
   * the control word is not precision 53 with round to nearest. An exact result is the x87's
   * under every rounding control and precision 53 or 64 (it needs no rounding), except the
   * sign of an exact zero sum, which is -0 when rounding down (SDM vol. 1 §4.8.3.4).
   */
  fastOp(op: number, a: number, b: number): boolean {
    this.fx[0] = a;
    this.fx[1] = b;
    return this.fastCore(op);
  }

  /** fastOp on fx[0] and fx[1], the result in fx[2]. */
  fastCore(op: number): boolean {
    if ((this.cw & 0x300) === 0) return false; // precision 24: even exact results may need rounding
    return op === 0 ? this.addCore() : op === 1 ? this.mulCore() : this.divCore();
  }

  // The three cores compute r = fl(a op b) and its exact error (exact - r, so its sign says
  // whether r was rounded up or down) into fx[2] and fx[3]; settle() decides. They are separate
  // small functions so each handler inlines only the one it needs.

  private addCore(): boolean {
    const fx = this.fx;
    const a = fx[0]!;
    const b = fx[1]!;
    const r = a + b;
    fx[2] = r;
    if (this.deferC1(1)) return true;
    const bb = r - a;
    fx[3] = a - (r - bb) + (b - bb); // TwoSum
    return this.settle(0);
  }

  private mulCore(): boolean {
    const fx = this.fx;
    const a = fx[0]!;
    const b = fx[1]!;
    const r = a * b;
    fx[2] = r;
    if (this.deferC1(2)) return true;
    fx[3] = twoProductError(a, b, r);
    return this.settle(1);
  }

  private divCore(): boolean {
    const fx = this.fx;
    const a = fx[0]!;
    const b = fx[1]!;
    if (b === 0) return false; // ZE or IE
    const r = a / b;
    fx[2] = r;
    if (this.deferC1(3)) return true;
    const p = r * b;
    const rem = a - p - twoProductError(r, b, p); // a - r*b exactly
    fx[3] = b > 0 ? rem : -rem;
    return this.settle(2);
  }

  private settle(op: number): boolean {
    this.pend = 0; // this operation defines C1 now
    const fx = this.fx;
    const r = fx[2]!;
    const err = fx[3]!;
    const cw = this.cw;
    const mag = r < 0 ? -r : r;
    if (!(mag >= FAST_MIN && mag < FAST_LIMIT)) {
      // Zeros that are exact: a sum that cancels (exact in doubles: a + b = 0 only if a = -b),
      // a zero factor, a zero dividend. A non-zero product or quotient that gave 0 underflowed.
      if (r !== 0) return false;
      const a = fx[0]!;
      if (op === 0 ? (cw & 0xc00) !== 0 : op === 1 ? a !== 0 && fx[1] !== 0 : a !== 0) return false;
      this.sw &= ~SW_C1;
      return true;
    }
    if (err === 0) this.sw &= ~SW_C1;
    else {
      if ((cw & 0xf00) !== 0x200) return false;
      if ((err < 0) === (r > 0)) this.sw |= SW_C1;
      else this.sw &= ~SW_C1;
      this.signal(SW_PE);
    }
    return true;
  }

  isEmpty(i: number): boolean {
    return ((this.empty >> ((this.top + i) & 7)) & 1) !== 0;
  }

  setSt(i: number, s: number, e: number, m: bigint): void {
    const p = (this.top + i) & 7;
    this.sgn[p] = s;
    this.exp[p] = e;
    this.man[p] = m;
    this.dstate[p] = 0;
    this.empty &= ~(1 << p);
  }

  /** Writes the last operation's result to ST(i). */
  setStRes(i: number): void {
    this.setSt(i, this.resS, this.resE, this.resM);
  }

  setStIndefinite(i: number): void {
    this.setSt(i, 1, EXP_MAX, 0xc000000000000000n);
  }

  pop(): void {
    this.empty |= 1 << this.top;
    this.top = (this.top + 1) & 7;
  }

  /**
   * Makes room for a push. Returns false if the push must not happen: stack overflow (ST(7) is
   * in use) with IE unmasked. With IE masked an overflow pushes the QNaN indefinite, and the
   * caller must not write the value (returns false too, after pushing the indefinite).
   */
  pushCheck(): boolean {
    const p = (this.top - 1) & 7;
    if (((this.empty >> p) & 1) === 0) {
      this.sw |= SW_C1;
      if (this.signal(SW_IE | SW_SF)) {
        this.top = p;
        this.setStIndefinite(0);
      }
      return false;
    }
    this.top = p;
    return true;
  }

  /** Stack underflow: C1 = 0, IE|SF; returns true if masked (store the indefinite). */
  underflow(): boolean {
    this.sw &= ~SW_C1;
    return this.signal(SW_IE | SW_SF);
  }

  /** C1 = 0 (a pending C1 is dropped, not settled). */
  clearC1(): void {
    this.pend = 0;
    this.swBits &= ~SW_C1;
  }

  /** Sets C0 C1 C2 C3 (a pending C1 is overwritten, not settled). */
  setCC(cc: number): void {
    this.pend = 0;
    this.swBits = (this.swBits & ~SW_CC) | cc;
  }

  // ---- value operations on (s, e, m) operands -------------------------------------------------

  setRes(s: number, e: number, m: bigint): void {
    this.resS = s;
    this.resE = e;
    this.resM = m;
  }

  setIndefinite(): void {
    this.setRes(1, EXP_MAX, 0xc000000000000000n);
  }

  /** See exact-arith.ts (kept as a method for callers outside the FPU folder). */
  arith(op: number, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint): boolean {
    return arith(this, op, as, ae, am, bs, be, bm);
  }

  /** See conversions.ts (kept as a method for callers outside the FPU folder). */
  toInt(s: number, e: number, m: bigint, bits: number): bigint | null {
    return toInt(this, s, e, m, bits);
  }

  /** See conversions.ts (kept as a method for callers outside the FPU folder). */
  toIeee(s: number, e: number, m: bigint, p: number): bigint | null {
    return toIeee(this, s, e, m, p);
  }

  /** Magnitude-and-sign comparison of two ordered operands: -1, 0, 1. */
  static compare(as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint): number {
    const az = ae === 0 && am === 0n;
    const bz = be === 0 && bm === 0n;
    if (az && bz) return 0;
    if (as !== bs) return as ? -1 : 1;
    const ea = ae === 0 ? 1 : ae;
    const eb = be === 0 ? 1 : be;
    let mag = ea !== eb ? (ea < eb ? -1 : 1) : am === bm ? 0 : am < bm ? -1 : 1;
    if (as) mag = -mag;
    return mag;
  }
}

export { RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO };

