/**
 * D9 F0-FF: the transcendental and miscellaneous group (F2XM1, FYL2X, FPTAN, FPATAN, FXTRACT,
 * FPREM1, FDECSTP, FINCSTP, FPREM, FYL2XP1, FSQRT, FSINCOS, FRNDINT, FSCALE, FSIN, FCOS).
 */
import { EXP_MAX, Fpu, K_DENORMAL, K_INF, K_INVALID, K_NORMAL, K_QNAN, K_SNAN, K_ZERO, SW_C0, SW_C1, SW_C2, SW_C3, SW_DE, SW_IE, SW_PE, SW_ZE, classify } from './fpu.ts';
import { bitLen } from './round.ts';
import { st0Empty } from './operations.ts';
import { frndint, invalid, nanCheck2, packReg, sqrt } from './exact-arith.ts';
import { fromDouble, fromInt, toDouble } from './conversions.ts';

const BIAS = 16383;
const MSB = 0x8000000000000000n;

/** D9 F0-FF: the transcendental and miscellaneous group. */
export function groupD9F0(f: Fpu, n: number): void {
  switch (n) {
    case 6: // FDECSTP
      f.top = (f.top - 1) & 7;
      f.sw &= ~SW_C1;
      return;
    case 7: // FINCSTP
      f.top = (f.top + 1) & 7;
      f.sw &= ~SW_C1;
      return;
    case 10: {
      // FSQRT
      if (st0Empty(f)) return;
      const p = f.phys(0);
      if (sqrt(f, f.sgn[p]!, f.exp[p]!, f.man[p]!)) f.setStRes(0);
      return;
    }
    case 12: {
      // FRNDINT
      if (st0Empty(f)) return;
      const p = f.phys(0);
      if (frndint(f, f.sgn[p]!, f.exp[p]!, f.man[p]!)) f.setStRes(0);
      return;
    }
    case 4:
      fxtract(f);
      return;
    case 13:
      fscale(f);
      return;
    case 5:
    case 8:
      fprem(f, n === 5);
      return;
    default:
      transcendental(f, n);
  }
}

function fxtract(f: Fpu): void {
  if (st0Empty(f)) return;
  if (!f.isEmpty(7)) {
    f.sw |= SW_C1;
    if (f.signal(SW_IE | 0x40)) {
      f.setStIndefinite(0);
      f.top = (f.top - 1) & 7;
      f.setStIndefinite(0);
    }
    return;
  }
  const p = f.phys(0);
  const s = f.sgn[p]!;
  const e = f.exp[p]!;
  const m = f.man[p]!;
  const k = classify(e, m);
  switch (k) {
    case K_ZERO:
      if (!f.signal(SW_ZE)) return;
      f.setSt(0, 1, EXP_MAX, MSB);
      f.top = (f.top - 1) & 7;
      f.setSt(0, s, 0, 0n);
      return;
    case K_INF:
      f.setSt(0, 0, EXP_MAX, MSB);
      f.top = (f.top - 1) & 7;
      f.setSt(0, s, e, m);
      return;
    case K_QNAN:
    case K_SNAN:
    case K_INVALID:
      if (k !== K_QNAN && !f.signal(SW_IE)) return;
      if (k === K_INVALID) f.setIndefinite();
      else f.setRes(s, e, m | 0x4000000000000000n);
      f.setStRes(0);
      f.top = (f.top - 1) & 7;
      f.setStRes(0);
      return;
  }
  if (k === K_DENORMAL && !f.signal(SW_DE)) return;
  const lead = bitLen(m) - 1;
  const ue = (e === 0 ? 1 : e) - BIAS - (63 - lead);
  fromInt(f, BigInt(ue));
  f.setStRes(0);
  f.top = (f.top - 1) & 7;
  f.setSt(0, s, BIAS, m << BigInt(63 - lead));
}

