/**
 * tasktest (test/guest/tasktest.asm) must print exactly what Bochs printed: hardware task switches
 * by JMP, CALL through a task gate + IRET back-link, INT n and #DF through task gates in the IDT,
 * busy/limit/present faults before the commit point and a fault after it, 16-bit TSS, T flag,
 * CR3 and LDT from the TSS; virtual-8086 mode entered by IRET and by a task switch with a #GP
 * monitor emulating CLI/STI/PUSHF/INT/IRET/OUT/HLT and the I/O bitmap; a DR0 instruction breakpoint
 * with RF. A snapshot taken while the guest runs in V86 mode restores and finishes identically.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Cpu, NO_IO } from '../src/index.ts';
import { makeMachine, runToHalt, type TestMachine } from './helpers.ts';

const guest = (name: string) => readFileSync(new URL(`./guest/${name}`, import.meta.url));
const expected = guest('tasktest.expected.txt').toString('utf8').trim().split('\n');

function boot(out: { text: string }): TestMachine {
  const io = { ...NO_IO, out8: (port: number, v: number) => { if (port === 0xe9) out.text += String.fromCharCode(v); } };
  const m = makeMachine({ ramSize: 8 << 20, io });
  const image = guest('tasktest.bin');
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  m.phys.writeBytes(dv.getUint32(16, true), image);
  m.cpu.enterFlatProtectedMode(dv.getUint32(28, true));
  m.cpu.regs.eax = 0x2badb002;
  return m;
}

function differences(got: string[], want: string[]): string[] {
  const d: string[] = [];
  for (let k = 0; k < Math.max(got.length, want.length); k++) {
    if (got[k] !== want[k]) d.push(`line ${k + 1}: got ${got[k]} want ${want[k]}`);
  }
  return d;
}

/** Runs one instruction at a time until `pred` holds (or the budget is spent). */
function runUntil(cpu: Cpu, pred: () => boolean, budget: number): boolean {
  for (let n = 0; n < budget; n++) {
    if (pred()) return true;
    cpu.run(1);
    if (cpu.stopReason !== 'limit') return false;
  }
  return pred();
}

describe('tasktest kernel', () => {
  it('prints what Bochs prints', () => {
    const out = { text: '' };
    const { cpu } = boot(out);
    expect(runToHalt(cpu, 5_000_000)).toBe('halt');
    expect(differences(out.text.trim().split('\n'), expected)).toEqual([]);
  });

  it('finishes identically after a snapshot taken in virtual-8086 mode', () => {
    const out = { text: '' };
    const a = boot(out);
    expect(runUntil(a.cpu, () => a.cpu.v86, 1_000_000)).toBe(true);
    a.cpu.run(5);
    expect(a.cpu.v86).toBe(true);
    const state = a.cpu.saveState();
    const b = boot(out);
    b.phys.ram.set(a.phys.ram);
    b.cpu.checkState(state);
    b.cpu.loadState(state);
    expect(b.cpu.v86).toBe(true);
    expect(b.cpu.cpl).toBe(3);
    expect(runToHalt(b.cpu, 5_000_000)).toBe('halt');
    expect(differences(out.text.trim().split('\n'), expected)).toEqual([]);
  });
});
