/**
 * The PCI side of a 440FX/PIIX3 board, as QEMU's "pc" machine has it: configuration mechanism #1
 * at 0xCF8/0xCFC, the 82441FX host bridge at 00:00.0 (with PAM shadow RAM over 0xC0000-0xFFFFF)
 * and the PIIX3 ISA bridge at 00:01.0 (with the reset control register at 0xCF9).
 *
 * The PIIX3 IDE function (00:01.1, ata/piix3-ide.ts) is added by the board only when disks are
 * attached (PcMachineConfig.disks). Not present: the USB function and a PIIX4 ACPI/PM function.
 * SeaBIOS reaches its device scan without them: it finds no ACPI PM timer (it times with the TSC
 * calibrated against the PIT) and no SMM-capable PM device (so it leaves SMM alone).
 */
import type { PhysicalMemory, Stateful } from '@ferry86/mmu';
import { I440fxHostBridge } from './i440fx.ts';
import type { IoBus } from './io-bus.ts';
import { PciBus } from './pci-bus.ts';
import { Piix3IsaBridge } from './piix3.ts';

export interface I440fxChipsetOptions {
  /** Asked to reset the system (PIIX3 reset control register). */
  requestReset: () => void;
}

export class I440fxChipset {
  readonly bus = new PciBus();
  readonly host: I440fxHostBridge;
  readonly isa: Piix3IsaBridge;

  constructor(phys: PhysicalMemory, opts: I440fxChipsetOptions) {
    this.host = new I440fxHostBridge(phys);
    this.isa = new Piix3IsaBridge({ requestReset: opts.requestReset });
    this.bus.add(this.host);
    this.bus.add(this.isa);
  }

  attach(io: IoBus): void {
    this.bus.attach(io);
    this.isa.attach(io);
  }

  /** PCI reset: every function's registers to power-on values (PAM back to ROM). */
  reset(): void {
    this.bus.reset();
  }

  stateParts(): Stateful[] {
    return [this.bus, ...this.bus.functions()];
  }
}
