/**
 * Exact x87 arithmetic on 32-bit words, without BigInt, for the common case: finite normal (or
 * zero) operands whose result is normal in the register format (Intel SDM vol. 1 §4.8.3,
 * §8.1.5). It gives the same result, C1 and PE as Fpu.arith (the BigInt path) for every
 * precision control (24/53/64) and rounding control, and refuses everything else — denormal,
 * infinite, NaN or unsupported operands, a zero divisor, a result that would be tiny before
 * rounding or overflow after it — so the caller can take the BigInt path with nothing changed.
 *
 * Operands are loaded into OPW/OPN (slot 0 = a, 1 = b): sign, biased exponent (0 for a zero)
 * and the 64-bit significand as words hi:lo. The result goes to RES (sign, exponent, hi, lo)
 * and RES_F (C1 = rounded up, PE = inexact). Words are kept in typed arrays, never passed as
 * call arguments, so V8 does not box the values above 2^30.
 *
 * Every intermediate is an integer below 2^53, so doubles hold it exactly: 16x16-bit partial
 * products (< 2^32) and their column sums, a 32-bit quotient digit times a 16-bit limb (< 2^49),
 * words added with carries (< 2^34); `>>> 0` and `& 0xffff` split them (ToUint32/ToInt32 are
 * exact modulo 2^32). Rounding is the one step of IEEE 754 §4.3 at the precision control's
 * position, with guard and sticky bits (SDM vol. 1 §4.8.4).
 */

const BIAS = 16383;
const TWO32 = 4294967296;
const TWO16 = 65536;

/** Operand words: [a.hi, a.lo, b.hi, b.lo]. */
export const OPW = new Uint32Array(4);
/** Operand sign and biased exponent: [a.sign, a.exp, b.sign, b.exp]; exp 0 is a zero. */
export const OPN = new Int32Array(4);
/** Result: sign, biased exponent, significand hi, lo. */
export const RES = new Uint32Array(4);
/** Result flags: [rounded up in magnitude (C1), inexact (PE)]. */
export const RES_F = new Uint8Array(2);

/** divX's quotient digits. */
const Q = new Float64Array(3);

/**
 * Rounds the positive value h:l:g:st * 2^(e - BIAS - 63) — h:l in RES[2], RES[3] with bit 31 of
 * h set; g the bit below l; st non-zero if any bit below g is — to the precision control of cw,
 * under its rounding control, into RES. False if e is outside 1..0x7ffe before or after
 * rounding. (h and l travel in RES, not as arguments: V8 would box call arguments above 2^30.)
 */
function roundTo(cw: number, s: number, e: number, g: number, st: number): boolean {
  if (e < 1 || e > 0x7ffe) return false;
  let h = RES[2]!;
  let l = RES[3]!;
  const pc = (cw >> 8) & 3;
  let guard: number;
  let sticky: number;
  let lsb: number;
  let unitHi = 0;
  let unitLo = 0;
  if (pc === 2) {
    // 53 bits: the low 11 bits of l are below the rounding point.
    const r = l & 0x7ff;
    guard = r >>> 10;
    sticky = (r & 0x3ff) | g | st;
    lsb = (l >>> 11) & 1;
    l = (l & ~0x7ff) >>> 0;
    unitLo = 0x800;
  } else if (pc === 0) {
    // 24 bits: the low 8 bits of h and all of l.
    const r = h & 0xff;
    guard = r >>> 7;
    sticky = (r & 0x7f) | l | g | st;
    lsb = (h >>> 8) & 1;
    h = (h & ~0xff) >>> 0;
    l = 0;
    unitHi = 0x100;
  } else {
    // 64 bits (and the reserved encoding 01, which the x87 treats as 64).
    guard = g;
    sticky = st;
    lsb = l & 1;
    unitLo = 1;
  }
  const inexact = (guard | sticky) !== 0;
  let up = false;
  if (inexact) {
    const rc = (cw >> 10) & 3;
    if (rc === 0) up = guard !== 0 && (sticky !== 0 || lsb !== 0);
    else if (rc === 1) up = s !== 0;
    else if (rc === 2) up = s === 0;
  }
  if (up) {
    let nl = l + unitLo;
    let nh = h + unitHi;
    if (nl >= TWO32) {
      nl -= TWO32;
      nh += 1;
    }
    if (nh >= TWO32) {
      // Carried out of the top: 1.111...1 + ulp = 10.000...0.
      nh = 0x80000000;
      nl = 0;
      e += 1;
      if (e > 0x7ffe) return false;
    }
    h = nh;
    l = nl;
  }
  RES[0] = s;
  RES[1] = e;
  RES[2] = h;
  RES[3] = l;
  RES_F[0] = up ? 1 : 0;
  RES_F[1] = inexact ? 1 : 0;
  return true;
}

