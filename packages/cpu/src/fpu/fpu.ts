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
 */
import { RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO, bitLen, rInexact, rOverflow, rQ, rSig, rTiny, rUp, roundFloat, roundInt } from './round.ts';

// Status word bits (SDM vol. 1 figure 8-4).
export const SW_IE = 0x0001;
export const SW_DE = 0x0002;
export const SW_ZE = 0x0004;
export const SW_OE = 0x0008;
export const SW_UE = 0x0010;
export const SW_PE = 0x0020;
export const SW_SF = 0x0040;
export const SW_ES = 0x0080;
export const SW_C0 = 0x0100;
export const SW_C1 = 0x0200;
export const SW_C2 = 0x0400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
export const EXC_MASK = 0x3f;

export const CW_DEFAULT = 0x037f;

const MSB = 0x8000000000000000n;
const QUIET = 0x4000000000000000n;
const M64 = 0xffffffffffffffffn;
export const EXP_MAX = 0x7fff;
const BIAS = 16383;

// Operand classes.
export const K_ZERO = 0;
export const K_NORMAL = 1;
export const K_DENORMAL = 2;
export const K_INF = 3;
export const K_QNAN = 4;
export const K_SNAN = 5;
/** Unnormals, pseudo-NaNs, pseudo-infinities: invalid operands since the 80387. */
export const K_INVALID = 6;

