/**
 * PCI bus 0 and the host bridge's configuration mechanism #1 (PCI Local Bus Specification 2.1
 * §3.7.4.1; Intel 82441FX datasheet, CONFADD/CONFDATA): CONFIG_ADDRESS at 0xCF8 and CONFIG_DATA
 * at 0xCFC-0xCFF.
 *
 * Only a full doubleword access to 0xCF8 reaches CONFIG_ADDRESS; byte and word accesses there are
 * ordinary I/O (which is how the PIIX's reset control register at 0xCF9 shares the address).
 * With the enable bit (31) set, an access of any width to 0xCFC-0xCFF becomes a configuration
 * cycle to register (CONFIG_ADDRESS bits 7:2) + (port & 3). A cycle to a bus other than 0 or to an
 * empty slot ends in master abort: reads return all ones, writes vanish — which is how software
 * discovers what is present.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import type { PciFunction } from './pci-function.ts';
import { checkSchema, num, require } from './stateful-util.ts';

export const PCI_CONFIG_ADDRESS_PORT = 0xcf8;
export const PCI_CONFIG_DATA_PORT = 0xcfc;

/** CONFIG_ADDRESS bits that hold state: enable (31), bus (23:16), device (15:11), function (10:8), register (7:2). */
const ADDRESS_MASK = 0x80fffffc;

const PCI_BUS_SCHEMA: SectionSchema = {
  type: 'pci-config-mechanism-1',
  version: 1,
  fields: { address: 'u32' },
};

/** Two functions were placed at the same device/function number. */
export class PciSlotConflictError extends Error {
  override readonly name = 'PciSlotConflictError';
}

export class PciBus implements Stateful {
  readonly sectionName = 'pci-bus';
  readonly schema = PCI_BUS_SCHEMA;
  /** CONFIG_ADDRESS as the host last wrote it (reserved bits read 0). */
  private address = 0;
  /** Functions of bus 0 indexed by device << 3 | function. */
  private readonly slots: (PciFunction | null)[] = new Array<PciFunction | null>(256).fill(null);

  /** Puts a function on bus 0 at its device/function number. */
  add(fn: PciFunction): void {
    const devfn = (fn.device << 3) | fn.fn;
    const there = this.slots[devfn];
    if (there) throw new PciSlotConflictError(`PCI slot ${fn.address} is taken by "${there.sectionName}"; "${fn.sectionName}" cannot go there too`);
    this.slots[devfn] = fn;
  }

  /** The function at bus 0 device/function, or null. */
  functionAt(device: number, fn: number): PciFunction | null {
    return this.slots[((device & 31) << 3) | (fn & 7)]!;
  }

  /** Every function on the bus, by device/function number. */
  functions(): PciFunction[] {
    return this.slots.filter((f): f is PciFunction => f !== null);
  }

  attach(io: IoBus): void {
    io.register(PCI_CONFIG_ADDRESS_PORT, {
      in32: () => this.address,
      out32: (_p, v) => {
        this.address = (v & ADDRESS_MASK) >>> 0;
      },
    }, 'pci-config-address');
    io.register(PCI_CONFIG_DATA_PORT, {
      in8: (p) => this.readData(p, 1),
      out8: (p, v) => this.writeData(p, 1, v),
      in16: (p) => this.readData(p, 2),
      out16: (p, v) => this.writeData(p, 2, v),
      in32: (p) => this.readData(p, 4),
      out32: (p, v) => this.writeData(p, 4, v),
    }, 'pci-config-data', 4);
  }

  /** The host's PCI reset: CONFIG_ADDRESS clears and every function returns to power-on values. */
  reset(): void {
    this.address = 0;
    for (const f of this.slots) if (f) f.reset();
  }

  /** The function CONFIG_ADDRESS selects, or null (disabled, another bus, empty slot). */
  private selected(): PciFunction | null {
    const a = this.address;
    if ((a & 0x80000000) === 0 || ((a >>> 16) & 0xff) !== 0) return null;
    return this.slots[(a >>> 8) & 0xff]!;
  }

  private readData(port: number, size: number): number {
    const f = this.selected();
    if (f === null) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return f.readConfig((this.address & 0xfc) | (port & 3), size);
  }

  private writeData(port: number, size: number, value: number): void {
    const f = this.selected();
    if (f !== null) f.writeConfig((this.address & 0xfc) | (port & 3), size, value);
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    return { address: this.address };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    const a = num(record, 'address');
    require(this.sectionName, (a & ~ADDRESS_MASK) === 0, `CONFIG_ADDRESS 0x${a.toString(16)} has reserved bits set`);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.address = num(record, 'address');
  }
}
