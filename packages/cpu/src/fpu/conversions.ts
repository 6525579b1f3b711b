/**
 * Conversions between x87 register values and memory formats: integers (FILD/FIST/FISTP),
 * IEEE single/double reals (FLD/FST m32real, m64real) and JavaScript doubles (the transcendentals
 * are computed in doubles). Results go to f.resS/resE/resM.
 */
import type { Fpu } from './fpu.ts';
import { RC_DOWN, RC_NEAREST, RC_UP, bitLen, rInexact, rOverflow, rQ, rSig, rTiny, rUp, roundFloat } from './round.ts';
import * as statusWordModule from './status-word.ts';
import * as valueClassModule from './value-class.ts';
import * as fastWindowModule from './fast-window.ts';
import { roundToInt } from './exact-arith.ts';

// Local bindings (not live imports) so the hot paths read constants, as in exec.ts and fast.ts.
const { SW_C1, SW_IE, SW_OE, SW_PE, SW_UE } = statusWordModule;
const { EXP_MAX, K_DENORMAL, K_INF, K_INVALID, K_NORMAL, K_QNAN, K_SNAN, K_ZERO, classify } = valueClassModule;
const { F64, FRAC52, HIDDEN52, U32, U64 } = fastWindowModule;

const MSB = 0x8000000000000000n;
const BIAS = 16383;

/** Loads an exact integer (FILD, FIADD ...) as the operand in res. */
export function fromInt(f: Fpu, v: bigint): void {
  if (v === 0n) {
    f.setRes(0, 0, 0n);
    return;
  }
  let s = 0;
  if (v < 0n) {
    s = 1;
    v = -v;
  }
  const bl = bitLen(v);
  f.setRes(s, bl - 1 + BIAS, v << BigInt(64 - bl));
}

/**
 * Converts a register value to a signed integer of `bits` bits for FIST/FISTP. Returns the
 * integer, or null if an unmasked invalid exception suppresses the store. Out-of-range, NaN and
 * infinite values store the integer indefinite (the most negative value) when IE is masked.
 */
export function toInt(f: Fpu, s: number, e: number, m: bigint, bits: number): bigint | null {
  const k = classify(e, m);
  const indefinite = -(1n << BigInt(bits - 1));
  if (k === K_INVALID || k === K_SNAN || k === K_QNAN || k === K_INF) {
    return f.signal(SW_IE) ? indefinite : null;
  }
  if (k === K_ZERO) {
    f.sw &= ~SW_C1;
    return 0n;
  }
  // A denormal source does not raise DE here (observed on hardware: FIST reports only PE).
  if (e - BIAS > 64) return f.signal(SW_IE) ? indefinite : null;
  roundToInt(f, s, e, m);
  const r = rSig;
  const limit = 1n << BigInt(bits - 1);
  if (s === 0 ? r >= limit : r > limit) return f.signal(SW_IE) ? indefinite : null;
  if (rUp) f.sw |= SW_C1;
  else f.sw &= ~SW_C1;
  if (rInexact && !f.signal(SW_PE)) {
    // PE unmasked: the rounded value is still stored (SDM vol. 1 §4.9.1.6).
  }
  return s !== 0 ? -r : r;
}

/**
 * Converts a register value to an IEEE single (p = 24) or double (p = 53) for FST. Returns the
 * bit pattern as a BigInt, or null if an unmasked exception suppresses the store.
 */
