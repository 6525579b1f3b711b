import { describe, expect, it } from 'vitest';
import { Mmu, PageAbsentError, PhysicalMemory } from '../src/index.ts';
import { pagedMachine, thrown } from './helpers.ts';

describe('page presence', () => {
  it('aborts before changing memory, and the access succeeds once the page arrives', () => {
    const mem = new PhysicalMemory({ ramSize: 1 << 20 });
    const mmu = new Mmu(mem);
    mmu.write32(0x6ffc, 0x01020304);
    mmu.read8(0x7000); // cache a translation: absence must still be seen
    mem.presence.markAbsent(7);
    const before = mem.ram.slice();
    const e = thrown(() => mmu.write32(0x6ffe, -1)) as PageAbsentError;
    expect(e).toBeInstanceOf(PageAbsentError);
    expect(e.page).toBe(7);
    expect(Buffer.compare(mem.ram, before)).toBe(0);
    expect((thrown(() => mmu.read8(0x7123)) as PageAbsentError).page).toBe(7);
    expect((thrown(() => mem.writeBytes(0x6000, new Uint8Array(8192))) as PageAbsentError).page).toBe(7);
    expect(Buffer.compare(mem.ram, before)).toBe(0);
    const page = new Uint8Array(4096).fill(9);
    mem.fillPage(7, page);
    mmu.write32(0x6ffe, -1);
    expect(mmu.read32(0x6ffc)).toBe(0xffff0304 | 0);
    expect(mmu.read8(0x7002)).toBe(9);
  });

  it('reports an absent page table page during a walk', () => {
    const { mem, mmu } = pagedMachine();
    mem.presence.markAbsent(2); // the page table
    expect((thrown(() => mmu.read8(0x3000)) as PageAbsentError).page).toBe(2);
    expect(mem.presence.absentCount).toBe(1);
  });
});

describe('ROM and MMIO', () => {
  it('ignores writes to ROM and routes MMIO accesses to the device', () => {
    const mem = new PhysicalMemory({ ramSize: 1 << 20 });
    const mmu = new Mmu(mem);
    const rom = new Uint8Array(0x10000).fill(0xea);
    mem.mapRom(0xf0000, rom);
    mem.mapRom(0xffff0000, rom);
    mmu.write8(0xf0000, 0);
    expect(mmu.read8(0xf0000)).toBe(0xea);
    expect(mmu.read8(0xfffffff0)).toBe(0xea);
    mmu.write8(0xfffffff0, 0);
    expect(mmu.read8(0xfffffff0)).toBe(0xea);
    const regs = new Map<number, number>();
    mem.mapMmio(0xfee00000, 0x1000, {
      read8: (a) => regs.get(a) ?? 0,
      write8: (a, v) => void regs.set(a, v),
    });
    mmu.write8(0xfee00020, 0x5a);
    expect(mmu.read8(0xfee00020)).toBe(0x5a);
    expect(mmu.read8(0xe0000000)).toBe(0xff); // open bus
  });
});
