import { describe, expect, it } from 'vitest';
import { Mmu, PhysicalMemory, StateError, loadStateful, type StateRecord } from '@ferry86/mmu';
import { I440fxChipset } from '../src/i440fx-chipset.ts';
import { IoBus } from '../src/io-bus.ts';

const MiB = 1024 * 1024;

function board(ramMiB = 2) {
  const phys = new PhysicalMemory({ ramSize: ramMiB * MiB });
  const mmu = new Mmu(phys);
  const io = new IoBus();
  let resets = 0;
  const chipset = new I440fxChipset(phys, { requestReset: () => resets++ });
  chipset.attach(io);
  return { phys, mmu, io, chipset, resets: () => resets };
}

/** A configuration-mechanism-#1 address for bus 0. */
function cfgAddr(device: number, fn: number, reg: number, bus = 0): number {
  return (0x80000000 | (bus << 16) | (device << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
}

type Board = ReturnType<typeof board>;

/** Field-by-field equality (vitest's deep equality is slow on 256 KiB arrays). */
function sameRecord(a: StateRecord, b: StateRecord): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    if (ArrayBuffer.isView(x) && ArrayBuffer.isView(y)) {
      return x.constructor === y.constructor
        && Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    }
    return x === y;
  });
}

function cfgRead8(b: Board, device: number, fn: number, reg: number): number {
  b.io.out32(0xcf8, cfgAddr(device, fn, reg));
  return b.io.in8(0xcfc + (reg & 3));
}

function cfgWrite8(b: Board, device: number, fn: number, reg: number, v: number): void {
  b.io.out32(0xcf8, cfgAddr(device, fn, reg));
  b.io.out8(0xcfc + (reg & 3), v);
}

/** The 128 KiB tail of a BIOS image as loadBiosRom maps it below 1 MiB (E0000-FFFFF). */
function mapTestRom(b: Board): Uint8Array {
  const rom = new Uint8Array(0x20000);
  for (let i = 0; i < rom.length; i++) rom[i] = (i * 7 + 3) & 0xff;
  b.phys.mapRom(0xe0000, rom);
  return rom;
}

describe('PCI configuration mechanism #1', () => {
  it('finds the 440FX host bridge at 00:00.0 and the PIIX3 ISA bridge at 00:01.0', () => {
    const b = board();
    b.io.out32(0xcf8, cfgAddr(0, 0, 0));
    expect(b.io.in32(0xcfc)).toBe(0x12378086);
    b.io.out32(0xcf8, cfgAddr(1, 0, 0));
    expect(b.io.in32(0xcfc)).toBe(0x70008086);
    b.io.out32(0xcf8, cfgAddr(1, 0, 8));
    expect(b.io.in32(0xcfc) >>> 8).toBe(0x060100); // class: ISA bridge
    expect(cfgRead8(b, 1, 0, 0x0e)).toBe(0x80); // multi-function
    expect(cfgRead8(b, 0, 0, 0x0b)).toBe(0x06); // base class: bridge
  });

  it('answers byte and word accesses at any offset of CONFIG_DATA', () => {
    const b = board();
    b.io.out32(0xcf8, cfgAddr(0, 0, 0));
    expect(b.io.in8(0xcfc)).toBe(0x86);
    expect(b.io.in8(0xcfd)).toBe(0x80);
    expect(b.io.in8(0xcfe)).toBe(0x37);
    expect(b.io.in8(0xcff)).toBe(0x12);
    expect(b.io.in16(0xcfe)).toBe(0x1237);
    expect(b.io.in16(0xcfc)).toBe(0x8086);
  });

  it('reads all ones from empty slots, other buses and with the enable bit clear', () => {
    const b = board();
    b.io.out32(0xcf8, cfgAddr(2, 0, 0));
    expect(b.io.in32(0xcfc)).toBe(0xffffffff);
    b.io.out32(0xcf8, cfgAddr(1, 1, 0)); // PIIX3 IDE: not modelled
    expect(b.io.in16(0xcfc)).toBe(0xffff);
    b.io.out32(0xcf8, cfgAddr(0, 0, 0, 1));
    expect(b.io.in32(0xcfc)).toBe(0xffffffff);
    b.io.out32(0xcf8, 0x00000000);
    expect(b.io.in32(0xcfc)).toBe(0xffffffff);
  });

  it('latches CONFIG_ADDRESS only on doubleword writes, with reserved bits reading 0', () => {
    const b = board();
    b.io.out32(0xcf8, 0x80000000);
    expect(b.io.in32(0xcf8)).toBe(0x80000000); // SeaBIOS's "is there PCI" probe
    b.io.out32(0xcf8, 0xffffffff);
    expect(b.io.in32(0xcf8)).toBe(0x80fffffc);
    b.io.out32(0xcf8, cfgAddr(0, 0, 0));
    b.io.out8(0xcf8, 0x12); // not CONFIG_ADDRESS
    b.io.out16(0xcfa, 0x3456);
    expect(b.io.in32(0xcf8)).toBe(cfgAddr(0, 0, 0));
  });

  it('keeps read-only registers and applies write masks', () => {
    const b = board();
    b.io.out32(0xcf8, cfgAddr(0, 0, 0));
    b.io.out32(0xcfc, 0);
    expect(b.io.in32(0xcfc)).toBe(0x12378086);
    cfgWrite8(b, 0, 0, 0x72, 0xff); // SMRAM: C_BASE_SEG is hard-wired to 010, bit 7 reserved
    expect(cfgRead8(b, 0, 0, 0x72)).toBe(0x7a);
    cfgWrite8(b, 0, 0, 0x59, 0xff); // PAM0: only bits 5:4
    expect(cfgRead8(b, 0, 0, 0x59)).toBe(0x30);
    cfgWrite8(b, 0, 0, 0x5a, 0xff);
    expect(cfgRead8(b, 0, 0, 0x5a)).toBe(0x33);
  });
});