export function classify(e: number, m: bigint): number {
  if (e === 0) return m === 0n ? K_ZERO : K_DENORMAL;
  if ((m & MSB) === 0n) return K_INVALID;
  if (e === EXP_MAX) {
    if ((m & ~MSB) === 0n) return K_INF;
    return (m & QUIET) !== 0n ? K_QNAN : K_SNAN;
  }
  return K_NORMAL;
}

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

  /**
   * NaN and invalid-operand handling shared by two-operand arithmetic (SDM vol. 1 table 4-7).
   * Returns 0 if both operands are ordinary, 1 if a result (NaN/indefinite) is set, -1 if IE is
   * unmasked and there is no result.
   */
  nanCheck2(ka: number, as: number, ae: number, am: bigint, kb: number, bs: number, be: number, bm: bigint): number {
    if (ka === K_INVALID || kb === K_INVALID) {
      if (!this.signal(SW_IE)) return -1;
      this.setIndefinite();
      return 1;
    }
    const an = ka === K_QNAN || ka === K_SNAN;
    const bn = kb === K_QNAN || kb === K_SNAN;
    if (!an && !bn) return 0;
    if ((ka === K_SNAN || kb === K_SNAN) && !this.signal(SW_IE)) return -1;
    let pickA: boolean;
    if (an && bn) {
      if (ka === K_QNAN && kb === K_SNAN) pickA = true;
      else if (ka === K_SNAN && kb === K_QNAN) pickA = false;
      else {
        const ma = am & ~QUIET;
        const mb = bm & ~QUIET;
        pickA = ma > mb || (ma === mb && as <= bs);
      }
    } else pickA = an;
    if (pickA) this.setRes(as, ae, am | QUIET);
    else this.setRes(bs, be, bm | QUIET);
    return 1;
  }

  /** Rounds sign * sig * 2^q into the register format under PC/RC, with the x87's responses. */
  packReg(sign: number, sig: bigint, q: number, p: number): boolean {
    if (sig === 0n) {
      this.setRes(sign, 0, 0n);
      this.sw &= ~SW_C1;
      return true;
    }
    const rc = this.rc;
    roundFloat(sign, sig, q, p, 1 - BIAS, BIAS, rc);
    let flags = 0;
    if (rOverflow) {
      if ((this.cw & SW_OE) !== 0) {
        flags = SW_OE | SW_PE;
        if (rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0)) {
          this.setRes(sign, EXP_MAX, MSB);
          this.sw |= SW_C1;
        } else {
          this.setRes(sign, EXP_MAX - 1, (M64 << BigInt(64 - p)) & M64);
          this.sw &= ~SW_C1;
        }
        this.signal(flags);
        return true;
      }
      // Unmasked overflow: deliver the result with the exponent scaled down by 3 * 2^13.
      roundFloat(sign, sig, q, p, -0x7fffffff, 0x7fffffff, rc);
      this.packUnbounded(sign, -24576);
      this.signal(SW_OE | (rInexact ? SW_PE : 0));
      return true;
    }
    if (rTiny && (this.cw & SW_UE) === 0) {
      roundFloat(sign, sig, q, p, -0x7fffffff, 0x7fffffff, rc);
      this.packUnbounded(sign, 24576);
      this.signal(SW_UE | (rInexact ? SW_PE : 0));
      return true;
    }
    if (rInexact) flags |= rTiny ? SW_UE | SW_PE : SW_PE;
    this.packRounded(sign);
    if (rUp) this.sw |= SW_C1;
    else this.sw &= ~SW_C1;
    if (flags !== 0) this.signal(flags);
    return true;
  }

  private packRounded(sign: number): void {
    const r = rSig;
    if (r === 0n) {
      this.setRes(sign, 0, 0n);
      return;
    }
    const bl = bitLen(r);
    const e = rQ + bl - 1;
    if (e >= 1 - BIAS) this.setRes(sign, e + BIAS, r << BigInt(64 - bl));
    else this.setRes(sign, 0, r << BigInt(rQ + BIAS + 62));
  }

  /**
   * The unmasked overflow/underflow response for register destinations: the exponent is scaled
   * by -/+ 24576 (SDM vol. 1 §8.5.4-8.5.5). A result still out of range after scaling becomes an
   * infinity or a zero (inexact), as measured on hardware.
   */
  private packUnbounded(sign: number, adjust: number): void {
    const r = rSig;
    const bl = bitLen(r);
    const e = rQ + bl - 1 + BIAS + adjust;
    if (e >= EXP_MAX) {
      this.setRes(sign, EXP_MAX, MSB);
      this.sw |= SW_C1 | SW_PE;
      return;
    }
    if (e <= 0) {
      this.setRes(sign, 0, 0n);
      this.sw = (this.sw & ~SW_C1) | SW_PE;
      return;
    }
    this.setRes(sign, e, r << BigInt(64 - bl));
    if (rUp) this.sw |= SW_C1;
    else this.sw &= ~SW_C1;
  }

  /**
   * a op b for op 0 = add, 1 = mul, 2 = div (subtraction is addition with b's sign flipped).
   * Returns false if an unmasked exception suppresses the result.
   */
  arith(op: number, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint): boolean {
    if (this.fast && fastArith(this, op, as, ae, am, bs, be, bm)) return true;
    const ka = classify(ae, am);
    const kb = classify(be, bm);
    const n = this.nanCheck2(ka, as, ae, am, kb, bs, be, bm);
    if (n !== 0) return n > 0;
    const s = op === 0 ? 0 : as ^ bs;
    // Invalid operations and exact special results (SDM vol. 1 §4.9.1.2, §8.5.1).
    if (ka === K_INF || kb === K_INF) {
      if (op === 0) {
        if (ka === K_INF && kb === K_INF && as !== bs) return this.invalid();
        this.setRes(ka === K_INF ? as : bs, EXP_MAX, MSB);
      } else if (op === 1) {
        if (ka === K_ZERO || kb === K_ZERO) return this.invalid();
        if ((ka === K_DENORMAL || kb === K_DENORMAL) && !this.signal(SW_DE)) return false;
        this.setRes(s, EXP_MAX, MSB);
      } else {
        if (ka === K_INF && kb === K_INF) return this.invalid();
        if ((ka === K_DENORMAL || kb === K_DENORMAL) && !this.signal(SW_DE)) return false;
        if (ka === K_INF) this.setRes(s, EXP_MAX, MSB);
        else this.setRes(s, 0, 0n);
      }
      this.sw &= ~SW_C1;
      return true;
    }
    if (op === 2 && kb === K_ZERO) {
      if (ka === K_ZERO) return this.invalid();
      // Division by zero takes precedence over a denormal dividend (no DE, as measured).
      if (!this.signal(SW_ZE)) return false;
      this.setRes(s, EXP_MAX, MSB);
      this.sw &= ~SW_C1;
      return true;
    }
    if ((ka === K_DENORMAL || kb === K_DENORMAL) && !this.signal(SW_DE)) return false;
    const p = this.precision;
    const aq = (ae === 0 ? 1 : ae) - BIAS - 63;
    const bq = (be === 0 ? 1 : be) - BIAS - 63;
    if (op === 1) {
      const prod = am * bm;
      return this.packReg(s, prod, aq + bq, p);
    }
    if (op === 2) {
      if (ka === K_ZERO) {
        this.setRes(s, 0, 0n);
        this.sw &= ~SW_C1;
        return true;
      }
      // Normalise both significands to [2^63, 2^64) so the quotient has at least 67 bits.
      const la = 64 - bitLen(am);
      const lb = 64 - bitLen(bm);
      const na = am << BigInt(la + 67);
      const nb = bm << BigInt(lb);
      let quo = na / nb;
      let qq = aq - la - 67 - (bq - lb);
      if (quo * nb !== na) {
        quo = (quo << 1n) | 1n;
        qq -= 1;
      }
      return this.packReg(s, quo, qq, p);
    }
    // Addition.
    if (ka === K_ZERO && kb === K_ZERO) {
      const zs = as === bs ? as : this.rc === RC_DOWN ? 1 : 0;
      this.setRes(zs, 0, 0n);
      this.sw &= ~SW_C1;
      return true;
    }
    if (ka === K_ZERO) return this.packReg(bs, bm, bq, p);
    if (kb === K_ZERO) return this.packReg(as, am, aq, p);
    let sa = am;
    let sb = bm;
    let qa = aq;
    let qb = bq;
    // A far smaller operand only contributes a sticky bit below the larger one's rounding point.
    if (qa - qb > 160) {
      sb = 1n;
      qb = qa - 160;
    } else if (qb - qa > 160) {
      sa = 1n;
      qa = qb - 160;
    }
    const qm = qa < qb ? qa : qb;
    let va = sa << BigInt(qa - qm);
    let vb = sb << BigInt(qb - qm);
    if (as) va = -va;
    if (bs) vb = -vb;
    const sum = va + vb;
    if (sum === 0n) {
      this.setRes(this.rc === RC_DOWN ? 1 : 0, 0, 0n);
      this.sw &= ~SW_C1;
      return true;
    }
    return sum < 0n ? this.packReg(1, -sum, qm, p) : this.packReg(0, sum, qm, p);
  }

  invalid(): boolean {
    if (!this.signal(SW_IE)) return false;
    this.setIndefinite();
    return true;
  }

  /** FSQRT. */
  sqrt(s: number, e: number, m: bigint): boolean {
    const k = classify(e, m);
    if (k === K_INVALID || k === K_SNAN) {
      if (!this.signal(SW_IE)) return false;
      if (k === K_INVALID) this.setIndefinite();
      else this.setRes(s, e, m | QUIET);
      return true;
    }
    if (k === K_QNAN || k === K_ZERO) {
      this.setRes(s, e, m);
      return true;
    }
    if (s !== 0) return this.invalid();
    if (k === K_INF) {
      this.setRes(0, e, m);
      return true;
    }
    if (k === K_DENORMAL && !this.signal(SW_DE)) return false;
    let q = e === 0 ? 1 - BIAS - 63 : e - BIAS - 63;
    // Scale to at least 140 bits with an even exponent, so the root has at least 70 bits.
    let shift = 140 - bitLen(m);
    if (((q - shift) & 1) !== 0) shift++;
    const v = m << BigInt(shift);
    q -= shift;
    let r = isqrt(v);
    let rq = q / 2;
    if (r * r !== v) {
      r = (r << 1n) | 1n;
      rq -= 1;
    }
    return this.packReg(0, r, rq, this.precision);
  }

  /** Rounds a finite register value to an integer value (FRNDINT; also FIST's first step). */
  roundToInt(s: number, e: number, m: bigint): void {
    const q = (e === 0 ? 1 : e) - BIAS - 63;
    if (q >= 0) {
      roundInt(s, m, 0, RC_ZERO); // already an integer: nothing to round
      return;
    }
    roundInt(s, m, q, this.rc);
  }

  /** FRNDINT on (s, e, m). */
  frndint(s: number, e: number, m: bigint): boolean {
    const k = classify(e, m);
    if (k === K_INVALID || k === K_SNAN) {
      if (!this.signal(SW_IE)) return false;
      if (k === K_INVALID) this.setIndefinite();
      else this.setRes(s, e, m | QUIET);
      return true;
    }
    if (k === K_QNAN || k === K_ZERO || k === K_INF) {
      this.setRes(s, e, m);
      return true;
    }
    if (k === K_DENORMAL && !this.signal(SW_DE)) return false;
    if (e - BIAS >= 63) {
      this.setRes(s, e, m);
      return true;
    }
    this.roundToInt(s, e, m);
    const r = rSig;
    const inexact = rInexact;
    const up = rUp;
    if (r === 0n) this.setRes(s, 0, 0n);
    else {
      const bl = bitLen(r);
      this.setRes(s, bl - 1 + BIAS, r << BigInt(64 - bl));
    }
    if (up) this.sw |= SW_C1;
    else this.sw &= ~SW_C1;
    if (inexact) this.signal(SW_PE);
    return true;
  }

  /** Loads an exact integer (FILD, FIADD ...) as the operand in res. */
  fromInt(v: bigint): void {
    if (v === 0n) {
      this.setRes(0, 0, 0n);
      return;
    }
    let s = 0;
    if (v < 0n) {
      s = 1;
      v = -v;
    }
    const bl = bitLen(v);
    this.setRes(s, bl - 1 + BIAS, v << BigInt(64 - bl));
  }

  /**
   * Converts a register value to a signed integer of `bits` bits for FIST/FISTP. Returns the
   * integer, or null if an unmasked invalid exception suppresses the store. Out-of-range, NaN and
   * infinite values store the integer indefinite (the most negative value) when IE is masked.
   */
  toInt(s: number, e: number, m: bigint, bits: number): bigint | null {
    const k = classify(e, m);
    const indefinite = -(1n << BigInt(bits - 1));
    if (k === K_INVALID || k === K_SNAN || k === K_QNAN || k === K_INF) {
      return this.signal(SW_IE) ? indefinite : null;
    }
    if (k === K_ZERO) {
      this.sw &= ~SW_C1;
      return 0n;
    }
    // A denormal source does not raise DE here (observed on hardware: FIST reports only PE).
    if (e - BIAS > 64) return this.signal(SW_IE) ? indefinite : null;
    this.roundToInt(s, e, m);
    const r = rSig;
    const limit = 1n << BigInt(bits - 1);
    if (s === 0 ? r >= limit : r > limit) return this.signal(SW_IE) ? indefinite : null;
    if (rUp) this.sw |= SW_C1;
    else this.sw &= ~SW_C1;
    if (rInexact && !this.signal(SW_PE)) {
      // PE unmasked: the rounded value is still stored (SDM vol. 1 §4.9.1.6).
    }
    return s !== 0 ? -r : r;
  }

  /**
   * Converts a register value to an IEEE single (p = 24) or double (p = 53) for FST. Returns the
   * bit pattern as a BigInt, or null if an unmasked exception suppresses the store.
   */
  toIeee(s: number, e: number, m: bigint, p: number): bigint | null {
    const ebits = p === 24 ? 8 : 11;
    const fbits = p - 1;
    const emax = (1 << (ebits - 1)) - 1;
    const signBit = BigInt(s) << BigInt(ebits + fbits);
    const expAll = BigInt((1 << ebits) - 1) << BigInt(fbits);
    const k = classify(e, m);
    if (k === K_INVALID) {
      if (!this.signal(SW_IE)) return null;
      this.sw &= ~SW_C1;
      return (1n << BigInt(ebits + fbits)) | expAll | (1n << BigInt(fbits - 1));
    }
    // Values stored without rounding leave C1 = 0 (measured: FST m32/m64 of a zero, an infinity
    // or a QNaN clears a C1 that was set, as any store that did not round up).
    if (k === K_QNAN || k === K_SNAN) {
      if (k === K_SNAN && !this.signal(SW_IE)) return null;
      this.sw &= ~SW_C1;
      return signBit | expAll | ((m >> BigInt(64 - p)) & ((1n << BigInt(fbits)) - 1n)) | (1n << BigInt(fbits - 1));
    }
    if (k === K_INF || k === K_ZERO) {
      this.sw &= ~SW_C1;
      return k === K_INF ? signBit | expAll : signBit;
    }
    const q = (e === 0 ? 1 : e) - BIAS - 63;
    const rc = this.rc;
    roundFloat(s, m, q, p, 1 - emax, emax, rc);
    if (rOverflow) {
      if ((this.cw & SW_OE) === 0) {
        this.signal(SW_OE);
        return null;
      }
      this.signal(SW_OE | SW_PE);
      if (rc === RC_NEAREST || (rc === RC_UP && s === 0) || (rc === RC_DOWN && s !== 0)) {
        this.sw |= SW_C1;
        return signBit | expAll;
      }
      this.sw &= ~SW_C1;
      return signBit | (expAll - (1n << BigInt(fbits))) | ((1n << BigInt(fbits)) - 1n);
    }
    if (rTiny && (this.cw & SW_UE) === 0) {
      this.signal(SW_UE);
      return null;
    }
    const r = rSig;
    let bits: bigint;
    if (r === 0n) bits = signBit;
    else {
      const bl = bitLen(r);
      const ex = rQ + bl - 1;
      if (ex >= 1 - emax) bits = signBit | (BigInt(ex + emax) << BigInt(fbits)) | ((r << BigInt(p - bl)) & ((1n << BigInt(fbits)) - 1n));
      else bits = signBit | (r << BigInt(rQ - (1 - emax - fbits)));
    }
    if (rUp) this.sw |= SW_C1;
    else this.sw &= ~SW_C1;
    if (rInexact) this.signal(rTiny ? SW_UE | SW_PE : SW_PE);
    return bits;
  }

  /**
   * Converts an IEEE single/double bit pattern to the register format (exact) into res.
   * Returns the operand class of the source (K_DENORMAL and K_SNAN matter to callers).
   */
  fromIeee(bits: bigint, p: number): number {
    const ebits = p === 24 ? 8 : 11;
    const fbits = p - 1;
    const emax = (1 << (ebits - 1)) - 1;
    const s = Number(bits >> BigInt(ebits + fbits)) & 1;
    const ex = Number((bits >> BigInt(fbits)) & BigInt((1 << ebits) - 1));
    const f = bits & ((1n << BigInt(fbits)) - 1n);
    if (ex === (1 << ebits) - 1) {
      this.setRes(s, EXP_MAX, MSB | (f << BigInt(64 - p)));
      if (f === 0n) return K_INF;
      return (f >> BigInt(fbits - 1)) !== 0n ? K_QNAN : K_SNAN;
    }
    if (ex === 0) {
      if (f === 0n) {
        this.setRes(s, 0, 0n);
        return K_ZERO;
      }
      const bl = bitLen(f);
      // value = f * 2^(1 - emax - fbits)
      const e = 1 - emax - fbits + bl - 1;
      this.setRes(s, e + BIAS, f << BigInt(64 - bl));
      return K_DENORMAL;
    }
    this.setRes(s, ex - emax + BIAS, MSB | (f << BigInt(64 - p)));
    return K_NORMAL;
  }

  /**
   * fromIeee for an m64real given as two dwords, without building the 64-bit pattern first
   * (FLD m64 and the DC arithmetic forms are hot in FP code).
   */
  fromF64(lo: number, hi: number): number {
    const ex = (hi >>> 20) & 0x7ff;
    if (ex === 0 || ex === 0x7ff) return this.fromIeee((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), 53);
    U32[0] = lo;
    U32[1] = hi;
    this.setRes(hi >>> 31, ex - 1023 + BIAS, ((U64[0]! & FRAC52) | HIDDEN52) << 11n);
    return K_NORMAL;
  }

  /** fromIeee for an m32real (FLD m32 and the D8 arithmetic forms). */
  fromF32(bits: number): number {
    const ex = (bits >>> 23) & 0xff;
    if (ex === 0 || ex === 0xff) return this.fromIeee(BigInt(bits >>> 0), 24);
    this.setRes(bits >>> 31, ex - 127 + BIAS, BigInt((bits & 0x7fffff) | 0x800000) << 40n);
    return K_NORMAL;
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

  /** Converts a register value to the nearest double (transcendentals are computed in doubles). */
  static toDouble(s: number, e: number, m: bigint): number {
    const k = classify(e, m);
    if (k === K_ZERO) return s ? -0 : 0;
    if (k === K_INF) return s ? -Infinity : Infinity;
    if (k === K_QNAN || k === K_SNAN || k === K_INVALID) return NaN;
    const q = (e === 0 ? 1 : e) - BIAS - 63;
    roundFloat(s, m, q, 53, -1022, 1023, RC_NEAREST);
    if (rOverflow) return s ? -Infinity : Infinity;
    const v = Number(rSig) * 2 ** rQ;
    return s ? -v : v;
  }

  /** Converts a double exactly into res. */
  fromDouble(v: number): void {
    F64[0] = v;
    const bits = (BigInt(U32[1]!) << 32n) | BigInt(U32[0]!);
    this.fromIeee(bits, 53);
  }
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const U64 = new BigUint64Array(F64.buffer);

// ---- the float64 fast path ----------------------------------------------------------------------
//
// With precision control 53 and round-to-nearest, an x87 add/sub/mul/div of two operands that are
// exactly doubles is the IEEE double operation, as long as the double result is normal and far
// from overflow (the x87's wider exponent range then makes no difference). The flags need the
// exact rounding error: its sign gives C1 (rounded up in magnitude) and its being non-zero PE.
// The error is computed exactly with error-free transformations (Knuth's TwoSum; Dekker's
// TwoProduct with Veltkamp splitting; the division remainder a - q*b), which are exact when no
// intermediate overflows or underflows — hence the 2^-960..2^960 window on operands and result.

const FAST_LIMIT = 2 ** 960;
const FAST_MIN = 2 ** -960;
/** Operand exponents (biased) whose doubles lie within the window. */
const FAST_EMIN = BIAS - 959;
const FAST_EMAX = BIAS + 959;
/** 2^(e - BIAS - 63) for biased e in FAST_EMIN..FAST_EMAX. */
const POW2 = new Float64Array(FAST_EMAX - FAST_EMIN + 1);
for (let k = 0; k < POW2.length; k++) POW2[k] = 2 ** (k + FAST_EMIN - BIAS - 63);
const LOW11_MSB = 0x80000000000007ffn;
const FRAC52 = 0xfffffffffffffn;
const HIDDEN52 = 0x10000000000000n;
const SPLIT = 134217729; // 2^27 + 1

/** The exact error of p = fl(a * b): a * b = p + result. */
function twoProductError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

function fastArith(f: Fpu, op: number, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint): boolean {
  if (ae < FAST_EMIN || ae > FAST_EMAX || be < FAST_EMIN || be > FAST_EMAX) return false;
  if ((am & LOW11_MSB) !== MSB || (bm & LOW11_MSB) !== MSB) return false;
  let a = Number(am) * POW2[ae - FAST_EMIN]!;
  let b = Number(bm) * POW2[be - FAST_EMIN]!;
  if (as) a = -a;
  if (bs) b = -b;
  if (!f.fastOp(op, a, b)) return false;
  F64[0] = f.fx[2]!;
  const hi = U32[1]!;
  if ((hi & 0x7fffffff) === 0) f.setRes(hi >>> 31, 0, 0n);
  else f.setRes(hi >>> 31, ((hi >>> 20) & 0x7ff) - 1023 + BIAS, ((U64[0]! & FRAC52) | HIDDEN52) << 11n);
  return true;
}

/** Integer square root (floor) by Newton's method from a double estimate. */
function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  const bl = bitLen(v);
  let x = 1n << BigInt((bl >> 1) + 1); // >= sqrt(v)
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export { RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO };
