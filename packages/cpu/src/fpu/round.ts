/**
 * Exact rounding of a binary value `sig * 2^q` (sig a non-negative BigInt) to a floating-point
 * format with P significand bits and normal exponents eMin..eMax (IEEE 754 §4, Intel SDM vol. 1
 * §4.8.4 "Rounding"). Every x87 result that software can observe goes through here, so results
 * are correctly rounded for any precision control (24/53/64) and rounding control.
 *
 * Denormal results are rounded at the fixed position of the format's smallest denormal
 * (for the 80-bit register format with precision control P: 2^(eMin - P + 1)), which is where the
 * x87 rounds them. Tininess is detected after rounding (as the x87 does, SDM vol. 1 §4.9.1.5).
 *
 * Results go to module variables (no allocation besides the BigInts themselves).
 */

export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_ZERO = 3;

/** Rounded significand (an integer) and the power of two of its unit. */
export let rSig = 0n;
export let rQ = 0;
export let rInexact = false;
/** The magnitude was increased by rounding (the x87 reports this in C1). */
export let rUp = false;
export let rOverflow = false;
export let rTiny = false;

const B32 = 0xffffffffn;

/** Number of significant bits of x (0 for 0). */
export function bitLen(x: bigint): number {
  let n = 0;
  while (x > B32) {
    x >>= 32n;
    n += 32;
  }
  return n + 32 - Math.clz32(Number(x));
}

/** Rounds sig * 2^q to an integer multiple of 2^tq. Sets rSig, rInexact, rUp. */
function roundAt(sign: number, sig: bigint, q: number, tq: number, rc: number): bigint {
  const shift = tq - q;
  rUp = false;
  if (shift <= 0) {
    rInexact = false;
    return sig << BigInt(-shift);
  }
  const bl = bitLen(sig);
  let r: bigint;
  let rem: bigint;
  let half: bigint;
  if (shift > bl + 1) {
    r = 0n;
    rem = 1n;
    half = 2n; // any rem < half
  } else {
    const s = BigInt(shift);
    r = sig >> s;
    rem = sig & ((1n << s) - 1n);
    half = 1n << (s - 1n);
  }
  if (rem === 0n) {
    rInexact = false;
    return r;
  }
  rInexact = true;
  let inc: boolean;
  switch (rc) {
    case RC_NEAREST:
      inc = rem > half || (rem === half && (r & 1n) === 1n);
      break;
    case RC_DOWN:
      inc = sign !== 0;
      break;
    case RC_UP:
      inc = sign === 0;
      break;
    default:
      inc = false;
  }
  if (inc) {
    rUp = true;
    return r + 1n;
  }
  return r;
}

/**
 * Rounds sign * sig * 2^q (sig > 0) to P bits with normal exponent range eMin..eMax.
 * On return rSig * 2^rQ is the rounded magnitude (rSig < 2^P), unless rOverflow is set.
 */
export function roundFloat(sign: number, sig: bigint, q: number, p: number, eMin: number, eMax: number, rc: number): void {
  const bl = bitLen(sig);
  const e = q + bl - 1;
  let tq = (e < eMin ? eMin : e) - p + 1;
  let r = roundAt(sign, sig, q, tq, rc);
  if (bitLen(r) > p) {
    r >>= 1n;
    tq += 1;
  }
  rSig = r;
  rQ = tq;
  const re = r === 0n ? -0x7fffffff : tq + bitLen(r) - 1;
  rOverflow = re > eMax;
  rTiny = false;
  if (e < eMin) {
    // Tiny after rounding: the result rounded to P bits with an unbounded exponent is below 2^eMin.
    if (re < eMin) rTiny = true;
    else {
      const inexact = rInexact;
      const up = rUp;
      const r2 = roundAt(sign, sig, q, e - p + 1, rc);
      rTiny = bitLen(r2) <= p; // did not carry up to 2^eMin
      rInexact = inexact;
      rUp = up;
    }
  }
}

/** Rounds sign * sig * 2^q to an integer (FRNDINT, FIST, FBSTP). Sets rSig, rInexact, rUp. */
export function roundInt(sign: number, sig: bigint, q: number, rc: number): void {
  rSig = roundAt(sign, sig, q, 0, rc);
  rQ = 0;
}