describe('PIIX3 ISA bridge', () => {
  it('routes PIRQA-D to ISA IRQs as programmed', () => {
    const b = board();
    const isa = b.chipset.isa;
    for (let pin = 0; pin < 4; pin++) {
      expect(cfgRead8(b, 1, 0, 0x60 + pin)).toBe(0x80);
      expect(isa.pirqRoute(pin)).toBeNull();
    }
    // SeaBIOS's routing: A,B -> 10, C,D -> 11, as one doubleword.
    b.io.out32(0xcf8, cfgAddr(1, 0, 0x60));
    b.io.out32(0xcfc, 0x0b0b0a0a);
    expect([0, 1, 2, 3].map((p) => isa.pirqRoute(p))).toEqual([10, 10, 11, 11]);
    cfgWrite8(b, 1, 0, 0x61, 0xf5); // disabled; reserved bits 6:4 dropped
    expect(cfgRead8(b, 1, 0, 0x61)).toBe(0x85);
    expect(isa.pirqRoute(1)).toBeNull();
    cfgWrite8(b, 1, 0, 0x62, 0x0d); // IRQ13 (FPU) is not a legal target
    expect(isa.pirqRoute(2)).toBeNull();
  });

  it('resets the system when RCPU is written at 0xCF9, not on SRST alone', () => {
    const b = board();
    b.io.out8(0xcf9, 0x02);
    expect(b.resets()).toBe(0);
    expect(b.io.in8(0xcf9)).toBe(0x02);
    b.io.out8(0xcf9, 0x06);
    expect(b.resets()).toBe(1);
    expect(b.io.in8(0xcf9)).toBe(0x02); // RCPU reads 0
    // CONFIG_ADDRESS shares the doubleword: a dword write there must not reset.
    b.io.out32(0xcf8, 0x80000400);
    expect(b.resets()).toBe(1);
  });
});

