/**
 * Intel 82441FX PCI and Memory Controller (PMC), the host bridge of the 440FX chipset, at PCI
 * 00:00.0 (vendor 8086, device 1237) — what QEMU's "pc" machine presents and SeaBIOS looks for
 * first: finding it is how SeaBIOS decides it runs on an emulator whose PAM registers unlock the
 * BIOS shadow RAM (SeaBIOS src/fw/shadow.c, src/fw/paravirt.c).
 *
 * Modelled registers (82441FX datasheet §3.2):
 * - PAM0-PAM6 (0x59-0x5F): read/write attributes of 0xC0000-0xFFFFF (see ShadowRam). PAM0 bits 5:4
 *   cover 0xF0000-0xFFFFF; PAMn (n = 1..6) bits 1:0 cover 0xC0000 + (n-1)·32 KiB, bits 5:4 the
 *   16 KiB above it. The cache-enable and reserved bits read 0.
 * - SMRAM (0x72): stored only (there is no SMM); C_BASE_SEG (bits 2:0) is hard-wired to 010.
 * - the rest of the device-specific space (0x40-0xFF) is plain storage, as on QEMU's model, so
 *   firmware that writes DRAM timing or row-boundary registers reads back what it wrote.
 */
import type { PhysicalMemory, SectionSchema, StateRecord } from '@ferry86/mmu';
import { PciFunction } from './pci-function.ts';
import { PAM_RE, PAM_WE, SHADOW_SEGMENTS, SHADOW_SIZE, ShadowRam } from './shadow-ram.ts';
import { bytes, require } from './stateful-util.ts';

export const I440FX_VENDOR_ID = 0x8086;
export const I440FX_DEVICE_ID = 0x1237;
export const I440FX_PAM0 = 0x59;
export const I440FX_SMRAM = 0x72;
const PAM_REGISTERS = 7;
const PAGE = 4096;
const SHADOW_PAGES = SHADOW_SIZE / PAGE;

const I440FX_SCHEMA: SectionSchema = {
  type: 'pci-i440fx',
  version: 1,
  // config: the 256-byte configuration space. shadow: the pages of the DRAM or ROM image of
  // 0xC0000-0xFFFFF that reads do not currently come from (the RAM pages carry the other), except
  // all-zero pages; shadowPages: their page numbers within the area (0-63), ascending. A machine
  // that never touched the PAM (no BIOS) so carries nothing.
  fields: { config: 'bytes', shadowPages: 'u16[]', shadow: 'bytes' },
};

/** Segment index (ShadowRam numbering) and attribute shift for each PAM nibble: [register][nibble]. */
function pamSegment(reg: number, nibble: number): number {
  // PAM0 low nibble is reserved; PAM0 high = 0xF0000 (segment 0); PAMn low/high = segments 2n-1, 2n.
  if (reg === 0) return nibble === 1 ? 0 : -1;
  return 2 * reg - 1 + nibble;
}

export class I440fxHostBridge extends PciFunction {
  readonly shadow: ShadowRam;

  constructor(phys: PhysicalMemory, sectionName = 'pci-i440fx') {
    super(sectionName, I440FX_SCHEMA, 0, 0, {
      vendorId: I440FX_VENDOR_ID,
      deviceId: I440FX_DEVICE_ID,
      revision: 0x02,
      classCode: 0x060000, // host bridge
      headerType: 0x00,
      // Memory access and bus master are hard-wired on (82441FX PCICMD); medium DEVSEL timing.
      command: 0x0006,
      status: 0x0280,
    });
    for (let o = 0x40; o < 0x100; o++) this.setDefault(o, 0, 0xff);
    this.setDefault16(0x04, 0x0006, 0x0140); // PCICMD: SERR# and PERR# enables
    this.setDefault(0x0d, 0x00, 0xf8); // master latency timer, 8-clock granularity
    this.setDefault(I440FX_PAM0, 0, 0x30);
    for (let r = 1; r < PAM_REGISTERS; r++) this.setDefault(I440FX_PAM0 + r, 0, 0x33);
    this.setDefault(I440FX_SMRAM, 0x02, 0x78);
    this.freezeDefaults();
    this.shadow = new ShadowRam(phys);
  }

  /** The 2-bit RE/WE attribute a PAM register value gives segment `seg`. */
  private attrFromConfig(seg: number): number {
    for (let r = 0; r < PAM_REGISTERS; r++) {
      for (let n = 0; n < 2; n++) {
        if (pamSegment(r, n) === seg) return (this.config[I440FX_PAM0 + r]! >>> (4 * n)) & (PAM_RE | PAM_WE);
      }
    }
    return 0;
  }

  protected override beforeConfigWrite(offset: number, size: number, value: number): void {
    // A PAM change may swap RAM pages; make sure they are present before anything changes.
    for (let i = 0; i < size; i++) {
      const r = ((offset + i) & 0xff) - I440FX_PAM0;
      if (r < 0 || r >= PAM_REGISTERS) continue;
      const v = (value >>> (8 * i)) & this.writeMask[I440FX_PAM0 + r]!;
      for (let n = 0; n < 2; n++) {
        const seg = pamSegment(r, n);
        if (seg >= 0) this.shadow.checkCanSet(seg, (v >>> (4 * n)) & 3);
      }
    }
  }

  protected override configWritten(offset: number, size: number): void {
    if (offset + size <= I440FX_PAM0 || offset >= I440FX_PAM0 + PAM_REGISTERS) return;
    this.applyPam();
  }

  protected override afterReset(): void {
    this.applyPam();
  }

  private applyPam(): void {
    for (let seg = 0; seg < SHADOW_SEGMENTS; seg++) this.shadow.set(seg, this.attrFromConfig(seg));
  }

  protected override saveExtra(): StateRecord {
    const hidden = this.shadow.hidden;
    const pages: number[] = [];
    for (let p = 0; p < SHADOW_PAGES; p++) {
      const page = hidden.subarray(p * PAGE, (p + 1) * PAGE);
      if (page.some((b) => b !== 0)) pages.push(p);
    }
    const shadow = new Uint8Array(pages.length * PAGE);
    pages.forEach((p, i) => shadow.set(hidden.subarray(p * PAGE, (p + 1) * PAGE), i * PAGE));
    return { shadowPages: Uint16Array.from(pages), shadow };
  }

  protected override checkExtra(record: StateRecord): void {
    const pages = record.shadowPages as Uint16Array;
    for (let i = 0; i < pages.length; i++) {
      require(this.sectionName, pages[i]! < SHADOW_PAGES && (i === 0 || pages[i]! > pages[i - 1]!),
        `shadow page list is not ascending page numbers below ${SHADOW_PAGES}`);
    }
    const n = bytes(record, 'shadow').length;
    require(this.sectionName, n === pages.length * PAGE, `shadow image is ${n} bytes for ${pages.length} pages`);
  }

  protected override loadExtra(record: StateRecord): void {
    const attrs = new Uint8Array(SHADOW_SEGMENTS);
    for (let seg = 0; seg < SHADOW_SEGMENTS; seg++) attrs[seg] = this.attrFromConfig(seg);
    const pages = record.shadowPages as Uint16Array;
    const data = bytes(record, 'shadow');
    const hidden = new Uint8Array(SHADOW_SIZE);
    pages.forEach((p, i) => hidden.set(data.subarray(i * PAGE, (i + 1) * PAGE), p * PAGE));
    this.shadow.restore(attrs, hidden);
  }
}
