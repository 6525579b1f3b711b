/**
 * The cpu0 state section: a CPU restored from a saved record (into a fresh machine with a copy of
 * RAM) continues exactly like the original, instruction for instruction.
 */
import { loadStateful, validateRecord } from '@ferry86/mmu';
import { describe, expect, it } from 'vitest';
import { flatMachine, makeMachine, runToHalt } from './helpers.ts';

// mov ecx, 50000 ; l: imul eax, ecx, 7 ; xor edx, eax ; add [0x8000], edx ; ror eax, 3 ;
// adc ebx, eax ; push ebx ; pop esi ; dec ecx ; jnz l ; hlt
const CODE = [
  0xb9, 0x50, 0xc3, 0x00, 0x00, 0x6b, 0xc1, 0x07, 0x31, 0xc2, 0x01, 0x15, 0x00, 0x80, 0x00, 0x00, 0xc1, 0xc8, 0x03,
  0x11, 0xc3, 0x53, 0x5e, 0x49, 0x75, 0xeb, 0xf4,
];

describe('cpu0 state', () => {
  it('round-trips mid-run and the restored CPU finishes identically', () => {
    const ref = flatMachine(CODE);
    expect(runToHalt(ref.cpu)).toBe('halt');

    const a = flatMachine(CODE);
    a.cpu.run(123_457);
    const rec = a.cpu.saveState();
    validateRecord('cpu0', a.cpu.schema, rec);

    const b = makeMachine();
    b.phys.writeBytes(0, a.phys.ram);
    loadStateful(b.cpu, rec);
    expect(b.cpu.regs.eip).toBe(a.cpu.regs.eip);
    expect(runToHalt(b.cpu)).toBe('halt');

    expect(b.cpu.saveState()).toEqual(ref.cpu.saveState());
    expect(b.phys.readPhys32(0x8000)).toBe(ref.phys.readPhys32(0x8000));
  });

  it('rejects a record with an impossible CPL before changing anything', () => {
    const a = flatMachine(CODE);
    const rec = { ...a.cpu.saveState(), cpl: 5 };
    const b = makeMachine();
    const before = b.cpu.saveState();
    expect(() => loadStateful(b.cpu, rec)).toThrow(/CPL 5/);
    expect(b.cpu.saveState()).toEqual(before);
  });
});
