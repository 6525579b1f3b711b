import { describe, expect, it } from 'vitest';
import { Mmu, PhysicalMemory } from '../src/index.ts';

const pristine = (mem: PhysicalMemory) => Array.from({ length: mem.pageCount }, (_, p) => p).filter((p) => !mem.isPristine(p));

describe('PhysicalMemory.isPristine', () => {
  it('holds for every page of fresh RAM, and stops holding at the first write of any path', () => {
    const mem = new PhysicalMemory({ ramSize: 1 << 20 });
    const mmu = new Mmu(mem);
    expect(pristine(mem)).toEqual([]);
    mmu.write8(0x5000, 0); // writing a zero still counts: the page is no longer known untouched
    mmu.write32(0x8ffe, 0x11223344); // crosses into page 9
    mem.writeBytes(0x20000, new Uint8Array(5000)); // loader: pages 0x20, 0x21
    mem.writePhys16(0x30000, 7); // DMA
    mem.fillPage(0x40, null); // an arriving page
    expect(pristine(mem)).toEqual([5, 8, 9, 0x20, 0x21, 0x30, 0x40]);
  });

  it('sees CPU writes through a TLB entry filled by a read first (no write entry for an unmarked page)', () => {
    const mem = new PhysicalMemory({ ramSize: 1 << 20 });
    const mmu = new Mmu(mem);
    expect(mmu.read32(0x6000)).toBe(0); // TLB entry for page 6 without write permission
    mmu.write32(0x6004, 1);
    expect(mem.isPristine(6)).toBe(false);
    expect(mem.ram[0x6004]).toBe(1);
  });

  it('is false for an absent page (its contents are still to come)', () => {
    const mem = new PhysicalMemory({ ramSize: 1 << 20 });
    mem.presence.markAbsent(3);
    expect(mem.isPristine(3)).toBe(false);
  });
});
