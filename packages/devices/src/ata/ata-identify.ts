/**
 * IDENTIFY DEVICE data (ATA/ATAPI-6 §8.15, table 27): 256 words describing the drive. Strings are
 * ASCII with the two characters of each word swapped (§8.15.10: "the first character is in bits
 * 15:8"). What the drive advertises here is what it implements: LBA28 and LBA48 addressing, PIO
 * modes 0-4, READ/WRITE MULTIPLE up to MAX_MULTIPLE_SECTORS, FLUSH CACHE (EXT), a write cache and
 * read look-ahead that SET FEATURES may switch; no DMA (this controller has no bus master).
 */
import { MAX_MULTIPLE_SECTORS } from './ata-constants.ts';

/** The drive's default CHS geometry (what old software sees), for `sectors` 512-byte sectors. */
export interface ChsGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/**
 * Default geometry of a disk without a partition table to guess from: 16 heads of 63 sectors,
 * cylinders = size / 1008 clamped to 2..16383 (the CHS limit of IDENTIFY words 1/3/6, and what
 * QEMU reports for such a disk).
 */
export function defaultGeometry(sectors: number): ChsGeometry {
  const cylinders = Math.min(16383, Math.max(2, Math.floor(sectors / (16 * 63))));
  return { cylinders, heads: 16, sectorsPerTrack: 63 };
}

export interface IdentifyParams {
  sectors: number;
  geometry: ChsGeometry;
  /** Current translation (INITIALIZE DEVICE PARAMETERS), words 54-58. */
  current: ChsGeometry;
  /** Current R/W MULTIPLE block size (0 = multiple mode off), word 59. */
  multipleSectors: number;
  writeCache: boolean;
  lookAhead: boolean;
  serial: string;
  model: string;
  firmware: string;
}

export function buildIdentify(p: IdentifyParams): Uint16Array {
  const w = new Uint16Array(256);
  const g = p.geometry;
  w[0] = 0x0040; // bit 6: fixed (not removable) device
  w[1] = g.cylinders;
  w[3] = g.heads;
  w[6] = g.sectorsPerTrack;
  putString(w, 10, 20, p.serial);
  putString(w, 23, 8, p.firmware);
  putString(w, 27, 40, p.model);
  w[47] = 0x8000 | MAX_MULTIPLE_SECTORS; // bits 15:8 are 80h (§8.15.18)
  w[49] = 0x0200; // LBA supported (DMA not)
  w[50] = 0x4000; // bit 14 shall be one
  w[51] = 0x0200; // PIO mode 2 data transfer cycle timing (obsolete field)
  w[53] = 0x0003; // words 54-58 and 64-70 are valid
  const c = p.current;
  w[54] = c.cylinders;
  w[55] = c.heads;
  w[56] = c.sectorsPerTrack;
  const chsCapacity = c.cylinders * c.heads * c.sectorsPerTrack;
  w[57] = chsCapacity & 0xffff;
  w[58] = chsCapacity >>> 16;
  w[59] = p.multipleSectors > 0 ? 0x0100 | p.multipleSectors : 0;
  const lba28 = Math.min(p.sectors, 0x0fffffff);
  w[60] = lba28 & 0xffff;
  w[61] = lba28 >>> 16;
  w[64] = 0x0003; // PIO modes 3 and 4
  w[65] = 120; // minimum multiword DMA cycle time (ns), required once word 53 bit 1 is set
  w[66] = 120;
  w[67] = 120; // minimum PIO cycle time without flow control
  w[68] = 120; // with IORDY
  w[80] = 0x007e; // supports ATA-1 .. ATA/ATAPI-6
  w[82] = 0x0060; // look-ahead (bit 6) and write cache (bit 5) supported
  w[83] = 0x4000 | 0x2000 | 0x1000 | 0x0400; // FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
  w[84] = 0x4000;
  w[85] = (p.lookAhead ? 0x0040 : 0) | (p.writeCache ? 0x0020 : 0);
  w[86] = 0x2000 | 0x1000 | 0x0400;
  w[87] = 0x4000;
  w[93] = 0x4001; // hardware reset result for device 0: bits 14 and 0 shall be one (§8.15.56)
  // Words 100-103: maximum user LBA + 1 for 48-bit addressing.
  w[100] = p.sectors & 0xffff;
  w[101] = Math.floor(p.sectors / 0x10000) & 0xffff;
  w[102] = Math.floor(p.sectors / 0x100000000) & 0xffff;
  w[103] = 0;
  return w;
}

function putString(w: Uint16Array, first: number, length: number, s: string): void {
  const padded = s.padEnd(length, ' ').slice(0, length);
  for (let i = 0; i < length; i += 2) {
    w[first + i / 2] = ((padded.charCodeAt(i) & 0x7f) << 8) | (padded.charCodeAt(i + 1) & 0x7f);
  }
}
