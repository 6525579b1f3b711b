/**
 * D9 E8-EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ.
 */
import type { Cpu } from '../cpu.ts';
import { type Fpu, SW_C1 } from './fpu.ts';
import { bitLen, roundFloat, rQ, rSig } from './round.ts';
import { pushRes } from './operations.ts';

const BIAS = 16383;

// Constants as 128-bit significands (leading bit = bit 127) and unbiased exponents; the x87
// rounds them to 64 bits under the rounding control (SDM vol. 1 §8.3.8). 
const CONSTS: ReadonlyArray<readonly [bigint, number]> = [
  [1n << 127n, 0], // FLD1
  [0xd49a784bcd1b8afe492bf6ff4dafdb4dn, 1], // FLDL2T log2(10)
  [0xb8aa3b295c17f0bbbe87fed0691d3e89n, 0], // FLDL2E log2(e)
  [0xc90fdaa22168c234c4c6628b80dc1cd1n, 1], // FLDPI
  [0x9a209a84fbcff7988f8959ac0b7c9178n, -2], // FLDLG2 log10(2)
  [0xb17217f7d1cf79abc9e3b39803f2f6afn, -1], // FLDLN2 ln(2)
];

export function loadConstant(c: Cpu, f: Fpu, n: number): void {
  if (n === 7) c.ud();
  if ((n === 0 || n === 6) && f.fast) {
    // FLD1 and FLDZ are exact under every rounding control: kept as doubles.
    f.sw &= ~SW_C1;
    if (f.pushCheck()) f.setStD(0, n === 0 ? 1 : 0);
    return;
  }
  if (n === 6) f.setRes(0, 0, 0n);
  else {
    const [sig, e] = CONSTS[n]!;
    roundFloat(0, sig, e - 127, 64, -16382, 16383, f.rc);
    const r = rSig;
    const bl = bitLen(r);
    f.setRes(0, rQ + bl - 1 + BIAS, r << BigInt(64 - bl));
  }
  f.sw &= ~SW_C1;
  pushRes(f);
}
