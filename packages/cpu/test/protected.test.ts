/**
 * Test kernels (test/guest, see its README) must print exactly what the reference machine printed:
 * pmtest (Bochs): segment loads and faults, interrupt delivery with and without a privilege
 * change, ring-3 restrictions, call gate, #PF restart, self-modifying code; modetest (Bochs):
 * switches between protected, 16-bit protected and real mode; leatest (QEMU): every
 * effective-address form.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NO_IO } from '../src/index.ts';
import { makeMachine, runToHalt } from './helpers.ts';

const guest = (name: string) => readFileSync(new URL(`./guest/${name}`, import.meta.url));
const lines = (name: string) => guest(name).toString('utf8').trim().split('\n');

/** Loads an a.out-kludge multiboot image and hands over in the multiboot machine state. */
function bootMultiboot(image: Uint8Array, io = NO_IO) {
  const m = makeMachine({ ramSize: 8 << 20, io });
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const loadAddr = dv.getUint32(16, true);
  const entry = dv.getUint32(28, true);
  m.phys.writeBytes(loadAddr, image);
  m.cpu.enterFlatProtectedMode(entry);
  m.cpu.regs.eax = 0x2badb002;
  m.cpu.regs.ebx = 0;
  return m;
}

/** Runs a test kernel and returns the lines it printed to port 0xE9. */
function runKernel(name: string): string[] {
  let out = '';
  const io = { ...NO_IO, out8: (port: number, v: number) => { if (port === 0xe9) out += String.fromCharCode(v); } };
  const { cpu } = bootMultiboot(guest(name), io);
  expect(runToHalt(cpu, 5_000_000)).toBe('halt');
  return out.trim().split('\n');
}

function differences(got: string[], want: string[]): string[] {
  const d: string[] = [];
  for (let k = 0; k < Math.max(got.length, want.length); k++) {
    if (got[k] !== want[k]) d.push(`line ${k + 1}: got ${got[k]} want ${want[k]}`);
  }
  return d;
}

describe('pmtest kernel', () => {
  it('prints what Bochs prints', () => {
    expect(differences(runKernel('pmtest.bin'), lines('pmtest.expected.txt'))).toEqual([]);
  });
});

describe('modetest kernel', () => {
  it('switches between protected, 16-bit protected and real mode as Bochs does', () => {
    expect(differences(runKernel('modetest.bin'), lines('modetest.expected.txt'))).toEqual([]);
  });
});

describe('leatest kernel', () => {
  it('computes every 16- and 32-bit effective-address form as QEMU does', () => {
    expect(differences(runKernel('leatest.bin'), lines('leatest.expected.txt'))).toEqual([]);
  });
});