function fscale(f: Fpu): void {
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (f.underflow()) f.setStIndefinite(0);
    return;
  }
  const a = f.phys(0);
  const b = f.phys(1);
  const as = f.sgn[a]!;
  const ae = f.exp[a]!;
  const am = f.man[a]!;
  const bs = f.sgn[b]!;
  const be = f.exp[b]!;
  const bm = f.man[b]!;
  const ka = classify(ae, am);
  const kb = classify(be, bm);
  const nn = nanCheck2(f, ka, as, ae, am, kb, bs, be, bm);
  if (nn !== 0) {
    if (nn > 0) f.setStRes(0);
    return;
  }
  if (kb === K_INF) {
    if ((ka === K_ZERO && bs === 0) || (ka === K_INF && bs !== 0)) {
      if (invalid(f)) f.setStRes(0);
      return;
    }
    if (ka === K_ZERO || ka === K_INF) return;
    f.setSt(0, as, bs ? 0 : EXP_MAX, bs ? 0n : MSB);
    return;
  }
  if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return;
  if (ka === K_ZERO || ka === K_INF) return;
  // trunc(ST(1)), clamped far beyond any exponent that could matter.
  let sc = 0;
  if (kb !== K_ZERO && be - BIAS >= 0) {
    const sh = be - BIAS - 63;
    const t = sh >= 0 ? 1n << 20n : bm >> BigInt(-sh);
    sc = Number(t > 1n << 20n ? 1n << 20n : t);
    if (bs) sc = -sc;
  }
  const q = (ae === 0 ? 1 : ae) - BIAS - 63;
  if (packReg(f, as, am, q + sc, 64)) f.setStRes(0);
}

/** FPREM (truncating quotient) and FPREM1 (IEEE, round-to-nearest quotient). */
function fprem(f: Fpu, ieee: boolean): void {
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (f.underflow()) f.setStIndefinite(0);
    return;
  }
  const a = f.phys(0);
  const b = f.phys(1);
  const as = f.sgn[a]!;
  const ae = f.exp[a]!;
  const am = f.man[a]!;
  const be = f.exp[b]!;
  const bm = f.man[b]!;
  const ka = classify(ae, am);
  const kb = classify(be, bm);
  const nn = nanCheck2(f, ka, as, ae, am, kb, f.sgn[b]!, be, bm);
  if (nn !== 0) {
    if (nn > 0) f.setStRes(0);
    return;
  }
  if (ka === K_INF || kb === K_ZERO) {
    if (invalid(f)) f.setStRes(0);
    return;
  }
  if ((ka === K_DENORMAL || kb === K_DENORMAL) && !f.signal(SW_DE)) return;
  f.sw &= ~(SW_C0 | SW_C1 | SW_C2 | SW_C3);
  if (ka === K_ZERO || kb === K_INF) return;
  const qa = (ae === 0 ? 1 : ae) - BIAS - 63;
  const qb = (be === 0 ? 1 : be) - BIAS - 63;
  const ea = qa + bitLen(am) - 1;
  const eb = qb + bitLen(bm) - 1;
  const d = ea - eb;
  let partial = false;
  let shiftExp = 0;
  if (d >= 64) {
    // Partial remainder: reduce the exponent difference by between 32 and 63 (SDM vol. 2 FPREM).
    partial = true;
    shiftExp = d - 32 - ((d - 32) & 31);
    if (shiftExp === d) shiftExp -= 32;
  }
  // Work in units of 2^qm: A = am << (qa - qm), B = bm << (qb + shiftExp - qm).
  const qbs = qb + shiftExp;
  let qm: number;
  let quo: bigint;
  let rem: bigint;
  let B: bigint;
  if (d < -1) {
    // |ST(0)| < |ST(1)| / 2: the quotient is 0 and the remainder ST(0) itself.
    qm = qa;
    quo = 0n;
    rem = am;
    B = 0n;
  } else {
    qm = qa < qbs ? qa : qbs;
    const A = am << BigInt(qa - qm);
    B = bm << BigInt(qbs - qm);
    quo = A / B;
    rem = A - quo * B;
  }
  if (ieee && !partial && d >= -1) {
    const twice = rem << 1n;
    if (twice > B || (twice === B && (quo & 1n) === 1n)) {
      quo += 1n;
      rem -= B;
    }
  }
  let rs = as;
  if (rem < 0n) {
    rem = -rem;
    rs ^= 1;
  }
  if (partial) f.sw |= SW_C2;
  else {
    const q = Number(quo & 7n);
    if (q & 1) f.sw |= SW_C1;
    if (q & 2) f.sw |= SW_C3;
    if (q & 4) f.sw |= SW_C0;
  }
  const cc = f.sw & (SW_C0 | SW_C1 | SW_C2 | SW_C3);
  if (rem === 0n) f.setRes(as, 0, 0n);
  else packReg(f, rs, rem, qm, 64); // exact, but a tiny remainder meets an unmasked UE
  f.setStRes(0);
  f.sw = (f.sw & ~(SW_C0 | SW_C1 | SW_C2 | SW_C3)) | cc;
}

