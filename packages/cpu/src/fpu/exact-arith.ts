/**
 * Exact x87 arithmetic on register values (Intel SDM vol. 1 chapter 8): NaN and
 * invalid-operand handling for two operands, rounding sign * sig * 2^q into the register format
 * under precision and rounding control (packReg, with the overflow/underflow responses), FADD/
 * FSUB/FMUL/FDIV (arith, which tries the float64 window of fast-window.ts first), FSQRT, and
 * FRNDINT. Operands become sig * 2^q BigInts and the exact result is rounded once by round.ts;
 * results go to f.resS/resE/resM, and false means an unmasked exception suppressed the result.
 */
import type { Fpu } from './fpu.ts';
import { RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO, bitLen, rInexact, rOverflow, rQ, rSig, rTiny, rUp, roundFloat, roundInt } from './round.ts';
import * as statusWordModule from './status-word.ts';
import * as valueClassModule from './value-class.ts';
import * as fastWindowModule from './fast-window.ts';

// Local bindings (not live imports) so the hot paths read constants, as in exec.ts and fast.ts.
const { SW_C1, SW_DE, SW_IE, SW_OE, SW_PE, SW_UE, SW_ZE } = statusWordModule;
const { EXP_MAX, K_DENORMAL, K_INF, K_INVALID, K_QNAN, K_SNAN, K_ZERO, classify } = valueClassModule;
const { fastArith } = fastWindowModule;

const MSB = 0x8000000000000000n;
const QUIET = 0x4000000000000000n;
const M64 = 0xffffffffffffffffn;
const BIAS = 16383;

/**
 * NaN and invalid-operand handling shared by two-operand arithmetic (SDM vol. 1 table 4-7).
 * Returns 0 if both operands are ordinary, 1 if a result (NaN/indefinite) is set, -1 if IE is
 * unmasked and there is no result.
 */
export function nanCheck2(f: Fpu, ka: number, as: number, ae: number, am: bigint, kb: number, bs: number, be: number, bm: bigint): number {
  if (ka === K_INVALID || kb === K_INVALID) {
    if (!f.signal(SW_IE)) return -1;
    f.setIndefinite();
    return 1;
  }
  const an = ka === K_QNAN || ka === K_SNAN;
  const bn = kb === K_QNAN || kb === K_SNAN;
  if (!an && !bn) return 0;
  if ((ka === K_SNAN || kb === K_SNAN) && !f.signal(SW_IE)) return -1;
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
  if (pickA) f.setRes(as, ae, am | QUIET);
  else f.setRes(bs, be, bm | QUIET);
  return 1;
}

/** Rounds sign * sig * 2^q into the register format under PC/RC, with the x87's responses. */
export function packReg(f: Fpu, sign: number, sig: bigint, q: number, p: number): boolean {
  if (sig === 0n) {
    f.setRes(sign, 0, 0n);
    f.sw &= ~SW_C1;
    return true;
  }
  const rc = f.rc;
  roundFloat(sign, sig, q, p, 1 - BIAS, BIAS, rc);
  let flags = 0;
  if (rOverflow) {
    if ((f.cw & SW_OE) !== 0) {
      flags = SW_OE | SW_PE;
      if (rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0)) {
        f.setRes(sign, EXP_MAX, MSB);
        f.sw |= SW_C1;
      } else {
        f.setRes(sign, EXP_MAX - 1, (M64 << BigInt(64 - p)) & M64);
        f.sw &= ~SW_C1;
      }
      f.signal(flags);
      return true;
    }
    // Unmasked overflow: deliver the result with the exponent scaled down by 3 * 2^13.
    roundFloat(sign, sig, q, p, -0x7fffffff, 0x7fffffff, rc);
    packUnbounded(f, sign, -24576);
    f.signal(SW_OE | (rInexact ? SW_PE : 0));
    return true;
  }
  if (rTiny && (f.cw & SW_UE) === 0) {
    roundFloat(sign, sig, q, p, -0x7fffffff, 0x7fffffff, rc);
    packUnbounded(f, sign, 24576);
    f.signal(SW_UE | (rInexact ? SW_PE : 0));
    return true;
  }
  if (rInexact) flags |= rTiny ? SW_UE | SW_PE : SW_PE;
  packRounded(f, sign);
  if (rUp) f.sw |= SW_C1;
  else f.sw &= ~SW_C1;
  if (flags !== 0) f.signal(flags);
  return true;
}

export function packRounded(f: Fpu, sign: number): void {
  const r = rSig;
  if (r === 0n) {
    f.setRes(sign, 0, 0n);
    return;
  }
  const bl = bitLen(r);
  const e = rQ + bl - 1;
  if (e >= 1 - BIAS) f.setRes(sign, e + BIAS, r << BigInt(64 - bl));
  else f.setRes(sign, 0, r << BigInt(rQ + BIAS + 62));
}

/**
 * The unmasked overflow/underflow response for register destinations: the exponent is scaled
 * by -/+ 24576 (SDM vol. 1 §8.5.4-8.5.5). A result still out of range after scaling becomes an
 * infinity or a zero (inexact), as measured on hardware.
 */
export function packUnbounded(f: Fpu, sign: number, adjust: number): void {
  const r = rSig;
  const bl = bitLen(r);
  const e = rQ + bl - 1 + BIAS + adjust;
  if (e >= EXP_MAX) {
    f.setRes(sign, EXP_MAX, MSB);
    f.sw |= SW_C1 | SW_PE;
    return;
  }
  if (e <= 0) {
    f.setRes(sign, 0, 0n);
    f.sw = (f.sw & ~SW_C1) | SW_PE;
    return;
  }
  f.setRes(sign, e, r << BigInt(64 - bl));
  if (rUp) f.sw |= SW_C1;
  else f.sw &= ~SW_C1;
}

