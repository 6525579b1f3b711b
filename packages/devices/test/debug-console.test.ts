import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { DebugConsole } from '../src/debug-console.ts';
import { IoBus } from '../src/io-bus.ts';

describe('DebugConsole', () => {
  it('sends written bytes to the sink and reads back 0xE9 (Bochs/QEMU detection)', () => {
    const bus = new IoBus();
    const out: number[] = [];
    new DebugConsole(0xe9, (b) => out.push(b)).attach(bus);
    bus.out8(0xe9, 0x41);
    bus.out16(0xe9, 0x4342); // a word write is two byte writes; 0xEA is unclaimed
    expect(out).toEqual([0x41, 0x42]);
    expect(bus.in8(0xe9)).toBe(0xe9);
  });

  it('can sit on another port', () => {
    const bus = new IoBus();
    const out: number[] = [];
    const con = new DebugConsole(0x402, null);
    con.attach(bus);
    con.onOutput((b) => out.push(b));
    bus.out8(0x402, 7);
    expect(out).toEqual([7]);
    expect(con.sectionName).toBe('debugcon-402');
  });

  it('refuses a snapshot whose console was on another port', () => {
    const con = new DebugConsole(0xe9);
    expect(() => con.loadState(new DebugConsole(0x402).saveState())).toThrow(StateError);
    expect(() => con.loadState(con.saveState())).not.toThrow();
  });
});
