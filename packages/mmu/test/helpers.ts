import { Mmu, PhysicalMemory } from '../src/index.ts';

export const CR0_PG = 0x80000000 | 0;
export const CR0_WP = 1 << 16;
export const CR4_PSE = 1 << 4;
export const CR4_PGE = 1 << 7;

/** 8 MiB machine with a page directory at 0x1000 and one page table at 0x2000 mapping 0-4 MiB. */
export function pagedMachine(opts: { pteFlags?: number } = {}): { mem: PhysicalMemory; mmu: Mmu } {
  const mem = new PhysicalMemory({ ramSize: 8 << 20 });
  const mmu = new Mmu(mem);
  const flags = opts.pteFlags ?? 0x7; // P | RW | US
  mem.writePhys32(0x1000, 0x2000 | 0x7);
  for (let i = 0; i < 1024; i++) mem.writePhys32(0x2000 + i * 4, (i << 12) | flags);
  mmu.setControl(CR0_PG | 1, 0x1000, 0);
  return { mem, mmu };
}

export function pte(mem: PhysicalMemory, linear: number): number {
  return mem.readPhys32(0x2000 + ((linear >>> 12) & 0x3ff) * 4);
}

export function setPte(mem: PhysicalMemory, linear: number, value: number): void {
  mem.writePhys32(0x2000 + ((linear >>> 12) & 0x3ff) * 4, value);
}

/** Runs fn and returns the thrown error (or fails). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}