/** A zero result: exact, C1 = 0. */
function zeroRes(s: number): boolean {
  RES[0] = s;
  RES[1] = 0;
  RES[2] = 0;
  RES[3] = 0;
  RES_F[0] = 0;
  RES_F[1] = 0;
  return true;
}

/** a * b of the loaded operands. */
export function mulX(cw: number): boolean {
  const s = OPN[0]! ^ OPN[2]!;
  const ea = OPN[1]!;
  const eb = OPN[3]!;
  if (ea === 0 || eb === 0) return zeroRes(s);
  const ah = OPW[0]!;
  const al = OPW[1]!;
  const bh = OPW[2]!;
  const bl = OPW[3]!;
  const a3 = ah >>> 16;
  const a2 = ah & 0xffff;
  const a1 = al >>> 16;
  const a0 = al & 0xffff;
  const b3 = bh >>> 16;
  const b2 = bh & 0xffff;
  const b1 = bl >>> 16;
  const b0 = bl & 0xffff;
  // Column sums of the 16-bit partial products (each < 2^32, a column < 2^34).
  const c0 = a0 * b0;
  const c1 = a0 * b1 + a1 * b0;
  const c2 = a0 * b2 + a1 * b1 + a2 * b0;
  const c3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  const c4 = a1 * b3 + a2 * b2 + a3 * b1;
  const c5 = a2 * b3 + a3 * b2;
  const c6 = a3 * b3;
  // Pairs of columns into 32-bit words (each sum < 2^51).
  let t = c0 + c1 * TWO16;
  const p0 = t >>> 0;
  t = (t - p0) / TWO32 + c2 + c3 * TWO16;
  const p1 = t >>> 0;
  t = (t - p1) / TWO32 + c4 + c5 * TWO16;
  const p2 = t >>> 0;
  const p3 = (t - p2) / TWO32 + c6; // < 2^32: the product is below 2^128
  if (p3 >= 0x80000000) {
    RES[2] = p3;
    RES[3] = p2;
    return roundTo(cw, s, ea + eb - BIAS + 1, p1 >>> 31, ((p1 & 0x7fffffff) | p0) !== 0 ? 1 : 0);
  }
  RES[2] = (p3 << 1) | (p2 >>> 31);
  RES[3] = (p2 << 1) | (p1 >>> 31);
  return roundTo(cw, s, ea + eb - BIAS, (p1 >>> 30) & 1, ((p1 & 0x3fffffff) | p0) !== 0 ? 1 : 0);
}

