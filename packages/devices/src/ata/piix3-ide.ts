/**
 * Intel 82371SB PIIX3, function 1: the IDE controller at 00:01.1 (vendor 8086, device 7010;
 * 82371SB datasheet §2.4 "PCI configuration registers - IDE interface").
 *
 * It runs in compatibility ("legacy") mode: programming interface 80h says both channels use the
 * fixed ISA addresses (0x1F0/0x3F6 IRQ14, 0x170/0x376 IRQ15) and that the function is a bus
 * master. The bus-master interface is not implemented, so BMIBA (BAR4, offset 20h) is hard-wired
 * to zero: Linux's ata_piix then prints "BMDMA: BAR4 is zero, falling back to PIO" and drives
 * the disks with PIO. The channels decode their ports whatever these registers say; the
 * registers are here so that a driver finds and configures the controller.
 *
 * IDETIM (40h primary, 42h secondary): bit 15 enables the channel's decode. Its reset value is
 * 0, and firmware (SeaBIOS) sets it; this machine also boots kernels without firmware, and
 * ata_piix skips a channel whose bit is clear, so the default here is the value firmware leaves:
 * 8000h on both channels.
 */
import type { SectionSchema } from '@ferry86/mmu';
import { PciFunction } from '../pci-function.ts';

export const PIIX3_IDE_DEVICE_ID = 0x7010;

const PIIX3_IDE_SCHEMA: SectionSchema = {
  type: 'pci-piix3-ide',
  version: 1,
  fields: { config: 'bytes' },
};

export class Piix3Ide extends PciFunction {
  constructor(sectionName = 'pci-piix3-ide') {
    super(sectionName, PIIX3_IDE_SCHEMA, 1, 1, {
      vendorId: 0x8086,
      deviceId: PIIX3_IDE_DEVICE_ID,
      revision: 0x00,
      classCode: 0x010180, // mass storage, IDE, legacy mode both channels, bus-master capable
      headerType: 0x00,
      command: 0x0000,
      status: 0x0280, // fast back-to-back capable, medium DEVSEL
    });
    // PCICMD: I/O space enable and bus master enable are writable (datasheet §2.4.3).
    this.setDefault16(0x04, 0x0000, 0x0005);
    this.setDefault(0x0d, 0x00, 0xf0); // MLT: master latency timer, bits 7:4
    this.setDefault16(0x40, 0x8000, 0xf377); // IDETIM primary
    this.setDefault16(0x42, 0x8000, 0xf377); // IDETIM secondary
    this.setDefault(0x44, 0x00, 0xff); // SIDETIM: slave IDE timing
    this.freezeDefaults();
  }
}
