import { describe, expect, it } from 'vitest';
import { Mmu, PageFaultError, PhysicalMemory, TLB_WRITE_SUPERVISOR, TLB_WRITE_USER } from '../src/index.ts';
import { CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, pagedMachine, pte, setPte, thrown } from './helpers.ts';

describe('32-bit paging', () => {
  it('translates 4 KiB pages and sets A on read, A and D on write', () => {
    const { mem, mmu } = pagedMachine();
    setPte(mem, 0x400000 - 0x1000, 0x5000 | 7); // map last page of the table to 0x5000
    mem.writePhys32(0x5010, 0x12345678);
    expect(mmu.read32(0x3ff010) >>> 0).toBe(0x12345678);
    expect(pte(mem, 0x3ff000) & 0x60).toBe(0x20);
    mmu.write8(0x3ff011, 0xaa);
    expect(pte(mem, 0x3ff000) & 0x60).toBe(0x60);
    expect(mem.readPhys8(0x5011)).toBe(0xaa);
    expect(mem.readPhys32(0x1000) & 0x20).toBe(0x20); // PDE accessed
  });

  it('translates 4 MiB pages with CR4.PSE and sets D in the PDE', () => {
    const mem = new PhysicalMemory({ ramSize: 8 << 20 });
    const mmu = new Mmu(mem);
    mem.writePhys32(0x1000 + 1 * 4, 0x400000 | 0x80 | 7); // 4-8 MiB -> 4-8 MiB
    mem.writePhys32(0x1000 + 2 * 4, 0x400000 | 0x80 | 7); // 8-12 MiB -> 4-8 MiB alias
    mmu.setControl(CR0_PG | 1, 0x1000, CR4_PSE);
    mmu.write32(0x812344, 0x0badf00d);
    expect(mem.readPhys32(0x412344)).toBe(0x0badf00d);
    expect(mem.readPhys32(0x1008) & 0x60).toBe(0x60);
    expect(mmu.read32(0x412344)).toBe(0x0badf00d);
  });

  it('raises #PF with the SDM error code and CR2 for not-present, U/S and R/W violations', () => {
    const { mem, mmu } = pagedMachine();
    setPte(mem, 0x10000, 0); // not present
    setPte(mem, 0x11000, 0x11000 | 0x3); // supervisor RW
    setPte(mem, 0x12000, 0x12000 | 0x5); // user read-only
    const f = (fn: () => unknown) => {
      const e = thrown(fn) as PageFaultError;
      expect(e).toBeInstanceOf(PageFaultError);
      return [e.errorCode, e.linear];
    };
    expect(f(() => mmu.read8(0x10004))).toEqual([0, 0x10004]);
    expect(f(() => mmu.write8(0x10004, 1))).toEqual([2, 0x10004]);
    mmu.cpl = 3;
    expect(f(() => mmu.read8(0x11000))).toEqual([5, 0x11000]);
    expect(f(() => mmu.write32(0x12ffc, 1))).toEqual([7, 0x12ffc]);
    expect(mmu.read8(0x12000)).toBe(0);
    mmu.cpl = 0;
    // CR0.WP=0: supervisor may write a read-only page; with WP=1 it faults with code 3.
    mmu.write8(0x12000, 0x55);
    mmu.setControl(CR0_PG | CR0_WP | 1, 0x1000, 0);
    expect(f(() => mmu.write8(0x12001, 1))).toEqual([3, 0x12001]);
    // Supervisor ("system") accesses from CPL 3 are supervisor accesses.
    mmu.cpl = 3;
    expect(mmu.readSys8(0x11000)).toBe(0);
  });

  it('never yields a write TLB entry for a read-only PTE', () => {
    const { mem, mmu } = pagedMachine();
    setPte(mem, 0x20000, 0x20000 | 0x5 | 0x40); // user, read-only, already dirty
    mmu.setControl(CR0_PG | CR0_WP | 1, 0x1000, 0);
    mmu.read8(0x20000);
    mmu.cpl = 3;
    mmu.read8(0x20000);
    const e = mmu.tlb.entries[0x20]!;
    expect(e).not.toBe(0);
    expect(e & (TLB_WRITE_SUPERVISOR | TLB_WRITE_USER)).toBe(0);
  });

  it('leaves page tables untouched when an access faults', () => {
    const { mem, mmu } = pagedMachine();
    setPte(mem, 0x13000, 0x13000 | 0x5);
    mmu.cpl = 3;
    thrown(() => mmu.write8(0x13000, 1));
    expect(pte(mem, 0x13000) & 0x60).toBe(0);
  });

  it('needs INVLPG to see a changed PTE, and drops the stale entry with it', () => {
    const { mem, mmu } = pagedMachine();
    mem.writePhys8(0x30000, 0x11);
    mem.writePhys8(0x31000, 0x22);
    expect(mmu.read8(0x30000)).toBe(0x11);
    setPte(mem, 0x30000, 0x31000 | 7);
    expect(mmu.read8(0x30000)).toBe(0x11); // stale, as on hardware
    mmu.invlpg(0x30000);
    expect(mmu.read8(0x30000)).toBe(0x22);
  });

  it('keeps global pages across a CR3 reload only with CR4.PGE', () => {
    const { mem, mmu } = pagedMachine();
    setPte(mem, 0x40000, 0x40000 | 0x107); // global
    setPte(mem, 0x41000, 0x41000 | 0x007);
    mmu.setControl(CR0_PG | 1, 0x1000, CR4_PGE);
    mmu.read8(0x40000);
    mmu.read8(0x41000);
    mmu.setControl(CR0_PG | 1, 0x1000, CR4_PGE);
    expect(mmu.tlb.entries[0x40]).not.toBe(0);
    expect(mmu.tlb.entries[0x41]).toBe(0);
  });

  it('writes a page-crossing value only when both pages translate', () => {
    const { mem, mmu } = pagedMachine();
    setPte(mem, 0x51000, 0);
    mem.writePhys32(0x50ffc, 0x01020304);
    const e = thrown(() => mmu.write32(0x50ffe, -1)) as PageFaultError;
    expect(e.linear).toBe(0x51000);
    expect(mem.readPhys32(0x50ffc)).toBe(0x01020304);
    mmu.write32(0x4fffe, 0x11223344 | 0);
    expect(mmu.read32(0x4fffe)).toBe(0x11223344);
    expect(mmu.read16(0x4ffff)).toBe(0x2233);
  });
});

describe('A20 gate', () => {
  it('wraps at 1 MiB when disabled', () => {
    const mem = new PhysicalMemory({ ramSize: 2 << 20 });
    const mmu = new Mmu(mem);
    mmu.write8(0x100005, 0x42);
    mem.setA20(false);
    expect(mmu.read8(0x100005)).toBe(0);
    mmu.write8(0x100006, 0x43);
    expect(mem.readPhys8(0x6)).toBe(0x43);
    mem.setA20(true);
    expect(mmu.read8(0x100005)).toBe(0x42);
  });
});
