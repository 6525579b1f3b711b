/**
 * The float64 fast path (precision control 53, round to nearest) must be bit-identical to the
 * exact BigInt path: the same 80-bit result and the same status word (C1, PE), for random double
 * operands across the exponent range, exact cases, cancellations and the window's edges.
 */
import { describe, expect, it } from 'vitest';
import { Fpu } from '../src/index.ts';

let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

/** A random extended value that is exactly a double (low 11 significand bits zero). */
function operand(): [number, number, bigint] {
  const k = rnd() % 8;
  let m = ((BigInt(rnd()) << 32n) | BigInt(rnd()) | (1n << 63n)) & ~0x7ffn;
  if (k === 0) m &= ~0xffffffffffn; // short significands: exact products and sums
  if (k === 1) m = 1n << 63n;
  const spread = k === 2 ? 1000 : k === 3 ? 3 : 200;
  const e = 16383 + (rnd() % (2 * spread + 1)) - spread;
  return [rnd() & 1, e, m];
}

describe('x87 float64 fast path', () => {
  it('matches the exact path bit for bit on 30,000 random operations', () => {
    const fast = new Fpu();
    const exact = new Fpu();
    exact.fast = false;
    const mismatches: string[] = [];
    for (let n = 0; n < 30000; n++) {
      const op = n % 3;
      const [as, ae, am] = operand();
      let [bs, be, bm] = operand();
      if (n % 17 === 0) [bs, be, bm] = [as ^ 1, ae, am ^ (BigInt(rnd() & 0xff) << 11n)]; // cancellation
      for (const f of [fast, exact]) {
        f.cw = 0x027f;
        f.sw = 0;
        f.arith(op, as, ae, am, bs, be, bm);
      }
      const a = `${fast.resS} ${fast.resE} ${fast.resM} ${fast.sw}`;
      const b = `${exact.resS} ${exact.resE} ${exact.resM} ${exact.sw}`;
      if (a !== b && mismatches.length < 5) mismatches.push(`op ${op} (${as},${ae},${am}) (${bs},${be},${bm}): fast ${a} exact ${b}`);
    }
    expect(mismatches).toEqual([]);
  });
});

import { flatMachine, runToHalt } from './helpers.ts';

describe('x87 registers held as doubles', () => {
  it('give the same memory, FSAVE image and status as the exact path', () => {
    const D = 0x5000;
    const abs = (a: number): number[] => [a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, (a >>> 24) & 0xff];
    // fldcw [D+0x100]; then per k: fld qword [D+8k]; fmul st0,st1 / fadd / fdiv / fsubr m64 ...
    const code: number[] = [0xdb, 0xe3, 0xd9, 0x2d, ...abs(D + 0x100)];
    for (let k = 0; k < 16; k++) {
      code.push(0xdd, 0x05, ...abs(D + 8 * k)); // fld qword
      if (k > 0) {
        code.push(...[[0xd8, 0xc9], [0xd8, 0xc1], [0xd8, 0xf1], [0xd9, 0xc9], [0xde, 0xe9], [0xd9, 0xc1]][k % 6]!); // fmul/fadd/fdiv/fxch/fsubp/fld st1
        code.push(0xdc, 0x2d + (k % 3) * 8, ...abs(D + 8 * ((k * 7) % 16))); // fsubr/fdiv/fdivr m64
        code.push(0xdc, 0x1d, ...abs(D + 8 * ((k * 5) % 16))); // fcomp m64
        code.push(0xdd, 0x15, ...abs(D + 0x200 + 8 * k)); // fst qword
      }
      if (k % 4 === 3) code.push(0xdd, 0xd8); // fstp st0
    }
    code.push(0xdd, 0x35, ...abs(D + 0x300), 0xf4); // fnsave; hlt
    const run = (fast: boolean, cw: number): Uint8Array => {
      const m = flatMachine(code, 0x1000, { fpu: true });
      m.cpu.fpu!.fast = fast;
      const dv = new DataView(m.phys.ram.buffer, m.phys.ram.byteOffset);
      let s = 12345;
      for (let k = 0; k < 16; k++) {
        s = (s * 1103515245 + 12345) >>> 0;
        dv.setFloat64(D + 8 * k, ((s % 20000) - 10000) / 97 * 2 ** ((s >> 20) % 40 - 20), true);
      }
      dv.setUint16(D + 0x100, cw, true);
      expect(runToHalt(m.cpu)).toBe('halt');
      return Uint8Array.from(m.phys.ram.subarray(D, D + 0x400));
    };
    for (const cw of [0x027f, 0x037f, 0x0a7f]) expect(run(true, cw)).toEqual(run(false, cw));
  });
});
