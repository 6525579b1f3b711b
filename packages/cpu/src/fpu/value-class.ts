/**
 * Operand classes of an 80-bit extended value (zero, normal, denormal, infinity, QNaN, SNaN and
 * the encodings the x87 rejects as invalid operands), from its biased exponent and 64-bit
 * significand with explicit integer bit (Intel SDM vol. 1 chapter 8).
 */

const MSB = 0x8000000000000000n;
const QUIET = 0x4000000000000000n;
export const EXP_MAX = 0x7fff;

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
