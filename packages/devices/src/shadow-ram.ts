/**
 * Shadow RAM under the BIOS area, 0xC0000-0xFFFFF, as the 440FX's Programmable Attribute Map
 * (PAM0-PAM6) controls it (Intel 82441FX datasheet §3.2, "PAM registers"; the same scheme as the
 * 430 and 440 families). The area is cut into thirteen segments — 0xF0000-0xFFFFF as one 64 KiB
 * segment, 0xC0000-0xEFFFF as twelve of 16 KiB — and each has two attribute bits:
 *
 *   RE (read enable):  reads come from DRAM; clear, they go to the ROM side (the BIOS flash, or
 *                      nothing for 0xC0000-0xDFFFF unless an option ROM was mapped there).
 *   WE (write enable): writes go to DRAM; clear, they go to the ROM side, where they vanish.
 *
 * Each segment so has two images: DRAM and ROM. The RAM array always holds the one reads come
 * from, so reads stay on the MMU's fast RAM path; the other image waits in `hidden`. When a
 * segment's read source changes, the two images trade places (and the pages are marked in the
 * dirty logs, which also drops decoded code from them). Writes then follow WE: RE+WE is plain RAM,
 * RE alone is read-only RAM, neither is read-only RAM (the ROM), and WE alone — reads from ROM,
 * writes into the hidden DRAM — routes the pages to an MMIO handler. This is what lets SeaBIOS
 * copy itself from flash into DRAM, run from the copy and then write-protect it, and after a reset
 * run from flash again.
 */
import { PageKind, type MmioHandler, type PhysicalMemory } from '@ferry86/mmu';

export const SHADOW_BASE = 0xc0000;
export const SHADOW_SIZE = 0x40000;
/** Attribute bits of one segment (one PAM nibble). */
export const PAM_RE = 1;
export const PAM_WE = 2;
/** Segment 0 is 0xF0000-0xFFFFF; segments 1-12 are 16 KiB each from 0xC0000. */
export const SHADOW_SEGMENTS = 13;

const PAGE = 4096;

export function segmentBase(i: number): number {
  return i === 0 ? 0xf0000 : SHADOW_BASE + (i - 1) * 0x4000;
}

export function segmentSize(i: number): number {
  return i === 0 ? 0x10000 : 0x4000;
}

export class ShadowRam {
  /** The image reads do not currently come from, per byte of 0xC0000-0xFFFFF. */
  readonly hidden = new Uint8Array(SHADOW_SIZE);
  /** Current RE|WE attribute of each segment. */
  private readonly attrs = new Uint8Array(SHADOW_SEGMENTS);
  /** WE-only segments: reads see the ROM image in RAM, writes land in the hidden DRAM. */
  private readonly writeOnlyHandler: MmioHandler;

  constructor(private readonly phys: PhysicalMemory) {
    if (phys.ramSize < SHADOW_BASE + SHADOW_SIZE) throw new RangeError('shadow RAM needs at least 1 MiB of RAM');
    const ram = phys.ram;
    const hidden = this.hidden;
    this.writeOnlyHandler = {
      read8(addr: number): number {
        phys.checkPresent(addr >>> 12);
        return ram[addr]!;
      },
      write8(addr: number, value: number): void {
        hidden[addr - SHADOW_BASE] = value;
      },
    };
    // Power-on: every segment reads and writes the ROM side.
    for (let i = 0; i < SHADOW_SEGMENTS; i++) this.applyAccess(i, 0);
  }

  attribute(i: number): number {
    return this.attrs[i]!;
  }

  /**
   * Throws PageAbsentError if changing segment `i` to `attr` needs a RAM page that has not arrived
   * (post-copy); nothing has changed then, so the guest's configuration write can be restarted.
   */
  checkCanSet(i: number, attr: number): void {
    if (((this.attrs[i]! ^ attr) & PAM_RE) === 0) return;
    const first = segmentBase(i) / PAGE;
    for (let p = first; p < first + segmentSize(i) / PAGE; p++) this.phys.checkPresent(p);
  }

  /** Gives segment `i` the RE/WE attribute `attr`. */
  set(i: number, attr: number): void {
    attr &= PAM_RE | PAM_WE;
    const old = this.attrs[i]!;
    if (old === attr) return;
    this.checkCanSet(i, attr);
    if (((old ^ attr) & PAM_RE) !== 0) this.swapImages(i);
    this.attrs[i] = attr;
    this.applyAccess(i, attr);
  }

  /**
   * After a state load: the RAM array already holds the right image (it came with the RAM pages)
   * and `hidden` the other one, so only the page access types are set.
   */
  restore(attrs: ArrayLike<number>, hidden: Uint8Array): void {
    this.hidden.set(hidden);
    for (let i = 0; i < SHADOW_SEGMENTS; i++) {
      this.attrs[i] = attrs[i]! & (PAM_RE | PAM_WE);
      this.applyAccess(i, this.attrs[i]!);
    }
  }

  private swapImages(i: number): void {
    const base = segmentBase(i);
    const size = segmentSize(i);
    const ram = this.phys.ram;
    const hidden = this.hidden;
    const h = base - SHADOW_BASE;
    for (let o = 0; o < size; o++) {
      const t = ram[base + o]!;
      ram[base + o] = hidden[h + o]!;
      hidden[h + o] = t;
    }
    // The bytes the CPU reads changed: migration must resend them and decoded code is stale.
    for (let p = base / PAGE; p < (base + size) / PAGE; p++) this.phys.markWritten(p);
  }

  private applyAccess(i: number, attr: number): void {
    const first = segmentBase(i) / PAGE;
    const count = segmentSize(i) / PAGE;
    if (attr === (PAM_RE | PAM_WE)) this.phys.setRamPageAccess(first, count, PageKind.Ram);
    else if (attr === PAM_WE) this.phys.setRamPageAccess(first, count, PageKind.Mmio, this.writeOnlyHandler);
    else this.phys.setRamPageAccess(first, count, PageKind.RamReadOnly);
  }
}