/**
 * a op b for op 0 = add, 1 = mul, 2 = div (subtraction is addition with b's sign flipped).
 * Returns false if an unmasked exception suppresses the result.
 */
export function arith(f: Fpu, op: number, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint): boolean {
  if (f.fast && fastArith(f, op, as, ae, am, bs, be, bm)) return true;
  const ka = classify(ae, am);
  const kb = classify(be, bm);
  const n = nanCheck2(f, ka, as, ae, am, kb, bs, be, bm);
  if (n !== 0) return n > 0;
  const s = op === 0 ? 0 : as ^ bs;
  // Invalid operations and exact special results (SDM vol. 1 §4.9.1.2, §8.5.1).
  if (ka === K_INF || kb === K_INF) {
    if (op === 0) {
      if (ka === K_INF && kb === K_INF && as !== bs) return invalid(f);
      f.setRes(ka === K_INF ? as : bs, EXP_MAX, MSB);
    } else if (op === 1) {
      if (ka === K_ZERO || kb === K_ZERO) return invalid(f);
      if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return false;
      f.setRes(s, EXP_MAX, MSB);
    } else {
      if (ka === K_INF && kb === K_INF) return invalid(f);
      if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return false;
      if (ka === K_INF) f.setRes(s, EXP_MAX, MSB);
      else f.setRes(s, 0, 0n);
    }
    f.sw &= ~SW_C1;
    return true;
  }
  if (op === 2 && kb === K_ZERO) {
    if (ka === K_ZERO) return invalid(f);
    // Division by zero takes precedence over a denormal dividend (no DE, as measured).
    if (!f.signal(SW_ZE)) return false;
    f.setRes(s, EXP_MAX, MSB);
    f.sw &= ~SW_C1;
    return true;
  }
  if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return false;
  const p = f.precision;
  const aq = (ae === 0 ? 1 : ae) - BIAS - 63;
  const bq = (be === 0 ? 1 : be) - BIAS - 63;
  if (op === 1) {
    const prod = am * bm;
    return packReg(f, s, prod, aq + bq, p);
  }
  if (op === 2) {
    if (ka === K_ZERO) {
      f.setRes(s, 0, 0n);
      f.sw &= ~SW_C1;
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
    return packReg(f, s, quo, qq, p);
  }
  // Addition.
  if (ka === K_ZERO && kb === K_ZERO) {
    const zs = as === bs ? as : f.rc === RC_DOWN ? 1 : 0;
    f.setRes(zs, 0, 0n);
    f.sw &= ~SW_C1;
    return true;
  }
  if (ka === K_ZERO) return packReg(f, bs, bm, bq, p);
  if (kb === K_ZERO) return packReg(f, as, am, aq, p);
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
    f.setRes(f.rc === RC_DOWN ? 1 : 0, 0, 0n);
    f.sw &= ~SW_C1;
    return true;
  }
  return sum < 0n ? packReg(f, 1, -sum, qm, p) : packReg(f, 0, sum, qm, p);
}

export function invalid(f: Fpu): boolean {
  if (!f.signal(SW_IE)) return false;
  f.setIndefinite();
  return true;
}

/** FSQRT. */
export function sqrt(f: Fpu, s: number, e: number, m: bigint): boolean {
  const k = classify(e, m);
  if (k === K_INVALID || k === K_SNAN) {
    if (!f.signal(SW_IE)) return false;
    if (k === K_INVALID) f.setIndefinite();
    else f.setRes(s, e, m | QUIET);
    return true;
  }
  if (k === K_QNAN || k === K_ZERO) {
    f.setRes(s, e, m);
    return true;
  }
  if (s !== 0) return invalid(f);
  if (k === K_INF) {
    f.setRes(0, e, m);
    return true;
  }
  if (k === K_DENORMAL && !f.signal(SW_DE)) return false;
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
  return packReg(f, 0, r, rq, f.precision);
}

/** Rounds a finite register value to an integer value (FRNDINT; also FIST's first step). */
export function roundToInt(f: Fpu, s: number, e: number, m: bigint): void {
  const q = (e === 0 ? 1 : e) - BIAS - 63;
  if (q >= 0) {
    roundInt(s, m, 0, RC_ZERO); // already an integer: nothing to round
    return;
  }
  roundInt(s, m, q, f.rc);
}

/** FRNDINT on (s, e, m). */
export function frndint(f: Fpu, s: number, e: number, m: bigint): boolean {
  const k = classify(e, m);
  if (k === K_INVALID || k === K_SNAN) {
    if (!f.signal(SW_IE)) return false;
    if (k === K_INVALID) f.setIndefinite();
    else f.setRes(s, e, m | QUIET);
    return true;
  }
  if (k === K_QNAN || k === K_ZERO || k === K_INF) {
    f.setRes(s, e, m);
    return true;
  }
  if (k === K_DENORMAL && !f.signal(SW_DE)) return false;
  if (e - BIAS >= 63) {
    f.setRes(s, e, m);
    return true;
  }
  roundToInt(f, s, e, m);
  const r = rSig;
  const inexact = rInexact;
  const up = rUp;
  if (r === 0n) f.setRes(s, 0, 0n);
  else {
    const bl = bitLen(r);
    f.setRes(s, bl - 1 + BIAS, r << BigInt(64 - bl));
  }
  if (up) f.sw |= SW_C1;
  else f.sw &= ~SW_C1;
  if (inexact) f.signal(SW_PE);
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
