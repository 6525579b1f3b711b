/**
 * The decoded-instruction cache must never run stale code: a guest write into the current
 * block, a write into a page decoded earlier, and a device (DMA) write all take effect.
 */
import { describe, expect, it } from 'vitest';
import { flatMachine, runToHalt } from './helpers.ts';

describe('self-modifying code', () => {
  it('sees a store to the very next instruction', () => {
    // mov byte [t+1], 42 ; t: mov al, 0 ; hlt
    const { cpu } = flatMachine([0xc6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x2a, 0xb0, 0x00, 0xf4]);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.eax & 0xff).toBe(42);
  });

  it('sees a store into a loop body decoded on an earlier iteration', () => {
    // mov ecx, 3 ; l: mov eax, 0 ; add ebx, eax ; mov dword [l+1], 5 ; loop l ; hlt
    const code = [
      0xb9, 0x03, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0x01, 0xc3, 0xc7, 0x05, 0x06, 0x10, 0, 0, 0x05, 0, 0, 0, 0xe2, 0xed, 0xf4,
    ];
    const { cpu } = flatMachine(code);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.ebx).toBe(10);
  });

  it('sees code replaced by a device write between runs', () => {
    const { cpu, phys } = flatMachine([0xb0, 0x01, 0xf4]); // mov al, 1 ; hlt
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.eax & 0xff).toBe(1);
    phys.writeBytes(0x1000, Uint8Array.from([0xb0, 0x02, 0xf4]));
    cpu.regs.eip = 0x1000;
    cpu.halted = false;
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.eax & 0xff).toBe(2);
  });

  it('switches a page whose data keeps being written to checked mode and still sees code stores', () => {
    // mov ecx, 100 ; l: inc dword [data] ; loop l ; mov byte [t+1], 42 ; t: mov al, 0 ; hlt ; data: dd 0
    const code = [
      0xb9, 0x64, 0, 0, 0, 0xff, 0x05, 0x17, 0x10, 0, 0, 0xe2, 0xf8, 0xc6, 0x05, 0x15, 0x10, 0, 0, 0x2a, 0xb0, 0x00, 0xf4,
      0, 0, 0, 0,
    ];
    const { cpu, phys } = flatMachine(code);
    expect(runToHalt(cpu)).toBe('halt');
    expect(phys.readPhys32(0x1017)).toBe(100);
    expect(cpu.regs.eax & 0xff).toBe(42);
    expect(cpu.codeCache.isChecked(1)).toBe(true);
    expect(cpu.codeCache.invalidations).toBeLessThan(10);
  });

  it('decodes a loop once and reuses it', () => {
    // mov ecx, 1000 ; l: inc eax ; loop l ; hlt
    const { cpu } = flatMachine([0xb9, 0xe8, 0x03, 0, 0, 0x40, 0xe2, 0xfd, 0xf4]);
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.eax).toBe(1000);
    expect(cpu.codeCache.decoded).toBeLessThan(10);
  });
});
