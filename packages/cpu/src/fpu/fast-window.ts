/**
 * The window in which x87 add/sub/mul/div on double-valued operands is done in float64 (used by
 * Fpu.fastOp/arith), the error-free transformations that give its exact rounding error, and the
 * float64 scratch views shared by the conversions.
 */
import type { Fpu } from './fpu.ts';

const MSB = 0x8000000000000000n;
const BIAS = 16383;

/** Scratch views of one double, for moving bits between doubles and integers without allocating. */
export const F64 = new Float64Array(1);
export const U32 = new Uint32Array(F64.buffer);
export const U64 = new BigUint64Array(F64.buffer);

// ---- the float64 fast path ----------------------------------------------------------------------
//
// With precision control 53 and round-to-nearest, an x87 add/sub/mul/div of two operands that are
// exactly doubles is the IEEE double operation, as long as the double result is normal and far
// from overflow (the x87's wider exponent range then makes no difference). The flags need the
// exact rounding error: its sign gives C1 (rounded up in magnitude) and its being non-zero PE.
// The error is computed exactly with error-free transformations (Knuth's TwoSum; Dekker's
// TwoProduct with Veltkamp splitting; the division remainder a - q*b), which are exact when no
// intermediate overflows or underflows — hence the 2^-960..2^960 window on operands and result.

export const FAST_LIMIT = 2 ** 960;
export const FAST_MIN = 2 ** -960;
/** Operand exponents (biased) whose doubles lie within the window. */
export const FAST_EMIN = BIAS - 959;
export const FAST_EMAX = BIAS + 959;
/** 2^(e - BIAS - 63) for biased e in FAST_EMIN..FAST_EMAX. */
export const POW2 = new Float64Array(FAST_EMAX - FAST_EMIN + 1);
for (let k = 0; k < POW2.length; k++) POW2[k] = 2 ** (k + FAST_EMIN - BIAS - 63);
const LOW11_MSB = 0x80000000000007ffn;
export const FRAC52 = 0xfffffffffffffn;
export const HIDDEN52 = 0x10000000000000n;
const SPLIT = 134217729; // 2^27 + 1

/** The exact error of p = fl(a * b): a * b = p + result. */
export function twoProductError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

export function fastArith(f: Fpu, op: number, as: number, ae: number, am: bigint, bs: number, be: number, bm: bigint): boolean {
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
