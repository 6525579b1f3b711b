/**
 * The BigInt-free exact path (src/fpu/exact.ts through regs80.ts) against the BigInt path
 * (Fpu.arith with `fast = false`): random operands, operations and control words (precision
 * 24/53/64 and the reserved 01, all four rounding controls, PE/UE/OE masked or not). Wherever the
 * word path takes an operation, result and status word must be bit-identical; where it refuses
 * (denormal/NaN/infinite operands, zero divisors, results that would be tiny or overflow), it
 * must leave the FPU unchanged. Operands include all-ones and single-bit significands, sparse
 * significands (exact results and exact ties at each precision), cancellations, and exponents
 * placed so results land next to the overflow and underflow thresholds.
 *
 * FPU_EXACT_N sets the number of cases (default 20,000; run locally with 200000 or more).
 */
import { describe, expect, it } from 'vitest';
import { Fpu } from '../src/index.ts';
import { arithX, compareX, storeFlags, toIntReg, toRealReg } from '../src/fpu/regs80.ts';

const N = Number(process.env.FPU_EXACT_N ?? 20000);
const BIAS = 16383;
const ONES = 0xffffffffffffffffn;

let seed = 0x2545f491;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const pick = (n: number): number => rnd() % n;

function sig(): bigint {
  const k = pick(10);
  const r64 = (BigInt(rnd()) << 32n) | BigInt(rnd());
  if (k === 0) return ONES; // all ones
  if (k === 1) return 1n << 63n; // a power of two
  if (k <= 4) {
    // Sparse: a few bits, so products and sums are often exact or exact ties.
    let m = 1n << 63n;
    const bits = 1 + pick(4);
    for (let j = 0; j < bits; j++) m |= 1n << BigInt(pick(64));
    return m;
  }
  if (k === 5) return (r64 | (1n << 63n)) & ~0x7ffn; // exactly a double
  if (k === 6) return (r64 | (1n << 63n)) & ~0xffffffffffn; // exactly a single
  if (k === 7) return ONES ^ (1n << BigInt(pick(64))) | (1n << 63n); // all ones but one
  return r64 | (1n << 63n);
}

type Op = [number, number, bigint];

function operand(): Op {
  const k = pick(40);
  const s = rnd() & 1;
  if (k === 0) return [s, 0, 0n]; // zero
  if (k === 1) return [s, 0, BigInt(rnd()) + 1n]; // denormal
  if (k === 2) return [s, 0x7fff, 1n << 63n]; // infinity
  if (k === 3) return [s, 0x7fff, (1n << 63n) | (1n << 62n) | BigInt(rnd())]; // QNaN
  if (k === 4) return [s, 1 + pick(0x7ffe), BigInt(rnd())]; // unnormal
  const spread = k < 10 ? 0x3fff : k < 20 ? 70 : 3;
  const e = BIAS + pick(2 * spread + 1) - spread;
  return [s, Math.min(0x7ffe, Math.max(1, e)), sig()];
}

/** kind of exec.ts: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr. */
const KINDS = [0, 1, 4, 5, 6, 7];

/** Places b's exponent so that a kind b lands near the overflow or underflow threshold. */
function nearThreshold(kind: number, a: Op, b: Op): void {
  const ea = a[1];
  const d = pick(5) - 2;
  const high = (rnd() & 1) === 0;
  if (kind === 1) b[1] = (high ? 0x7ffe + BIAS - ea : 1 + BIAS - ea) + d;
  else if (kind === 6) b[1] = (high ? ea - 0x7ffe + BIAS : ea - 1 + BIAS) + d;
  else if (kind === 7) b[1] = (high ? 0x7ffe - BIAS + ea : 1 - BIAS + ea) + d;
  else {
    // Sums: both operands at the top, or a cancellation at the bottom.
    a[1] = high ? 0x7ffe - pick(2) : 1 + pick(3);
    b[1] = a[1] - pick(2);
    if (!high) {
      b[0] = kind === 0 ? a[0] ^ 1 : a[0];
      b[2] = a[2] ^ BigInt(rnd() & 0xfff);
      if (b[2] < 1n << 63n) b[2] |= 1n << 63n;
    }
  }
  if (b[1] < 1 || b[1] > 0x7ffe) b[1] = Math.min(0x7ffe, Math.max(1, b[1]));
}

function controlWord(): number {
  const masks = pick(4) === 0 ? 0x3f & ~(rnd() & 0x38) : 0x3f; // sometimes OE/UE/PE unmasked
  return 0x40 | masks | (pick(4) << 8) | (pick(4) << 10);
}

