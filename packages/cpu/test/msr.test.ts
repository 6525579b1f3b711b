/**
 * RDMSR/WRMSR: the MSRs this model has (the TSC and IA32_BIOS_SIGN_ID) and #GP for the rest, and
 * the cpu0 section's v2 -> v3 upgrade that added IA32_BIOS_SIGN_ID.
 */
import { describe, expect, it } from 'vitest';
import { loadStateful, upgradeRecord } from '@ferry86/mmu';
import { CPU_STATE_SCHEMA } from '../src/state.ts';
import { flatMachine, runToHalt } from './helpers.ts';

const HLT = [0xf4];
const movEcx = (v: number) => [0xb9, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movEax = (v: number) => [0xb8, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movEdx = (v: number) => [0xba, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const WRMSR = [0x0f, 0x30];
const RDMSR = [0x0f, 0x32];
const CPUID = [0x0f, 0xa2];

describe('model-specific registers', () => {
  it('IA32_BIOS_SIGN_ID: write 0, CPUID.1, read: microcode revision 0 (none loaded), as Linux probes it', () => {
    const m = flatMachine([...movEcx(0x8b), ...movEax(0), ...movEdx(0), ...WRMSR, ...movEax(1), ...CPUID, ...movEcx(0x8b), ...movEax(0x5555), ...movEdx(0x7777), ...RDMSR, ...HLT]);
    expect(runToHalt(m.cpu)).toBe('halt');
    expect([m.cpu.regs.eax, m.cpu.regs.edx]).toEqual([0, 0]);
  });

  it('IA32_BIOS_SIGN_ID holds what was written until CPUID.1 reloads it', () => {
    const m = flatMachine([...movEcx(0x8b), ...movEax(0x12345678), ...movEdx(0x9abcdef0), ...WRMSR, ...movEax(0), ...movEdx(0), ...RDMSR, ...HLT]);
    expect(runToHalt(m.cpu)).toBe('halt');
    expect([m.cpu.regs.eax, m.cpu.regs.edx]).toEqual([0x12345678, 0x9abcdef0]);
    expect(m.cpu.biosSignId).toBe(0x9abcdef0_12345678n);
  });

  it('an MSR the model lacks (PerfEvtSel0, 0x186) raises #GP: with no IDT the CPU shuts down', () => {
    const m = flatMachine([...movEcx(0x186), ...RDMSR, ...HLT]);
    expect(runToHalt(m.cpu)).toBe('shutdown');
    const w = flatMachine([...movEcx(0xc1), ...WRMSR, ...HLT]);
    expect(runToHalt(w.cpu)).toBe('shutdown');
  });

  it('a version 2 cpu0 record (before IA32_BIOS_SIGN_ID) loads with the register at 0', () => {
    const a = flatMachine([...movEcx(0x8b), ...movEax(1), ...movEdx(2), ...WRMSR, ...HLT]);
    runToHalt(a.cpu);
    const v3 = a.cpu.saveState();
    expect(v3.biosSignId).toBe(0x2_00000001n);
    const v2: Record<string, unknown> = { ...v3 };
    delete v2.biosSignId;
    const b = flatMachine(HLT);
    loadStateful(b.cpu, upgradeRecord('cpu0', CPU_STATE_SCHEMA, 2, v2 as typeof v3));
    expect(b.cpu.biosSignId).toBe(0n);
    expect(b.cpu.regs.eip).toBe(a.cpu.regs.eip);
  });
});