export function toIeee(f: Fpu, s: number, e: number, m: bigint, p: number): bigint | null {
  const ebits = p === 24 ? 8 : 11;
  const fbits = p - 1;
  const emax = (1 << (ebits - 1)) - 1;
  const signBit = BigInt(s) << BigInt(ebits + fbits);
  const expAll = BigInt((1 << ebits) - 1) << BigInt(fbits);
  const k = classify(e, m);
  if (k === K_INVALID) {
    if (!f.signal(SW_IE)) return null;
    f.sw &= ~SW_C1;
    return (1n << BigInt(ebits + fbits)) | expAll | (1n << BigInt(fbits - 1));
  }
  // Values stored without rounding leave C1 = 0 (measured: FST m32/m64 of a zero, an infinity
  // or a QNaN clears a C1 that was set, as any store that did not round up).
  if (k === K_QNAN || k === K_SNAN) {
    if (k === K_SNAN && !f.signal(SW_IE)) return null;
    f.sw &= ~SW_C1;
    return signBit | expAll | ((m >> BigInt(64 - p)) & ((1n << BigInt(fbits)) - 1n)) | (1n << BigInt(fbits - 1));
  }
  if (k === K_INF || k === K_ZERO) {
    f.sw &= ~SW_C1;
    return k === K_INF ? signBit | expAll : signBit;
  }
  const q = (e === 0 ? 1 : e) - BIAS - 63;
  const rc = f.rc;
  roundFloat(s, m, q, p, 1 - emax, emax, rc);
  if (rOverflow) {
    if ((f.cw & SW_OE) === 0) {
      f.signal(SW_OE);
      return null;
    }
    f.signal(SW_OE | SW_PE);
    if (rc === RC_NEAREST || (rc === RC_UP && s === 0) || (rc === RC_DOWN && s !== 0)) {
      f.sw |= SW_C1;
      return signBit | expAll;
    }
    f.sw &= ~SW_C1;
    return signBit | (expAll - (1n << BigInt(fbits))) | ((1n << BigInt(fbits)) - 1n);
  }
  if (rTiny && (f.cw & SW_UE) === 0) {
    f.signal(SW_UE);
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
  if (rUp) f.sw |= SW_C1;
  else f.sw &= ~SW_C1;
  if (rInexact) f.signal(rTiny ? SW_UE | SW_PE : SW_PE);
  return bits;
}

/**
 * Converts an IEEE single/double bit pattern to the register format (exact) into res.
 * Returns the operand class of the source (K_DENORMAL and K_SNAN matter to callers).
 */
export function fromIeee(fpu: Fpu, bits: bigint, p: number): number {
  const ebits = p === 24 ? 8 : 11;
  const fbits = p - 1;
  const emax = (1 << (ebits - 1)) - 1;
  const s = Number(bits >> BigInt(ebits + fbits)) & 1;
  const ex = Number((bits >> BigInt(fbits)) & BigInt((1 << ebits) - 1));
  const f = bits & ((1n << BigInt(fbits)) - 1n);
  if (ex === (1 << ebits) - 1) {
    fpu.setRes(s, EXP_MAX, MSB | (f << BigInt(64 - p)));
    if (f === 0n) return K_INF;
    return (f >> BigInt(fbits - 1)) !== 0n ? K_QNAN : K_SNAN;
  }
  if (ex === 0) {
    if (f === 0n) {
      fpu.setRes(s, 0, 0n);
      return K_ZERO;
    }
    const bl = bitLen(f);
    // value = f * 2^(1 - emax - fbits)
    const e = 1 - emax - fbits + bl - 1;
    fpu.setRes(s, e + BIAS, f << BigInt(64 - bl));
    return K_DENORMAL;
  }
  fpu.setRes(s, ex - emax + BIAS, MSB | (f << BigInt(64 - p)));
  return K_NORMAL;
}

/**
 * fromIeee for an m64real given as two dwords, without building the 64-bit pattern first
 * (FLD m64 and the DC arithmetic forms are hot in FP code).
 */
export function fromF64(f: Fpu, lo: number, hi: number): number {
  const ex = (hi >>> 20) & 0x7ff;
  if (ex === 0 || ex === 0x7ff) return fromIeee(f, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), 53);
  U32[0] = lo;
  U32[1] = hi;
  f.setRes(hi >>> 31, ex - 1023 + BIAS, ((U64[0]! & FRAC52) | HIDDEN52) << 11n);
  return K_NORMAL;
}

/** fromIeee for an m32real (FLD m32 and the D8 arithmetic forms). */
export function fromF32(f: Fpu, bits: number): number {
  const ex = (bits >>> 23) & 0xff;
  if (ex === 0 || ex === 0xff) return fromIeee(f, BigInt(bits >>> 0), 24);
  f.setRes(bits >>> 31, ex - 127 + BIAS, BigInt((bits & 0x7fffff) | 0x800000) << 40n);
  return K_NORMAL;
}

/** Converts a register value to the nearest double (transcendentals are computed in doubles). */
export function toDouble(s: number, e: number, m: bigint): number {
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
export function fromDouble(f: Fpu, v: number): void {
  F64[0] = v;
  const bits = (BigInt(U32[1]!) << 32n) | BigInt(U32[0]!);
  fromIeee(f, bits, 53);
}
