/**
 * Restartability (DESIGN §2.2): touching an absent page stops run() with EIP at the instruction
 * and nothing changed; once the page arrives the instruction re-runs and completes. The same
 * holds for the instruction fetch and for a stack push. Long REP string instructions run in
 * chunks that re-execute the instruction.
 */
import { describe, expect, it } from 'vitest';
import { flatMachine, runToHalt } from './helpers.ts';

describe('absent pages', () => {
  // mov ebx, 0x200000 ; mov eax, [ebx] ; add eax, 1 ; push eax ; hlt
  const code = [0xbb, 0x00, 0x00, 0x20, 0x00, 0x8b, 0x03, 0x83, 0xc0, 0x01, 0x50, 0xf4];

  it('stops before a load from an absent page and resumes when it arrives', () => {
    const { cpu, phys } = flatMachine(code);
    phys.presence.markAbsent(0x200);
    cpu.regs.eax = 0xaaaa;
    const before = cpu.instructionCount;
    expect(runToHalt(cpu)).toBe('absent');
    expect(cpu.absentPage).toBe(0x200);
    expect(cpu.regs.eip).toBe(0x1005);
    expect(cpu.regs.eax).toBe(0xaaaa);
    expect(cpu.instructionCount - before).toBe(1);
    const page = new Uint8Array(4096);
    page.set([0x41, 0, 0, 0]);
    phys.fillPage(0x200, page);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.eax).toBe(0x42);
    expect(phys.readPhys32(cpu.regs.esp)).toBe(0x42);
  });

  it('stops before a push to an absent stack page with ESP unchanged', () => {
    const { cpu, phys } = flatMachine(code);
    cpu.regs.esp = 0x101000; // the push writes page 0x100
    phys.presence.markAbsent(0x100);
    expect(runToHalt(cpu)).toBe('absent');
    expect(cpu.absentPage).toBe(0x100);
    expect(cpu.regs.eip).toBe(0x100a);
    expect(cpu.regs.esp).toBe(0x101000);
    expect(cpu.regs.eax).toBe(1); // the ADD before it retired
    phys.fillPage(0x100, null);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.esp).toBe(0x100ffc);
  });

  it('stops when the code itself is absent', () => {
    const { cpu, phys } = flatMachine(code);
    phys.presence.markAbsent(0x1);
    expect(runToHalt(cpu)).toBe('absent');
    expect(cpu.absentPage).toBe(1);
    expect(cpu.regs.eip).toBe(0x1000);
    phys.fillPage(1, Uint8Array.from([...code, ...new Array(4096 - code.length).fill(0)]));
    phys.presence.markAbsent(0x200);
    expect(runToHalt(cpu)).toBe('absent');
    expect(cpu.absentPage).toBe(0x200);
  });
});

describe('REP string instructions', () => {
  it('copies 128 KiB in restartable chunks', () => {
    // cld ; mov esi, 0x10000 ; mov edi, 0x30000 ; mov ecx, 0x20000 ; rep movsb ; hlt
    const code = [0xfc, 0xbe, 0, 0, 1, 0, 0xbf, 0, 0, 3, 0, 0xb9, 0, 0, 2, 0, 0xf3, 0xa4, 0xf4];
    const { cpu, phys } = flatMachine(code, 0x1000, { ramSize: 8 << 20 });
    const src = new Uint8Array(0x20000).map((_, k) => (k * 7 + 3) & 0xff);
    phys.writeBytes(0x10000, src);
    cpu.run(5); // up to and including the first chunk of the REP MOVSB
    expect(cpu.regs.eip).toBe(0x1010); // still on the REP MOVSB
    expect(cpu.regs.ecx).toBeGreaterThan(0);
    expect(cpu.regs.ecx).toBeLessThan(0x20000);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.ecx).toBe(0);
    expect(cpu.regs.esi).toBe(0x30000);
    expect(cpu.regs.edi).toBe(0x50000);
    expect(phys.readBytes(0x30000, 0x20000)).toEqual(src);
  });

  it('leaves the registers at the faulting element when a REP MOVSD hits an absent page', () => {
    // mov esi, 0x10000 ; mov edi, 0x1ff000 ; mov ecx, 0x800 ; rep movsd ; hlt   (crosses into page 0x200)
    const code = [0xbe, 0, 0, 1, 0, 0xbf, 0, 0xf0, 0x1f, 0, 0xb9, 0, 8, 0, 0, 0xf3, 0xa5, 0xf4];
    const { cpu, phys } = flatMachine(code);
    phys.presence.markAbsent(0x200);
    expect(runToHalt(cpu)).toBe('absent');
    expect(cpu.regs.eip).toBe(0x100f);
    expect(cpu.regs.edi).toBe(0x200000);
    expect(cpu.regs.ecx).toBe(0x400);
    phys.fillPage(0x200, null);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.ecx).toBe(0);
    expect(cpu.regs.edi).toBe(0x201000);
  });
});
