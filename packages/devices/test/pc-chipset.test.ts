import { describe, expect, it } from 'vitest';
import { loadBiosRom } from '../src/bios-rom.ts';
import { PcMachine } from '../src/pc-machine.ts';
import { assemble } from './guests.ts';

function cfgRead32(m: PcMachine, device: number, fn: number, reg: number): number {
  m.io.out32(0xcf8, (0x80000000 | (device << 11) | (fn << 8) | reg) >>> 0);
  return m.io.in32(0xcfc);
}

describe('PcMachine with the 440FX/PIIX3 chipset', () => {
  it('shows the host bridge and ISA bridge in PCI configuration space and saves them', () => {
    const m = new PcMachine({ memoryMiB: 4 });
    expect(cfgRead32(m, 0, 0, 0)).toBe(0x12378086);
    expect(cfgRead32(m, 1, 0, 0)).toBe(0x70008086);
    const names = m.stateParts().map((p) => p.sectionName);
    expect(names).toEqual(expect.arrayContaining(['pci-bus', 'pci-i440fx', 'pci-piix3-isa']));
  });

  it('returns the BIOS area to ROM on a machine reset', () => {
    const m = new PcMachine({ memoryMiB: 4 });
    const rom = new Uint8Array(0x10000).fill(0xea);
    loadBiosRom(m, rom);
    m.io.out32(0xcf8, 0x80000058);
    m.io.out8(0xcfd, 0x30); // PAM0: F0000-FFFFF read/write DRAM
    m.mmu.write8(0xf1000, 0x12);
    expect(m.mmu.read8(0xf1000)).toBe(0x12);
    m.reset();
    expect(m.mmu.read8(0xf1000)).toBe(0xea);
  });

  it('resets through 0xCF9 even when the guest triple-faults right after asking', () => {
    const m = new PcMachine({ memoryMiB: 4 });
    loadBiosRom(m, assemble('pci-reset'));
    for (let boot = 1; boot <= 2; boot++) {
      expect(m.run(1000).reason).toBe('reset');
      expect(m.phys.readPhys8(0x500)).toBe(boot);
    }
  });
});