/**
 * F2XM1 FYL2X FPTAN FPATAN FYL2XP1 FSINCOS FSIN FCOS, computed in float64 (documented limit:
 * results carry at most 53 significant bits, correctly rounded only as far as the host's Math
 * functions are; the x87 itself is accurate to about 1 ulp of 64 bits).
 */
function transcendental(f: Fpu, n: number): void {
  const unary = n === 0 || n === 2 || n === 11 || n === 14 || n === 15;
  const needs = unary ? 1 : 2;
  if (f.isEmpty(0) || (needs === 2 && f.isEmpty(1))) {
    if (f.underflow()) {
      f.setStIndefinite(0);
      if (n === 2 || n === 11) {
        if (f.pushCheck()) f.setStIndefinite(0);
      }
    }
    return;
  }
  const a = f.phys(0);
  const x = toDouble(f.sgn[a]!, f.exp[a]!, f.man[a]!);
  const ka = classify(f.exp[a]!, f.man[a]!);
  if (ka === K_SNAN || ka === K_INVALID) {
    if (!f.signal(SW_IE)) return;
  }
  if (ka === K_DENORMAL && !f.signal(SW_DE)) return;
  const trig = n === 2 || n === 11 || n === 14 || n === 15;
  if (trig) {
    if (ka === K_NORMAL && f.exp[a]! - BIAS >= 63) {
      f.sw |= SW_C2; // out of range: operand unchanged (SDM vol. 2 "FSIN")
      return;
    }
    f.sw &= ~SW_C2;
    if (ka === K_INF) {
      if (!f.signal(SW_IE)) return;
    }
  }
  let r: number;
  let r2 = 0;
  if (needs === 2) {
    const b = f.phys(1);
    const y = toDouble(f.sgn[b]!, f.exp[b]!, f.man[b]!);
    const kb = classify(f.exp[b]!, f.man[b]!);
    if ((kb === K_SNAN || kb === K_INVALID) && !f.signal(SW_IE)) return;
    if (n === 1) {
      if (x === 0 && y !== 0 && !Number.isNaN(y) && !f.signal(SW_ZE)) return;
      if (x < 0 && !f.signal(SW_IE)) return;
      r = y * Math.log2(x);
    } else if (n === 9) {
      if (x < -1 && !f.signal(SW_IE)) return;
      r = (y * Math.log1p(x)) / Math.LN2;
    } else r = Math.atan2(y, x);
  } else if (n === 0) r = Math.expm1(x * Math.LN2);
  else if (n === 14) r = Math.sin(x);
  else if (n === 15) r = Math.cos(x);
  else if (n === 2) r = Math.tan(x);
  else {
    r = Math.sin(x);
    r2 = Math.cos(x);
  }
  if (Number.isNaN(r) && ka !== K_QNAN && ka !== K_SNAN) {
    if (!f.signal(SW_IE)) return;
  }
  if (Number.isNaN(r)) f.setIndefinite();
  else fromDouble(f, r);
  if (r !== 0 && Number.isFinite(r)) f.signal(SW_PE);
  f.sw &= ~SW_C1;
  if (needs === 2) {
    f.pop();
    f.setStRes(0);
    return;
  }
  if (n === 2 || n === 11) {
    if (!f.isEmpty(7)) {
      f.sw |= SW_C1;
      if (f.signal(SW_IE | 0x40)) {
        f.setStIndefinite(0);
        f.top = (f.top - 1) & 7;
        f.setStIndefinite(0);
      }
      return;
    }
    f.setStRes(0);
    if (n === 2) f.setRes(0, BIAS, MSB);
    else if (Number.isNaN(r2)) f.setIndefinite();
    else fromDouble(f, r2);
    f.top = (f.top - 1) & 7;
    f.setStRes(0);
    return;
  }
  f.setStRes(0);
}