/** a / b of the loaded operands (a zero divisor is refused: ZE or IE, the BigInt path). */
export function divX(cw: number): boolean {
  const s = OPN[0]! ^ OPN[2]!;
  const ea = OPN[1]!;
  const eb = OPN[3]!;
  if (eb === 0) return false;
  if (ea === 0) return zeroRes(s);
  // Long division in base 2^32 of a.sig * 2^96 by b.sig: a first quotient bit (a >= b), then
  // three 32-bit digits, each estimated in doubles (off by at most one) and corrected with the
  // exact remainder; q * (16-bit limb of b) < 2^49, so every partial product is exact.
  const bh = OPW[2]!;
  const bl = OPW[3]!;
  const v3 = bh >>> 16;
  const v2 = bh & 0xffff;
  const v1 = bl >>> 16;
  const v0 = bl & 0xffff;
  const bd = bh * TWO32 + bl;
  let rh = OPW[0]!;
  let rl = OPW[1]!;
  let top = 0;
  if (rh > bh || (rh === bh && rl >= bl)) {
    top = 1; // a < 2b, so a - b < b
    let x = rl - bl;
    let br = 0;
    if (x < 0) {
      x += TWO32;
      br = 1;
    }
    rl = x;
    rh = rh - bh - br;
  }
  for (let k = 0; k < 3; k++) {
    // r < b: the digit floor(r * 2^32 / b) is below 2^32.
    let q = Math.floor(((rh * TWO32 + rl) / bd) * TWO32);
    if (q > TWO32) q = TWO32;
    // t = r * 2^32 - q * b in 16-bit limbs with a signed carry, then as hh:th:tl.
    let x = -q * v0;
    const d0 = x & 0xffff;
    let c = (x - d0) / TWO16;
    x = c - q * v1;
    const d1 = x & 0xffff;
    c = (x - d1) / TWO16;
    x = (rl & 0xffff) + c - q * v2;
    const d2 = x & 0xffff;
    c = (x - d2) / TWO16;
    x = (rl >>> 16) + c - q * v3;
    const d3 = x & 0xffff;
    c = (x - d3) / TWO16;
    let hh = rh + c;
    let th = d3 * TWO16 + d2;
    let tl = d1 * TWO16 + d0;
    while (hh < 0) {
      // The estimate was too large: add b back.
      q -= 1;
      tl += bl;
      let cy = 0;
      if (tl >= TWO32) {
        tl -= TWO32;
        cy = 1;
      }
      th += bh + cy;
      if (th >= TWO32) {
        th -= TWO32;
        hh += 1;
      } 
    }
    while (hh > 0 || th > bh || (th === bh && tl >= bl)) {
      // Too small: subtract b.
      q += 1;
      tl -= bl;
      let br = 0;
      if (tl < 0) {
        tl += TWO32;
        br = 1;
      }
      th -= bh + br;
      if (th < 0) {
        th += TWO32;
        hh -= 1;
      }
    }
    rh = th;
    rl = tl;
    Q[k] = q;
  }
  const q1 = Q[0]!;
  const q2 = Q[1]!;
  const q3 = Q[2]!;
  const rem = rh !== 0 || rl !== 0 || q3 !== 0;
  if (top !== 0) {
    // a / b in [1, 2): the significand is 1, q1 and the top 31 bits of q2.
    RES[2] = 0x80000000 | (q1 >>> 1);
    RES[3] = ((q1 & 1) << 31) | (q2 >>> 1);
    return roundTo(cw, s, ea - eb + BIAS, q2 & 1, rem ? 1 : 0);
  }
  RES[2] = q1;
  RES[3] = q2;
  return roundTo(cw, s, ea - eb + BIAS - 1, q3 >>> 31, (rh !== 0 || rl !== 0 || (q3 & 0x7fffffff) !== 0) ? 1 : 0);
}

/**
 * a + b of the loaded operands (subtraction: the caller flips b's sign). An exact zero sum is
 * +0, or -0 when rounding down (SDM vol. 1 §4.8.3.4); x + 0 is x rounded to the precision.
 */
