import { describe, expect, it } from 'vitest';
import { Mmu, PhysicalMemory, TLB_WRITE_SUPERVISOR } from '../src/index.ts';

function machine() {
  const mem = new PhysicalMemory({ ramSize: 1 << 20 });
  return { mem, mmu: new Mmu(mem) };
}

describe('DirtyLog', () => {
  it('reports a page written many times between two collects exactly once', () => {
    const { mem, mmu } = machine();
    const log = mem.createDirtyLog('migration');
    for (let i = 0; i < 1000; i++) mmu.write32(0x5000 + (i % 64) * 4, i);
    mmu.write8(0x7fff, 1);
    expect(Array.from(log.collect())).toEqual([5, 7]);
    expect(log.collect().length).toBe(0);
  });

  it('never misses a write after collect, even when the TLB already held a write entry', () => {
    const { mem, mmu } = machine();
    const log = mem.createDirtyLog('migration');
    mmu.write32(0x3000, 1); // fills a write entry
    expect(Array.from(log.collect())).toEqual([3]);
    expect(mmu.tlb.entries[3]! & TLB_WRITE_SUPERVISOR).toBe(0);
    mmu.write32(0x3004, 2);
    mmu.write16(0x3ffe, 3);
    expect(Array.from(log.collect())).toEqual([3]);
    mmu.write8(0x3001, 2);
    expect(Array.from(log.collect())).toEqual([3]);
  });

  it('starts with every page dirty when asked (first migration round)', () => {
    const { mem } = machine();
    const log = mem.createDirtyLog('m', { allDirty: true });
    expect(log.collect().length).toBe(256);
    expect(log.collect().length).toBe(0);
  });

  it('sees writes from every path: CPU, page-crossing, loader, DMA, page walks', () => {
    const { mem, mmu } = machine();
    const log = mem.createDirtyLog('m');
    mmu.write32(0x8ffe, 0x11223344); // crosses into page 9
    mem.writeBytes(0x20000, new Uint8Array(5000)); // loader: pages 0x20, 0x21
    mem.writePhys16(0x30000, 7); // DMA
    expect(Array.from(log.collect())).toEqual([8, 9, 0x20, 0x21, 0x30]);
  });

  it('keeps independent logs independent', () => {
    const { mem, mmu } = machine();
    const a = mem.createDirtyLog('a');
    const b = mem.createDirtyLog('b');
    mmu.write8(0x1000, 1);
    expect(Array.from(a.collect())).toEqual([1]);
    mmu.write8(0x1000, 2);
    expect(Array.from(a.collect())).toEqual([1]);
    expect(Array.from(b.collect())).toEqual([1]);
  });

  it('calls onFirstWrite once per page per arm, synchronously', () => {
    const { mem, mmu } = machine();
    const seen: number[] = [];
    const code = mem.createDirtyLog('code', { allDirty: true, onFirstWrite: (p) => seen.push(p) });
    mmu.write8(0x4000, 1);
    expect(seen).toEqual([]); // already marked: no trap
    code.rearm(4);
    mmu.write8(0x4001, 1);
    mmu.write8(0x4002, 1);
    expect(seen).toEqual([4]);
  });

  it('re-dirties pages on request and stops restricting writes when disposed', () => {
    const { mem, mmu } = machine();
    const log = mem.createDirtyLog('m');
    log.markDirty([3, 1, 3]);
    expect(Array.from(log.collect())).toEqual([1, 3]);
    log.dispose();
    mmu.write8(0x2000, 1);
    expect(mmu.tlb.entries[2]! & TLB_WRITE_SUPERVISOR).not.toBe(0);
  });
});
