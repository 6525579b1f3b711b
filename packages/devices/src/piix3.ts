/**
 * Intel 82371SB PIIX3, function 0: the PCI-to-ISA bridge at 00:01.0 (vendor 8086, device 7000),
 * and its Reset Control Register at I/O port 0xCF9 (82371SB datasheet §2.2 and §2.3).
 *
 * The ISA devices behind it (PICs with the ELCR at 0x4D0/0x4D1, PIT, RTC, keyboard controller) are
 * separate parts of the machine; this function holds the bridge's own configuration registers:
 * - PIRQRC[A:D] (0x60-0x63): route PCI interrupt lines PIRQA#-PIRQD# to ISA IRQs. Bit 7 set means
 *   "not routed"; bits 3:0 name the IRQ (0-2, 8 and 13 are not allowed targets). SeaBIOS programs
 *   them and the ELCR and writes the result into the $PIR table; with no PCI device raising an
 *   interrupt yet, routing is what `pirqRoute()` reports.
 * - the other documented registers (IORT, XBCS, TOM, MSTAT, MBIRQ, MBDMA, APICBASE, DLC, SMI
 *   control) are plain storage with their reset values.
 *
 * The header type has bit 7 set: the PIIX3 is a multi-function device (IDE at function 1, USB at
 * 2), so firmware looks at the other functions: IDE is there when the board has disks, USB never.
 *
 * RCR (0xCF9): bit 1 (SRST) selects a hard reset, and a 0->1 write of bit 2 (RCPU) starts a reset.
 * Both kinds reset this machine completely (it has no separate CPU INIT); bit 1 reads back, bit 2
 * reads 0.
 */
import type { SectionSchema, StateRecord } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { PCI_HEADER_MULTI_FUNCTION, PciFunction } from './pci-function.ts';
import { num, require } from './stateful-util.ts';

export const PIIX3_VENDOR_ID = 0x8086;
export const PIIX3_ISA_DEVICE_ID = 0x7000;
export const PIIX3_PIRQRC = 0x60;
export const RESET_CONTROL_PORT = 0xcf9;
const RCR_SRST = 0x02;
const RCR_RCPU = 0x04;
/** ISA IRQs a PIRQ may not be routed to (82371SB PIRQRC: 0, 1, 2, 8 and 13 are reserved). */
const RESERVED_IRQS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 8) | (1 << 13);

const PIIX3_SCHEMA: SectionSchema = {
  type: 'pci-piix3-isa',
  version: 1,
  fields: { config: 'bytes', rcr: 'u8' },
};

export interface Piix3Options {
  /** Asked to reset the system (RCR). */
  requestReset: () => void;
  sectionName?: string;
}

export class Piix3IsaBridge extends PciFunction {
  private rcr = 0;
  private readonly requestReset: () => void;

  constructor(opts: Piix3Options) {
    super(opts.sectionName ?? 'pci-piix3-isa', PIIX3_SCHEMA, 1, 0, {
      vendorId: PIIX3_VENDOR_ID,
      deviceId: PIIX3_ISA_DEVICE_ID,
      revision: 0x00,
      classCode: 0x060100, // ISA bridge
      headerType: PCI_HEADER_MULTI_FUNCTION,
      // I/O, memory and bus master enables are hard-wired on; medium DEVSEL.
      command: 0x0007,
      status: 0x0200,
    });
    this.requestReset = opts.requestReset;
    this.setDefault16(0x04, 0x0007, 0x0008); // PCICMD: special cycle enable
    this.setDefault(0x4c, 0x4d, 0xff); // IORT: ISA I/O recovery timer
    this.setDefault16(0x4e, 0x0003, 0x07ff); // XBCS: X-bus chip select
    for (let i = 0; i < 4; i++) this.setDefault(PIIX3_PIRQRC + i, 0x80, 0x8f);
    this.setDefault(0x69, 0x02, 0xfe); // TOM: top of memory
    this.setDefault16(0x6a, 0x0000, 0x00ff); // MSTAT: miscellaneous status
    this.setDefault(0x70, 0x80, 0xef); // MBIRQ0: motherboard IRQ route
    this.setDefault(0x76, 0x0c, 0x8f); // MBDMA0
    this.setDefault(0x77, 0x0c, 0x8f); // MBDMA1
    this.setDefault16(0x78, 0x0002, 0xffff); // PCSC: programmable chip select
    this.setDefault(0x80, 0x00, 0x3f); // APICBASE
    this.setDefault(0x82, 0x00, 0x0f); // DLC: deterministic latency
    this.setDefault(0xa0, 0x08, 0x1f); // SMICNTL
    this.setDefault16(0xa2, 0x0000, 0x00ff); // SMIEN
    this.setDefault16(0xa4, 0x0000, 0xffff); // SEE low
    this.setDefault16(0xa6, 0x0000, 0xffff); // SEE high
    this.setDefault(0xa8, 0x0f, 0xff); // FTMR: fast-off timer
    this.setDefault16(0xaa, 0x0000, 0xffff); // SMIREQ
    this.setDefault(0xac, 0x00, 0xff); // CTLTMR
    this.setDefault(0xae, 0x00, 0xff); // CTHTMR
    this.freezeDefaults();
  }

  /** The ISA IRQ PCI interrupt line PIRQ `pin` (0 = PIRQA# .. 3 = PIRQD#) is routed to, or null. */
  pirqRoute(pin: number): number | null {
    const v = this.config[PIIX3_PIRQRC + (pin & 3)]!;
    const irq = v & 0x0f;
    if ((v & 0x80) !== 0 || ((RESERVED_IRQS >>> irq) & 1) !== 0) return null;
    return irq;
  }

  attach(io: IoBus): void {
    io.register(RESET_CONTROL_PORT, {
      in8: () => this.rcr,
      out8: (_p, v) => {
        // RCPU is not stored (it reads 0), so every write with it set is a 0->1 transition.
        this.rcr = v & RCR_SRST;
        if ((v & RCR_RCPU) !== 0) this.requestReset();
      },
    }, 'piix3-reset-control');
  }

  protected override afterReset(): void {
    this.rcr = 0;
  }

  protected override saveExtra(): StateRecord {
    return { rcr: this.rcr };
  }

  protected override checkExtra(record: StateRecord): void {
    require(this.sectionName, (num(record, 'rcr') & ~RCR_SRST) === 0, `reset control register 0x${num(record, 'rcr').toString(16)} has reserved bits set`);
  }

  protected override loadExtra(record: StateRecord): void {
    this.rcr = num(record, 'rcr');
  }
}
