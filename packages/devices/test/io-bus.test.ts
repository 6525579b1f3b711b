import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { IoBus, PortConflictError } from '../src/io-bus.ts';

describe('IoBus', () => {
  it('answers all-ones for unassigned ports at every width and ignores writes', () => {
    const bus = new IoBus();
    expect(bus.in8(0x1234)).toBe(0xff);
    expect(bus.in16(0x1234)).toBe(0xffff);
    expect(bus.in32(0x1234)).toBe(0xffffffff);
    expect(() => bus.out32(0x1234, 0xdeadbeef)).not.toThrow();
    expect(bus.in8(0x1234)).toBe(0xff);
  });

  it('dispatches byte accesses to the registered handler with the absolute port number', () => {
    const bus = new IoBus();
    const seen: [number, number][] = [];
    bus.register(0x60, { in8: (p) => p & 0xff, out8: (p, v) => seen.push([p, v]) }, 'kbc', 5);
    expect(bus.in8(0x64)).toBe(0x64);
    bus.out8(0x62, 0x1ff);
    expect(seen).toEqual([[0x62, 0xff]]);
  });

  it('splits 16- and 32-bit accesses to a byte-wide device into byte accesses, low port first', () => {
    const bus = new IoBus();
    const regs = new Uint8Array(8);
    const log: string[] = [];
    bus.register(0x300, {
      in8: (p) => { log.push(`r${p - 0x300}`); return regs[p - 0x300]!; },
      out8: (p, v) => { log.push(`w${p - 0x300}`); regs[p - 0x300] = v; },
    }, 'dev', 8);
    bus.out16(0x300, 0xbbaa);
    expect([...regs.subarray(0, 2)]).toEqual([0xaa, 0xbb]);
    bus.out32(0x304, 0x44332211);
    expect([...regs.subarray(4, 8)]).toEqual([0x11, 0x22, 0x33, 0x44]);
    expect(bus.in16(0x300)).toBe(0xbbaa);
    expect(bus.in32(0x304)).toBe(0x44332211);
    expect(log).toEqual(['w0', 'w1', 'w4', 'w5', 'w6', 'w7', 'r0', 'r1', 'r4', 'r5', 'r6', 'r7']);
  });

  it('half-decoded: a 16-bit read where only the low port exists reads 0xFF for the high byte', () => {
    const bus = new IoBus();
    bus.register(0x80, { in8: () => 0x12 }, 'post');
    expect(bus.in16(0x80)).toBe(0xff12);
  });

  it('gives 16-bit accesses to a 16-bit handler and splits a 32-bit access into two of them', () => {
    const bus = new IoBus();
    const calls: string[] = [];
    bus.register(0x1f0, { in16: (p) => { calls.push(`in16 ${p.toString(16)}`); return p === 0x1f0 ? 0x1234 : 0x5678; } }, 'ata');
    bus.register(0x1f2, { in16: () => 0x5678 }, 'ata');
    expect(bus.in16(0x1f0)).toBe(0x1234);
    expect(bus.in32(0x1f0)).toBe(0x56781234);
    expect(calls).toEqual(['in16 1f0', 'in16 1f0']);
  });

  it('prefers a native 32-bit handler', () => {
    const bus = new IoBus();
    bus.register(0xcfc, { in32: () => 0x80862000, in8: () => 0x11 }, 'pci');
    expect(bus.in32(0xcfc)).toBe(0x80862000);
    expect(bus.in8(0xcfc)).toBe(0x11);
  });

  it('keeps `this` for handlers written as object methods', () => {
    const bus = new IoBus();
    const dev = { value: 0x42, in8(this: { value: number }) { return this.value; } };
    bus.register(0x10, dev, 'dev');
    expect(bus.in8(0x10)).toBe(0x42);
  });

  it('wraps a multi-byte access at the top of the port space', () => {
    const bus = new IoBus();
    bus.register(0x0000, { in8: () => 0xab }, 'low');
    bus.register(0xffff, { in8: () => 0xcd }, 'top');
    expect(bus.in16(0xffff)).toBe(0xabcd);
  });

  it('refuses a second claim of the same port and width, installing nothing', () => {
    const bus = new IoBus();
    bus.register(0x3f8, { in8: () => 1 }, 'com1', 8);
    expect(() => bus.register(0x3f0, { in8: () => 2 }, 'fdc', 9)).toThrow(PortConflictError);
    expect(bus.in8(0x3f0)).toBe(0xff);
    expect(bus.ownerOf(0x3f8)).toBe('com1');
    // A different width on the same port is allowed (e.g. a 32-bit data port beside byte registers).
    expect(() => bus.register(0x3f8, { in32: () => 3 }, 'wide')).not.toThrow();
  });

  it('unregister frees the ports', () => {
    const bus = new IoBus();
    bus.register(0x70, { in8: () => 7 }, 'rtc', 2);
    bus.unregister(0x70, 2);
    expect(bus.in8(0x71)).toBe(0xff);
    expect(bus.ownerOf(0x70)).toBe('');
    bus.register(0x70, { in8: () => 8 }, 'rtc2');
    expect(bus.in8(0x70)).toBe(8);
  });

  it('rejects ranges outside the port space', () => {
    const bus = new IoBus();
    expect(() => bus.register(0xffff, { in8: () => 0 }, 'x', 2)).toThrow(RangeError);
    expect(() => bus.register(0x10, {}, 'x')).toThrow(RangeError);
  });

  it('round-trips its state and refuses a snapshot from a differently wired machine', () => {
    const a = new IoBus();
    a.register(0x20, { in8: () => 0 }, 'pic-master', 2);
    a.register(0x3f8, { in8: () => 0 }, 'com1', 8);
    const b = new IoBus();
    b.register(0x20, { in8: () => 0 }, 'pic-master', 2);
    b.register(0x3f8, { in8: () => 0 }, 'com1', 8);
    expect(() => b.loadState(a.saveState())).not.toThrow();
    const c = new IoBus();
    c.register(0x20, { in8: () => 0 }, 'pic-master', 2);
    expect(() => c.loadState(a.saveState())).toThrow(StateError);
    expect(() => c.loadState({ layout: 5 })).toThrow(StateError);
  });
});