export function addX(cw: number): boolean {
  let as = OPN[0]!;
  let ea = OPN[1]!;
  let bs = OPN[2]!;
  let eb = OPN[3]!;
  let ah = OPW[0]!;
  let al = OPW[1]!;
  let bh = OPW[2]!;
  let bl = OPW[3]!;
  if (eb === 0) {
    if (ea === 0) return zeroRes(as === bs ? as : ((cw >> 10) & 3) === 1 ? 1 : 0);
    RES[2] = ah;
    RES[3] = al;
    return roundTo(cw, as, ea, 0, 0);
  }
  if (ea === 0) {
    RES[2] = bh;
    RES[3] = bl;
    return roundTo(cw, bs, eb, 0, 0);
  }
  // Order by magnitude: |a| >= |b|.
  if (ea < eb || (ea === eb && (ah < bh || (ah === bh && al < bl)))) {
    let t = as;
    as = bs;
    bs = t;
    t = ea;
    ea = eb;
    eb = t;
    t = ah;
    ah = bh;
    bh = t;
    t = al;
    al = bl;
    bl = t;
  }
  const sub = as !== bs;
  if (sub && ea === eb && ah === bh && al === bl) return zeroRes(((cw >> 10) & 3) === 1 ? 1 : 0);
  // A 128-bit window: a = ah:al:0:0, b shifted right by d into b3:b2:b1:b0; bits shifted out of
  // the window are jammed into b0's lowest bit (enough for rounding: the window keeps at least
  // 62 bits below a 64-bit result, and with d >= 2 a difference loses at most one leading bit).
  const d = ea - eb;
  let b3 = bh;
  let b2 = bl;
  let b1 = 0;
  let b0 = 0;
  let lost = 0;
  if (d >= 128) {
    b3 = 0;
    b2 = 0;
    lost = 1;
  } else if (d > 0) {
    const ws = d >>> 5;
    const bits = d & 31;
    if (ws === 1) {
      b1 = b2;
      b2 = b3;
      b3 = 0;
    } else if (ws === 2) {
      b0 = b2;
      b1 = b3;
      b2 = 0;
      b3 = 0;
    } else if (ws === 3) {
      lost = b2;
      b0 = b3;
      b1 = 0;
      b2 = 0;
      b3 = 0;
    }
    if (bits !== 0) {
      const cb = 32 - bits;
      lost |= b0 << cb;
      b0 = ((b0 >>> bits) | (b1 << cb)) >>> 0;
      b1 = ((b1 >>> bits) | (b2 << cb)) >>> 0;
      b2 = ((b2 >>> bits) | (b3 << cb)) >>> 0;
      b3 = b3 >>> bits;
    }
  }
  if (lost !== 0) b0 = (b0 | 1) >>> 0;
  let e = ea;
  let r3: number;
  let r2: number;
  let r1: number;
  let r0: number;
  if (!sub) {
    r0 = b0;
    r1 = b1;
    let t = al + b2;
    r2 = t >>> 0;
    t = ah + b3 + (t >= TWO32 ? 1 : 0);
    if (t >= TWO32) {
      // Carry out: shift right by one, jamming the bit that falls out.
      const out = r0 & 1;
      r0 = ((r0 >>> 1) | (r1 << 31) | out) >>> 0;
      r1 = ((r1 >>> 1) | (r2 << 31)) >>> 0;
      r2 = ((r2 >>> 1) | ((t & 1) << 31)) >>> 0;
      r3 = ((t - TWO32) / 2 + 0x80000000) >>> 0;
      e += 1;
    } else r3 = t;
  } else {
    let t = 0 - b0;
    let br = 0;
    if (t < 0) {
      t += TWO32;
      br = 1;
    }
    r0 = t;
    t = 0 - b1 - br;
    br = 0;
    if (t < 0) {
      t += TWO32;
      br = 1;
    }
    r1 = t;
    t = al - b2 - br;
    br = 0;
    if (t < 0) {
      t += TWO32;
      br = 1;
    }
    r2 = t;
    r3 = ah - b3 - br; // >= 0: |a| > |b|
    // Normalise: whole words first, then bits.
    while (r3 === 0) {
      r3 = r2;
      r2 = r1;
      r1 = r0;
      r0 = 0;
      e -= 32;
    }
    const lz = Math.clz32(r3);
    if (lz !== 0) {
      const cb = 32 - lz;
      r3 = ((r3 << lz) | (r2 >>> cb)) >>> 0;
      r2 = ((r2 << lz) | (r1 >>> cb)) >>> 0;
      r1 = ((r1 << lz) | (r0 >>> cb)) >>> 0;
      r0 = (r0 << lz) >>> 0;
      e -= lz;
    }
  }
  RES[2] = r3;
  RES[3] = r2;
  return roundTo(cw, as, e, r1 >>> 31, ((r1 & 0x7fffffff) | r0) !== 0 ? 1 : 0);
}

