/**
 * FBSTP m80bcd: ST(0) as an 18-digit packed BCD integer (Intel SDM vol. 2 "FBSTP").
 */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { type Fpu, K_DENORMAL, K_NORMAL, K_ZERO, SW_C1, SW_IE, SW_PE, classify } from './fpu.ts';
import { rInexact, rSig, rUp } from './round.ts';
import { off } from './entry.ts';
import { roundToInt } from './exact-arith.ts';

const BIAS = 16383;

const BCD_LIMIT = 10n ** 18n;

export function storeBcd(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  c.probeWrite(i.seg, ea, 10);
  let v: bigint | null = null;
  let s = 0;
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
  } else {
    const p = f.phys(0);
    s = f.sgn[p]!;
    const k = classify(f.exp[p]!, f.man[p]!);
    if (k === K_ZERO) v = 0n;
    else if (k === K_NORMAL || k === K_DENORMAL) {
      if (f.exp[p]! - BIAS < 64) {
        roundToInt(f, s, f.exp[p]!, f.man[p]!);
        const r = rSig;
        if (r < BCD_LIMIT) {
          v = r;
          if (rUp) f.sw |= SW_C1;
          else f.sw &= ~SW_C1;
          if (rInexact) f.signal(SW_PE);
        }
      }
    }
    if (v === null && !f.signal(SW_IE)) return;
  }
  if (v === null) {
    // The packed BCD indefinite: FFFF C000 0000 0000 0000.
    for (let k = 0; k < 7; k++) c.wr8(i.seg, off(i, ea, k), 0);
    c.wr8(i.seg, off(i, ea, 7), 0xc0);
    c.wr8(i.seg, off(i, ea, 8), 0xff);
    c.wr8(i.seg, off(i, ea, 9), 0xff);
  } else {
    let x = v;
    for (let k = 0; k < 9; k++) {
      const d = Number(x % 100n);
      x /= 100n;
      c.wr8(i.seg, off(i, ea, k), ((Math.floor(d / 10) << 4) | (d % 10)) & 0xff);
    }
    c.wr8(i.seg, off(i, ea, 9), s << 7);
  }
  f.pop();
}
