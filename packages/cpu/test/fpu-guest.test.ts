/**
 * The x87 test kernel (guest/fputest.asm, see guest/README.md) must print exactly what Bochs
 * printed: FSAVE/FSTENV images (constants under every rounding control, every tag class, 16- and
 * 32-bit layouts), stored 80-bit results under precision/rounding control, integer and BCD
 * stores, FXAM/FCOMI, FPREM partial remainders, and a deferred #MF.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NO_IO } from '../src/index.ts';
import { makeMachine, runToHalt } from './helpers.ts';

const guest = (name: string) => readFileSync(new URL(`./guest/${name}`, import.meta.url));

function runKernel(name: string): string[] {
  let out = '';
  const io = { ...NO_IO, out8: (port: number, v: number) => { if (port === 0xe9) out += String.fromCharCode(v); } };
  const m = makeMachine({ ramSize: 8 << 20, io, fpu: true });
  const image = guest(name);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  m.phys.writeBytes(dv.getUint32(16, true), image);
  m.cpu.enterFlatProtectedMode(dv.getUint32(28, true));
  m.cpu.regs.eax = 0x2badb002;
  expect(runToHalt(m.cpu, 5_000_000)).toBe('halt');
  return out.trim().split('\n');
}

describe('fputest kernel', () => {
  it('prints what Bochs prints', () => {
    const got = runKernel('fputest.bin');
    const want = guest('fputest.expected.txt').toString('utf8').trim().split('\n');
    const diffs: string[] = [];
    for (let k = 0; k < Math.max(got.length, want.length); k++) {
      if (got[k] !== want[k]) diffs.push(`line ${k + 1}: got ${got[k]} want ${want[k]}`);
    }
    expect(diffs).toEqual([]);
  });
});