/**
 * Rounds the loaded operand a to a double (53 bits) or, if `single`, to a single (24 bits)
 * under cw's rounding control, for FST m64real/m32real. False if the result would not be a
 * normal value of that format (the BigInt path then gives OE/UE and denormals).
 */
export function toRealX(cw: number, single: boolean): boolean {
  const e = OPN[1]!;
  if (e === 0) return zeroRes(OPN[0]!);
  const emax = single ? 127 : 1023;
  RES[2] = OPW[0]!;
  RES[3] = OPW[1]!;
  // Tiny before rounding or too large after it: not a normal value of the format.
  if (e - BIAS < 1 - emax || !roundTo((cw & 0xc00) | (single ? 0 : 0x200), OPN[0]!, e, 0, 0)) return false;
  return RES[1]! - BIAS <= emax;
}

/**
 * Rounds the loaded operand a to an integer under cw's rounding control for FIST/FISTP of
 * `bits` (16, 32, 64) bits: the magnitude in RES[2]:RES[3], C1 and PE in RES_F. False if the
 * result does not fit (IE: the BigInt path) or a's magnitude is 2^63 or more.
 */
export function toIntX(cw: number, bits: number): boolean {
  const s = OPN[0]!;
  const e = OPN[1]!;
  if (e === 0) return zeroRes(s);
  const k = e - BIAS; // a = sig * 2^(k - 63)
  if (k >= 63) return false;
  const hi = OPW[0]!;
  const lo = OPW[1]!;
  let ih = 0;
  let il = 0;
  let guard: number;
  let sticky: number;
  if (k < -1) {
    guard = 0; // below one half
    sticky = 1;
  } else if (k === -1) {
    guard = 1; // in [1/2, 1)
    sticky = (hi & 0x7fffffff) | lo;
  } else {
    const shift = 63 - k; // 1..63 bits below the units bit
    if (shift < 32) {
      ih = hi >>> shift;
      il = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
      guard = (lo >>> (shift - 1)) & 1;
      sticky = lo & ((1 << (shift - 1)) - 1);
    } else if (shift === 32) {
      il = hi;
      guard = lo >>> 31;
      sticky = lo & 0x7fffffff;
    } else {
      il = hi >>> (shift - 32);
      guard = (hi >>> (shift - 33)) & 1;
      sticky = (hi & ((1 << (shift - 33)) - 1)) | lo;
    }
  }
  const inexact = (guard | sticky) !== 0;
  let up = false;
  if (inexact) {
    const rc = (cw >> 10) & 3;
    if (rc === 0) up = guard !== 0 && (sticky !== 0 || (il & 1) !== 0);
    else if (rc === 1) up = s !== 0;
    else if (rc === 2) up = s === 0;
  }
  if (up) {
    il += 1;
    if (il >= TWO32) {
      il = 0;
      ih += 1;
    }
  }
  // Range: -2^(bits-1) .. 2^(bits-1) - 1 (the most negative 64-bit value is left to BigInt).
  if (bits === 64) {
    if (ih >= 0x80000000) return false;
  } else if (ih !== 0 || il > (s !== 0 ? 2 ** (bits - 1) : 2 ** (bits - 1) - 1)) return false;
  RES[0] = s;
  RES[1] = 0;
  RES[2] = ih;
  RES[3] = il;
  RES_F[0] = up ? 1 : 0;
  RES_F[1] = inexact ? 1 : 0;
  return true;
}