describe('440FX PAM shadow RAM', () => {
  const F = 0xf1234;

  it('at power-on reads the BIOS ROM and ignores writes below 1 MiB', () => {
    const b = board();
    const rom = mapTestRom(b);
    expect(b.mmu.read8(F)).toBe(rom[F - 0xe0000]);
    b.mmu.write8(F, 0x5a);
    expect(b.mmu.read8(F)).toBe(rom[F - 0xe0000]);
    b.mmu.write8(0xc0000, 0x5a); // nothing decodes C0000 yet: the write goes to the (empty) ROM side
    expect(b.mmu.read8(0xc0000)).toBe(0);
  });

  it('copies the BIOS into DRAM, write-protects it, and returns to the ROM after a reset', () => {
    const b = board();
    const rom = mapTestRom(b);
    const romAt = (a: number) => rom[a - 0xe0000]!;
    cfgWrite8(b, 0, 0, 0x59, 0x30); // F0000: read/write DRAM
    expect(b.mmu.read8(F)).toBe(0); // fresh DRAM, not the ROM
    b.mmu.write8(F, 0xab);
    expect(b.mmu.read8(F)).toBe(0xab);
    cfgWrite8(b, 0, 0, 0x59, 0x10); // read-only DRAM: the TLB's write entry must go
    b.mmu.write8(F, 0xcd);
    expect(b.mmu.read8(F)).toBe(0xab);
    cfgWrite8(b, 0, 0, 0x59, 0x00); // back to ROM; DRAM keeps its contents
    expect(b.mmu.read8(F)).toBe(romAt(F));
    cfgWrite8(b, 0, 0, 0x59, 0x20); // write-only: reads ROM, writes reach DRAM
    b.mmu.write8(F + 1, 0xef);
    expect(b.mmu.read8(F + 1)).toBe(romAt(F + 1));
    cfgWrite8(b, 0, 0, 0x59, 0x10);
    expect(b.mmu.read8(F)).toBe(0xab);
    expect(b.mmu.read8(F + 1)).toBe(0xef);
    b.chipset.reset();
    expect(cfgRead8(b, 0, 0, 0x59)).toBe(0);
    expect(b.mmu.read8(F)).toBe(romAt(F));
    expect(b.mmu.read8(F + 1)).toBe(romAt(F + 1));
  });

  it('controls each 16 KiB segment of C0000-EFFFF through its own PAM nibble', () => {
    const b = board();
    const rom = mapTestRom(b);
    cfgWrite8(b, 0, 0, 0x5a, 0x03); // PAM1 low: C0000-C3FFF read/write
    b.mmu.write8(0xc3fff, 1);
    b.mmu.write8(0xc4000, 2);
    expect(b.mmu.read8(0xc3fff)).toBe(1);
    expect(b.mmu.read8(0xc4000)).toBe(0);
    cfgWrite8(b, 0, 0, 0x5f, 0x30); // PAM6 high: EC000-EFFFF
    b.mmu.write8(0xec000, 3);
    b.mmu.write8(0xe8000, 4);
    expect(b.mmu.read8(0xec000)).toBe(3);
    expect(b.mmu.read8(0xe8000)).toBe(rom[0x8000]);
    b.mmu.write32(0xefffc, 0x11223344);
    expect(b.mmu.read32(0xefffc)).toBe(0x11223344);
  });

  it('marks pages whose read source changes in the dirty logs (migration resends them)', () => {
    const b = board();
    mapTestRom(b);
    const log = b.phys.createDirtyLog('test');
    log.collect();
    cfgWrite8(b, 0, 0, 0x5a, 0x30); // C4000-C7FFF
    expect(Array.from(log.collect())).toEqual([0xc4, 0xc5, 0xc6, 0xc7]);
    cfgWrite8(b, 0, 0, 0x5a, 0x20); // read source changes back (to ROM), writes still to DRAM
    expect(Array.from(log.collect())).toEqual([0xc4, 0xc5, 0xc6, 0xc7]);
    cfgWrite8(b, 0, 0, 0x5a, 0x00); // only the write target changes: nothing to resend
    expect(log.collect().length).toBe(0);
  });

  it('travels in a snapshot: a restored board reads and writes exactly as the original', () => {
    const a = board();
    const rom = mapTestRom(a);
    cfgWrite8(a, 0, 0, 0x59, 0x30);
    a.mmu.write8(F, 0x77);
    cfgWrite8(a, 0, 0, 0x59, 0x20); // reads ROM, DRAM hidden with 0x77 in it
    cfgWrite8(a, 0, 0, 0x5b, 0x11); // C8000 and CC000 read-only DRAM
    a.io.out32(0xcf8, cfgAddr(1, 0, 0x60));
    a.io.out32(0xcfc, 0x0b0b0a0a);
    const saved = a.chipset.stateParts().map((p) => [p.sectionName, p.saveState()] as const);

    const b = board();
    b.phys.mapRom(0xe0000, rom);
    b.phys.ram.set(a.phys.ram); // RAM pages travel separately
    const parts = new Map(b.chipset.stateParts().map((p) => [p.sectionName, p]));
    for (const [name, rec] of saved) loadStateful(parts.get(name)!, rec);

    b.chipset.stateParts().forEach((p, i) => expect(sameRecord(p.saveState(), saved[i]![1])).toBe(true));
    expect(b.io.in32(0xcf8)).toBe(cfgAddr(1, 0, 0x60));
    expect(b.chipset.isa.pirqRoute(3)).toBe(11);
    expect(b.mmu.read8(F)).toBe(rom[F - 0xe0000]);
    b.mmu.write8(0xc8000, 9); // read-only
    expect(b.mmu.read8(0xc8000)).toBe(0);
    cfgWrite8(b, 0, 0, 0x59, 0x10);
    expect(b.mmu.read8(F)).toBe(0x77);
  });

  it('refuses a snapshot from a different chip and leaves the board untouched', () => {
    const b = board();
    const host = b.chipset.host;
    const good = host.saveState();
    const cfg = (good.config as Uint8Array).slice();
    cfg[2] = 0x38; // device 1238
    expect(() => loadStateful(host, { ...good, config: cfg })).toThrow(StateError);
    expect(good.shadow).toHaveLength(0); // nothing hidden but zero pages
    expect(() => loadStateful(host, { ...good, shadow: new Uint8Array(16) })).toThrow(StateError);
    expect(() => loadStateful(host, { ...good, shadowPages: Uint16Array.of(64), shadow: new Uint8Array(4096) })).toThrow(StateError);
    expect(() => loadStateful(b.chipset.bus, { address: 0x80000001 })).toThrow(StateError);
    expect(sameRecord(host.saveState(), good)).toBe(true);
  });
});