function reference(ref: Fpu, kind: number, a: Op, b: Op): boolean {
  const nan = (o: Op): boolean => o[1] === 0x7fff && (o[2] & ~(1n << 63n)) !== 0n;
  switch (kind) {
    case 0: return ref.arith(0, a[0], a[1], a[2], b[0], b[1], b[2]);
    case 1: return ref.arith(1, a[0], a[1], a[2], b[0], b[1], b[2]);
    case 4: return ref.arith(0, a[0], a[1], a[2], b[0] ^ (nan(b) ? 0 : 1), b[1], b[2]);
    case 5: return ref.arith(0, b[0], b[1], b[2], a[0] ^ (nan(a) ? 0 : 1), a[1], a[2]);
    case 6: return ref.arith(2, a[0], a[1], a[2], b[0], b[1], b[2]);
    default: return ref.arith(2, b[0], b[1], b[2], a[0], a[1], a[2]);
  }
}

const show = (o: Op): string => `(${o[0]},${o[1].toString(16)},${o[2].toString(16)})`;

describe('x87 exact word path', () => {
  it(`matches the BigInt path on ${N} random operations`, () => {
    const ref = new Fpu();
    ref.fast = false;
    const f = new Fpu();
    const bad: string[] = [];
    let taken = 0;
    let takenRounded = 0;
    for (let n = 0; n < N; n++) {
      const kind = KINDS[pick(6)]!;
      const a = operand();
      const b = operand();
      if (pick(4) === 0) nearThreshold(kind, a, b);
      if (pick(12) === 0) {
        // Cancellation: b close to a (equal exponents or one apart).
        b[1] = a[1] - pick(2);
        b[2] = (a[2] ^ (BigInt(rnd()) << BigInt(pick(40)))) & ONES;
        if (b[2] < 1n << 63n) b[2] |= 1n << 63n;
        b[0] = kind === 4 || kind === 5 ? a[0] : a[0] ^ 1;
      }
      const cw = controlWord();
      const sw0 = (rnd() & 0x0221) | (pick(2) ? 0x3800 : 0); // C1, PE, IE, and a TOP of 7
      ref.cw = cw;
      ref.sw = sw0;
      const refOk = reference(ref, kind, a, b);
      // Register 3 = a, register 5 = b (or b as a double in dbl[8] when it is one).
      f.cw = cw;
      f.sw = sw0;
      f.empty = 0xff;
      f.top = 3;
      f.setSt(0, a[0], a[1], a[2]);
      let ps = 5;
      const bIsDouble = b[1] >= BIAS - 1022 && b[1] <= BIAS + 1023 && (b[2] & 0x80000000000007ffn) === 1n << 63n;
      if (bIsDouble && pick(2) === 0) {
        const x = Number(b[2]) * 2 ** -63 * 2 ** (b[1] - BIAS); // (2^(e-63) alone may underflow)
        f.dbl[8] = b[0] ? -x : x;
        ps = 8;
      } else if (b[1] === 0 && b[2] === 0n && pick(2) === 0) {
        f.dbl[8] = b[0] ? -0 : 0;
        ps = 8;
      } else f.setSt(2, b[0], b[1], b[2]);
      const before = `${f.sgn[3]} ${f.exp[3]} ${f.man[3]} ${f.sw}`;
      const ok = arithX(f, kind, 3, ps);
      if (!ok) {
        const after = `${f.sgn[3]} ${f.exp[3]} ${f.man[3]} ${f.sw}`;
        if (after !== before && bad.length < 8) bad.push(`refused but changed state: kind ${kind} ${show(a)} ${show(b)}`);
        continue;
      }
      taken++;
      if ((ref.sw & 0x20) !== 0 && (sw0 & 0x20) === 0) takenRounded++;
      const got = `${refOk} ${f.sgn[3]} ${f.exp[3]} ${f.man[3].toString(16)} ${f.sw.toString(16)}`;
      const want = `${refOk} ${ref.resS} ${ref.resE} ${ref.resM.toString(16)} ${ref.sw.toString(16)}`;
      if (got !== want && bad.length < 8) bad.push(`kind ${kind} cw ${cw.toString(16)} ${show(a)} ${show(b)}: words ${got}, BigInt ${want}`);
    }
    if (process.env.FPU_EXACT_N) console.log(`word path took ${taken} of ${N} (${takenRounded} newly inexact)`);
    expect(bad).toEqual([]);
    // The word path must take the common case: most operations here have ordinary operands.
    expect(taken).toBeGreaterThan(N * 0.4);
    expect(takenRounded).toBeGreaterThan(N * 0.1);
  });

  it('takes every operation of normal operands whose result is normal', () => {
    // Moderate exponents: nothing may fall back except a zero divisor.
    const f = new Fpu();
    let refused = 0;
    for (let n = 0; n < 2000; n++) {
      f.cw = controlWord() | 0x3f;
      f.empty = 0xff;
      f.top = 0;
      f.setSt(0, rnd() & 1, BIAS + pick(200) - 100, sig());
      f.setSt(1, rnd() & 1, BIAS + pick(200) - 100, sig());
      if (!arithX(f, KINDS[pick(6)]!, 0, 1)) refused++;
    }
    expect(refused).toBe(0);
  });

  it('rounds exact ties at each precision by the rounding control', () => {
    // 1 + 2^-P (a tie between 1 and 1 + 2^(1-P)) from an addition, and 1 + 3 * 2^-P (a tie
    // between 1 + 2^(1-P) and 1 + 2^(2-P)) by each rounding control and sign.
    const f = new Fpu();
    for (const [pc, p] of [[0, 24], [2, 53], [3, 64]] as const) {
      for (const rc of [0, 1, 2, 3]) {
        for (const s of [0, 1]) {
          for (const odd of [0, 1]) {
            f.cw = 0x7f | (pc << 8) | (rc << 10);
            f.sw = 0;
            f.empty = 0xff;
            f.top = 0;
            f.setSt(0, s, BIAS, (1n << 63n) | (BigInt(odd) << BigInt(64 - p)));
            f.setSt(1, s, BIAS - p, 1n << 63n);
            expect(arithX(f, 0, 0, 1)).toBe(true);
            const up = rc === 0 ? odd === 1 : rc === 1 ? s === 1 : rc === 2 ? s === 0 : false;
            const want = (1n << 63n) + (BigInt(odd) << BigInt(64 - p)) + (up ? 1n << BigInt(64 - p) : 0n);
            expect(f.man[0]).toBe(want);
            expect(f.sw & 0x220).toBe(up ? 0x220 : 0x20);
          }
        }
      }
    }
  });

  it('stores m64real/m32real and integers and compares like the BigInt path', () => {
    const ref = new Fpu();
    ref.fast = false;
    const f = new Fpu();
    const bad: string[] = [];
    for (let n = 0; n < N / 4; n++) {
      const a = operand();
      if (pick(3) === 0) a[1] = pick(2) ? BIAS + pick(2100) - 1050 : BIAS + pick(270) - 135; // next to the double's or single's range
      const b = operand();
      const cw = controlWord();
      const sw0 = rnd() & 0x0221;
      ref.cw = f.cw = cw;
      ref.sw = f.sw = sw0;
      f.empty = 0xff;
      f.top = 0;
      f.setSt(0, a[0], a[1], a[2]);
      f.setSt(1, b[0], b[1], b[2]);
      const single = pick(2) === 0;
      if (toRealReg(f, 0, single)) {
        storeFlags(f);
        const bits = ref.toIeee(a[0], a[1], a[2], single ? 24 : 53);
        const w = f.dblWords;
        const got = single ? (w[16]! >>> 0).toString(16) : ((BigInt(w[17]! >>> 0) << 32n) | BigInt(w[16]! >>> 0)).toString(16);
        if ((got !== bits?.toString(16) || f.sw !== ref.sw) && bad.length < 8) {
          bad.push(`fst${single ? 32 : 64} ${show(a)} cw ${cw.toString(16)}: ${got} ${f.sw.toString(16)} vs ${bits?.toString(16)} ${ref.sw.toString(16)}`);
        }
      } else if (f.sw !== sw0) bad.push(`fst refused but changed sw: ${show(a)}`);
      const bits = [16, 32, 64][pick(3)]!;
      const ia: Op = pick(2) ? a : [a[0], BIAS + pick(bits + 4) - 3, a[2]]; // around 1 .. 2^bits
      f.setSt(2, ia[0], ia[1], ia[2]);
      ref.sw = f.sw = sw0;
      if (toIntReg(f, 2, bits)) {
        storeFlags(f);
        const want = ref.toInt(ia[0], ia[1], ia[2], bits);
        const w = f.dblWords;
        const got = BigInt.asIntN(bits, (BigInt(w[17]! >>> 0) << 32n) | BigInt(w[16]! >>> 0));
        if ((want === null || got !== want || f.sw !== ref.sw) && bad.length < 8) {
          bad.push(`fist${bits} ${show(ia)} cw ${cw.toString(16)}: ${got} ${f.sw.toString(16)} vs ${want} ${ref.sw.toString(16)}`);
        }
      } else if (f.sw !== sw0) bad.push(`fist refused but changed sw: ${show(ia)}`);
      const r = compareX(f, 0, 1);
      if (r !== 2) {
        const want = Fpu.compare(a[0], a[1], a[2], b[0], b[1], b[2]);
        if (r !== want && bad.length < 8) bad.push(`compare ${show(a)} ${show(b)}: ${r} vs ${want}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
