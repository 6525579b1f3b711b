/**
 * One IDE (parallel ATA) channel with up to two ATA disks, driven by programmed I/O
 * (ATA/ATAPI-6, T13/1410D rev. 3b; section numbers below refer to it).
 *
 * Registers: the command block at `base`..`base+7` (data, error/features, sector count, LBA low/
 * mid/high, device, status/command) and the control block at `ctrl` (alternate status / device
 * control); the primary channel is 0x1F0-0x1F7 + 0x3F6 on IRQ14, the secondary 0x170-0x177 +
 * 0x376 on IRQ15. Both devices see every register write (§7.1); reads come from the selected
 * one. When device 1 is selected but absent, device 0 answers with Status 00h (§9.16.1).
 *
 * Commands complete at once, in the instruction that issued them: BSY is never seen, and a
 * completion interrupt is raised immediately, so disk I/O is deterministic (DESIGN §2.3).
 * Data moves through a buffer of one DRQ data block (1 sector, or the multiple count for READ/WRITE
 * MULTIPLE) with the PIO protocols of §9.5 (data-in: DRQ and INTRQ per block; no interrupt at the
 * end) and §9.6 (data-out: the first block without interrupt, INTRQ after every block written).
 * INTRQ is negated by reading Status or writing Command (§5.2.9), and masked by nIEN.
 *
 * Mid-transfer state (the buffer, position, next LBA, sectors left) travels in the section, so a
 * snapshot may be taken between any two data-port accesses.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from '../io-bus.ts';
import { bool, bytes, checkSchema, num, require } from '../stateful-util.ts';
import { SECTOR_SIZE } from '../disk/cow-disk.ts';
import { AtaDrive } from './ata-drive.ts';
import {
  CMD, DC_HOB, DC_NIEN, DC_SRST, DEV_DEV, DEV_LBA, ER_ABRT, MAX_MULTIPLE_SECTORS, ST_BSY, ST_DRDY, ST_DRQ, ST_DSC, ST_ERR,
} from './ata-constants.ts';

const BUFFER_BYTES = MAX_MULTIPLE_SECTORS * SECTOR_SIZE;

/** What the data port is doing. */
const enum Xfer {
  None = 0,
  /** Device to host (PIO data-in). */
  In = 1,
  /** Host to device (PIO data-out). */
  Out = 2,
}

const DRIVE_FIELDS = {
  status: 'u8', error: 'u8', irq: 'bool', heads: 'u8', sectorsPerTrack: 'u8', cylinders: 'u16',
  multiple: 'u8', writeCache: 'bool', lookAhead: 'bool',
} as const;

const IDE_CHANNEL_SCHEMA: SectionSchema = {
  type: 'ide-channel',
  version: 1,
  fields: {
    /** Which devices are attached ("01" = device 0 only): a snapshot loads only into the same wiring. */
    drives: 'string',
    feature: 'u8', count: 'u8', lbaLow: 'u8', lbaMid: 'u8', lbaHigh: 'u8',
    hobFeature: 'u8', hobCount: 'u8', hobLbaLow: 'u8', hobLbaMid: 'u8', hobLbaHigh: 'u8',
    device: 'u8', control: 'u8',
    xfer: 'u8', command: 'u8', buffer: 'bytes', pos: 'u32', end: 'u32',
    nextLba: 'f64', remaining: 'u32', lba48: 'bool', blockSectors: 'u8',
    ...Object.fromEntries(Object.entries(DRIVE_FIELDS).flatMap(([k, t]) => [[`d0${k}`, t], [`d1${k}`, t]])),
  },
};

export interface IdeChannelOptions {
  /** Command block base port (0x1F0 primary, 0x170 secondary). */
  base: number;
  /** Control block port (0x3F6 primary, 0x376 secondary). */
  control: number;
  /** Drives INTRQ (the channel's ISA IRQ line). */
  setIrq: (level: boolean) => void;
  master?: AtaDrive | null;
  slave?: AtaDrive | null;
  sectionName?: string;
}

export class IdeChannel implements Stateful {
  readonly sectionName: string;
  readonly schema = IDE_CHANNEL_SCHEMA;
  readonly base: number;
  readonly controlPort: number;
  readonly drives: readonly [AtaDrive | null, AtaDrive | null];
  private readonly setIrqLine: (level: boolean) => void;
  private irqLevel = false;

  // Command block registers (§7): current and previous ("HOB") values for 48-bit commands.
  private feature = 0;
  private count = 0;
  private lbaLow = 0;
  private lbaMid = 0;
  private lbaHigh = 0;
  private hobFeature = 0;
  private hobCount = 0;
  private hobLbaLow = 0;
  private hobLbaMid = 0;
  private hobLbaHigh = 0;
  private device = 0;
  private control = 0;

  // The transfer in progress.
  private xfer: Xfer = Xfer.None;
  private command = 0;
  private readonly buffer = new Uint8Array(BUFFER_BYTES);
  private pos = 0;
  private end = 0;
  /** LBA of the sector after the current block. */
  private nextLba = 0;
  /** Sectors after the current block. */
  private remaining = 0;
  private lba48 = false;

  constructor(opts: IdeChannelOptions) {
    this.base = opts.base;
    this.controlPort = opts.control;
    this.setIrqLine = opts.setIrq;
    this.drives = [opts.master ?? null, opts.slave ?? null];
    this.sectionName = opts.sectionName ?? 'ide0';
    this.reset();
  }

  attach(io: IoBus): void {
    const owner = this.sectionName;
    io.register(this.base, {
      in16: () => this.readData16(),
      out16: (_p, v) => this.writeData16(v),
      in32: () => (this.readData16() | (this.readData16() << 16)) >>> 0,
      out32: (_p, v) => {
        this.writeData16(v & 0xffff);
        this.writeData16(v >>> 16);
      },
    }, owner);
    io.register(this.base + 1, {
      in8: (p) => this.readRegister(p - this.base),
      out8: (p, v) => this.writeRegister(p - this.base, v),
    }, owner, 7);
    io.register(this.controlPort, {
      in8: () => this.altStatus(),
      out8: (_p, v) => this.writeControl(v),
    }, owner);
  }

  /** Hardware reset (RESET-, §9.1): both devices to power-on state, device 0 selected. */
  reset(): void {
    this.control = 0;
    for (const d of this.drives) d?.powerOn();
    this.resetRegisters();
    this.updateIrq();
  }

  /** The level this channel drives on its IRQ line. */
  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  private get selected(): AtaDrive | null {
    return this.drives[(this.device & DEV_DEV) !== 0 ? 1 : 0]!;
  }

  // ---- register file ----------------------------------------------------------------------------

  private readRegister(reg: number): number {
    const hob = (this.control & DC_HOB) !== 0;
    switch (reg) {
      case 1: return this.selected?.error ?? 0;
      case 2: return hob ? this.hobCount : this.count;
      case 3: return hob ? this.hobLbaLow : this.lbaLow;
      case 4: return hob ? this.hobLbaMid : this.lbaMid;
      case 5: return hob ? this.hobLbaHigh : this.lbaHigh;
      case 6: return this.device;
      default: {
        // Status: reading it acknowledges the interrupt (§7.15).
        const d = this.selected;
        if (!d) return 0;
        if (d.irq) {
          d.irq = false;
          this.updateIrq();
        }
        return d.status;
      }
    }
  }

  private altStatus(): number {
    return this.selected?.status ?? 0;
  }

  private writeRegister(reg: number, v: number): void {
    // A write to any command block register clears HOB (§7.9).
    this.control &= ~DC_HOB;
    switch (reg) {
      case 1: this.hobFeature = this.feature; this.feature = v; break;
      case 2: this.hobCount = this.count; this.count = v; break;
      case 3: this.hobLbaLow = this.lbaLow; this.lbaLow = v; break;
      case 4: this.hobLbaMid = this.lbaMid; this.lbaMid = v; break;
      case 5: this.hobLbaHigh = this.lbaHigh; this.lbaHigh = v; break;
      case 6:
        // Bits 7 and 5 are obsolete and read back as ones on the drives QEMU models.
        this.device = v | 0xa0;
        this.updateIrq();
        break;
      default: this.executeCommand(v);
    }
  }

  private writeControl(v: number): void {
    const wasReset = (this.control & DC_SRST) !== 0;
    const reset = (v & DC_SRST) !== 0;
    this.control = v & (DC_HOB | DC_SRST | DC_NIEN);
    if (reset && !wasReset) {
      // SRST asserted: both devices stop whatever they do and stay busy until it is released (§9.2).
      this.xfer = Xfer.None;
      for (const d of this.drives) {
        if (!d) continue;
        d.status = ST_BSY | ST_DSC;
        d.irq = false;
      }
    } else if (!reset && wasReset) {
      for (const d of this.drives) {
        if (!d) continue;
        d.status = ST_DRDY | ST_DSC;
        d.error = 0x01; // diagnostic code: no error (§9.2, table 30)
      }
      this.resetRegisters();
    }
    this.updateIrq();
  }

  /** The signature an ATA device leaves after reset or diagnostics (§9.12): 01h/01h/00h/00h/00h. */
  private resetRegisters(): void {
    this.xfer = Xfer.None;
    this.pos = this.end = 0;
    this.feature = this.hobFeature = 0;
    this.count = this.hobCount = 1;
    this.lbaLow = this.hobLbaLow = 1;
    this.lbaMid = this.lbaHigh = this.hobLbaMid = this.hobLbaHigh = 0;
    this.device = 0xa0;
  }

  private updateIrq(): void {
    const d = this.selected;
    const level = d !== null && d.irq && (this.control & DC_NIEN) === 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.setIrqLine(level);
    }
  }

  private raise(d: AtaDrive): void {
    d.irq = true;
    this.updateIrq();
  }

  // ---- commands ---------------------------------------------------------------------------------

  private executeCommand(cmd: number): void {
    if (cmd === CMD.EXECUTE_DEVICE_DIAGNOSTIC) {
      this.diagnostic();
      return;
    }
    const d = this.selected;
    // Device 0 does not execute commands addressed to an absent device 1 (§9.16.1); with SRST
    // held (BSY) the devices ignore commands too.
    if (!d || (d.status & ST_BSY) !== 0) return;
    d.irq = false;
    this.xfer = Xfer.None;
    this.command = cmd;
    this.lba48 = false;
    switch (cmd) {
      case CMD.IDENTIFY_DEVICE: {
        const w = d.identify();
        for (let i = 0; i < 256; i++) {
          this.buffer[2 * i] = w[i]! & 0xff;
          this.buffer[2 * i + 1] = w[i]! >>> 8;
        }
        this.remaining = 0;
        this.beginDataIn(d, SECTOR_SIZE);
        return;
      }
      case CMD.READ_SECTORS: case CMD.READ_SECTORS_NORETRY:
        return this.startTransfer(d, Xfer.In, false, 1);
      case CMD.READ_SECTORS_EXT:
        return this.startTransfer(d, Xfer.In, true, 1);
      case CMD.READ_MULTIPLE: case CMD.READ_MULTIPLE_EXT:
        if (d.multipleSectors === 0) return this.abort(d);
        return this.startTransfer(d, Xfer.In, cmd === CMD.READ_MULTIPLE_EXT, d.multipleSectors);
      case CMD.WRITE_SECTORS: case CMD.WRITE_SECTORS_NORETRY:
        return this.startTransfer(d, Xfer.Out, false, 1);
      case CMD.WRITE_SECTORS_EXT:
        return this.startTransfer(d, Xfer.Out, true, 1);
      case CMD.WRITE_MULTIPLE: case CMD.WRITE_MULTIPLE_EXT:
        if (d.multipleSectors === 0) return this.abort(d);
        return this.startTransfer(d, Xfer.Out, cmd === CMD.WRITE_MULTIPLE_EXT, d.multipleSectors);
      case CMD.READ_VERIFY_SECTORS: case CMD.READ_VERIFY_SECTORS_NORETRY: case CMD.READ_VERIFY_SECTORS_EXT: {
        // §8.31: like a read without the data transfer: checks the range, ends with an interrupt.
        this.lba48 = cmd === CMD.READ_VERIFY_SECTORS_EXT;
        const lba = this.address(d);
        const n = this.sectorCount();
        if (lba < 0 || lba + n > d.sectors) return this.idNotFound(d);
        return this.complete(d);
      }
      case CMD.SET_MULTIPLE_MODE: {
        // §8.39: a power of two up to the maximum of IDENTIFY word 47; 0 turns multiple mode off.
        const n = this.count;
        if (n > MAX_MULTIPLE_SECTORS || (n & (n - 1)) !== 0) return this.abort(d);
        d.multipleSectors = n;
        return this.complete(d);
      }
      case CMD.SET_FEATURES:
        return this.setFeatures(d);
      case CMD.INITIALIZE_DEVICE_PARAMETERS: {
        // ATA-5 §8.16: sectors per track from Sector Count, heads from Device bits 3:0 (+1).
        const spt = this.count;
        const heads = (this.device & 0x0f) + 1;
        if (spt === 0) return this.abort(d);
        d.current = { cylinders: Math.min(65535, Math.floor(d.sectors / (heads * spt))), heads, sectorsPerTrack: spt };
        return this.complete(d);
      }
      case CMD.READ_NATIVE_MAX:
      case CMD.READ_NATIVE_MAX_EXT: {
        // §8.25/§8.26: the highest address, in the address registers (no Host Protected Area here).
        const ext = cmd === CMD.READ_NATIVE_MAX_EXT;
        if (!ext && (this.device & DEV_LBA) === 0) return this.abort(d);
        this.lba48 = ext;
        this.setAddress(Math.min(d.sectors, ext ? 2 ** 48 : 0x10000000) - 1);
        return this.complete(d);
      }
      case CMD.CHECK_POWER_MODE:
        this.count = 0xff; // active or idle (§8.6)
        return this.complete(d);
      case CMD.FLUSH_CACHE: case CMD.FLUSH_CACHE_EXT:
      case CMD.STANDBY_IMMEDIATE: case CMD.IDLE_IMMEDIATE: case CMD.STANDBY: case CMD.IDLE: case CMD.SLEEP:
      case CMD.SEEK:
        // Writes reach the overlay at once, so there is no cache to flush; power states change
        // nothing a guest can observe here beyond the completion.
        return this.complete(d);
      default:
        if (cmd >= 0x10 && cmd <= 0x1f) return this.complete(d); // RECALIBRATE
        return this.abort(d);
    }
  }

  /** SET FEATURES (§8.37) subcommands this drive implements; others abort. */
  private setFeatures(d: AtaDrive): void {
    switch (this.feature) {
      case 0x02: d.writeCache = true; break;
      case 0x82: d.writeCache = false; break;
      case 0xaa: d.lookAhead = true; break;
      case 0x55: d.lookAhead = false; break;
      case 0x66: case 0xcc: break; // revert to power-on defaults after reset: off / on
      case 0x03: {
        // Set transfer mode (§8.37.4, table 44): PIO default (00h/01h) or PIO flow control mode
        // 0-4 (08h-0Ch). DMA modes abort: this drive advertises none.
        const mode = this.count;
        if (!(mode === 0x00 || mode === 0x01 || (mode >= 0x08 && mode <= 0x0c))) return this.abort(d);
        break;
      }
      default:
        return this.abort(d);
    }
    this.complete(d);
  }

  /** EXECUTE DEVICE DIAGNOSTIC (§8.11): both devices run it; device 0 reports for both. */
  private diagnostic(): void {
    const [d0, d1] = this.drives;
    this.xfer = Xfer.None;
    this.resetRegisters();
    if (d1) {
      d1.error = 0x01;
      d1.status = ST_DRDY | ST_DSC;
      d1.irq = false;
    }
    if (d0) {
      // Diagnostic code 01h: device 0 passed, device 1 passed or not present (table 14).
      d0.error = 0x01;
      d0.status = ST_DRDY | ST_DSC;
      this.raise(d0);
    }
    this.updateIrq();
  }

  private complete(d: AtaDrive): void {
    d.error = 0;
    d.status = ST_DRDY | ST_DSC;
    this.raise(d);
  }

  private abort(d: AtaDrive): void {
    this.xfer = Xfer.None;
    d.error = ER_ABRT;
    d.status = ST_DRDY | ST_ERR;
    this.raise(d);
  }

  /**
   * An address outside the disk. §8.27.6 allows ABRT or IDNF here ("IDNF ... if command aborted
   * is not returned"); this reports ABRT, as QEMU does, so guests see the same on both.
   */
  private idNotFound(d: AtaDrive): void {
    this.abort(d);
  }

  // ---- addressing -------------------------------------------------------------------------------

  /** Sectors the command asks for: Sector Count 0 means 256 (28-bit) or 65536 (48-bit) (§8.27.3). */
  private sectorCount(): number {
    if (this.lba48) return ((this.hobCount << 8) | this.count) || 65536;
    return this.count || 256;
  }

  /** The command's first sector as an LBA, or -1 for a CHS address outside the translation. */
  private address(d: AtaDrive): number {
    if (this.lba48) {
      // §6.20: the previous contents ("HOB") are address bits 47:24.
      const hi = (this.hobLbaHigh << 16) | (this.hobLbaMid << 8) | this.hobLbaLow;
      return hi * 0x1000000 + ((this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow);
    }
    if ((this.device & DEV_LBA) !== 0) {
      return ((this.device & 0x0f) * 0x1000000) + ((this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow);
    }
    // CHS (§6.2.1, obsolete but used by BIOSes): sector numbers start at 1.
    const c = d.current;
    const cyl = (this.lbaHigh << 8) | this.lbaMid;
    const head = this.device & 0x0f;
    const sector = this.lbaLow;
    if (sector === 0 || sector > c.sectorsPerTrack || head >= c.heads) return -1;
    return (cyl * c.heads + head) * c.sectorsPerTrack + sector - 1;
  }

  /** Puts `lba` back into the address registers in the command's addressing mode. */
  private setAddress(lba: number): void {
    if (this.lba48) {
      const hi = Math.floor(lba / 0x1000000);
      this.hobLbaLow = hi & 0xff;
      this.hobLbaMid = (hi >>> 8) & 0xff;
      this.hobLbaHigh = (hi >>> 16) & 0xff;
      this.lbaLow = lba & 0xff;
      this.lbaMid = (lba >>> 8) & 0xff;
      this.lbaHigh = (lba >>> 16) & 0xff;
    } else if ((this.device & DEV_LBA) !== 0) {
      this.lbaLow = lba & 0xff;
      this.lbaMid = (lba >>> 8) & 0xff;
      this.lbaHigh = (lba >>> 16) & 0xff;
      this.device = (this.device & 0xf0) | ((lba >>> 24) & 0x0f);
    } else {
      const d = this.selected!;
      const c = d.current;
      const track = Math.floor(lba / c.sectorsPerTrack);
      const cyl = Math.floor(track / c.heads);
      this.lbaLow = (lba % c.sectorsPerTrack) + 1;
      this.lbaMid = cyl & 0xff;
      this.lbaHigh = (cyl >>> 8) & 0xff;
      this.device = (this.device & 0xf0) | (track % c.heads);
    }
  }

  // ---- PIO data transfers -----------------------------------------------------------------------

  private startTransfer(d: AtaDrive, dir: Xfer, lba48: boolean, perBlock: number): void {
    this.lba48 = lba48;
    const lba = this.address(d);
    const n = this.sectorCount();
    if (lba < 0 || lba + n > d.sectors) return this.idNotFound(d);
    this.nextLba = lba;
    this.remaining = n;
    this.blockSectors = perBlock;
    if (dir === Xfer.In) this.readBlock(d);
    else this.beginDataOut(d, false);
  }

  /** Sectors per DRQ data block of the current command (1, or the multiple count). */
  private blockSectors = 1;

  /** Loads the next block from the disk and offers it to the host. */
  private readBlock(d: AtaDrive): void {
    const n = Math.min(this.remaining, this.blockSectors);
    d.disk.readSectors(this.nextLba, n, this.buffer);
    this.nextLba += n;
    this.remaining -= n;
    this.beginDataIn(d, n * SECTOR_SIZE);
  }

  private beginDataIn(d: AtaDrive, length: number): void {
    this.xfer = Xfer.In;
    this.pos = 0;
    this.end = length;
    d.error = 0;
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raise(d);
  }

  /** Asks the host for the next block; the first one comes without an interrupt (§9.6). */
  private beginDataOut(d: AtaDrive, interrupt: boolean): void {
    this.xfer = Xfer.Out;
    this.pos = 0;
    this.end = Math.min(this.remaining, this.blockSectors) * SECTOR_SIZE;
    d.error = 0;
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    if (interrupt) this.raise(d);
  }

  private readData16(): number {
    if (this.xfer !== Xfer.In) return 0xffff; // no data to give: the bus floats
    const b = this.buffer;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8);
    this.pos += 2;
    if (this.pos >= this.end) this.dataInBlockDone();
    return v;
  }

  private writeData16(v: number): void {
    if (this.xfer !== Xfer.Out) return;
    this.buffer[this.pos] = v & 0xff;
    this.buffer[this.pos + 1] = (v >>> 8) & 0xff;
    this.pos += 2;
    if (this.pos >= this.end) this.dataOutBlockDone();
  }

  private dataInBlockDone(): void {
    const d = this.selected!;
    const isDiskRead = this.command !== CMD.IDENTIFY_DEVICE;
    if (isDiskRead) this.setAddress(this.nextLba);
    if (isDiskRead && this.remaining > 0) {
      this.count = this.remaining & 0xff;
      this.readBlock(d);
      return;
    }
    // Last block: DRQ drops, no interrupt (§9.5, PIO data-in state HPIOI2 -> HI4).
    this.xfer = Xfer.None;
    if (isDiskRead) this.count = 0;
    d.status = ST_DRDY | ST_DSC;
  }

  private dataOutBlockDone(): void {
    const d = this.selected!;
    const n = this.end / SECTOR_SIZE;
    d.disk.writeSectors(this.nextLba, n, this.buffer);
    this.nextLba += n;
    this.remaining -= n;
    this.setAddress(this.nextLba);
    this.count = this.remaining & 0xff;
    if (this.remaining > 0) {
      this.beginDataOut(d, true);
      return;
    }
    this.xfer = Xfer.None;
    d.status = ST_DRDY | ST_DSC;
    this.raise(d);
  }

  // ---- Stateful -----------------------------------------------------------------------------------

  private wiring(): string {
    return this.drives.map((d) => (d ? '1' : '0')).join('');
  }

  saveState(): StateRecord {
    const r: StateRecord = {
      drives: this.wiring(),
      feature: this.feature, count: this.count, lbaLow: this.lbaLow, lbaMid: this.lbaMid, lbaHigh: this.lbaHigh,
      hobFeature: this.hobFeature, hobCount: this.hobCount, hobLbaLow: this.hobLbaLow, hobLbaMid: this.hobLbaMid, hobLbaHigh: this.hobLbaHigh,
      device: this.device, control: this.control,
      xfer: this.xfer, command: this.command, buffer: this.buffer.slice(), pos: this.pos, end: this.end,
      nextLba: this.nextLba, remaining: this.remaining, lba48: this.lba48, blockSectors: this.blockSectors,
    };
    this.drives.forEach((d, i) => {
      r[`d${i}status`] = d?.status ?? 0;
      r[`d${i}error`] = d?.error ?? 0;
      r[`d${i}irq`] = d?.irq ?? false;
      r[`d${i}heads`] = d?.current.heads ?? 0;
      r[`d${i}sectorsPerTrack`] = d?.current.sectorsPerTrack ?? 0;
      r[`d${i}cylinders`] = d?.current.cylinders ?? 0;
      r[`d${i}multiple`] = d?.multipleSectors ?? 0;
      r[`d${i}writeCache`] = d?.writeCache ?? false;
      r[`d${i}lookAhead`] = d?.lookAhead ?? false;
    });
    return r;
  }

  checkState(record: StateRecord): void {
    const s = this.sectionName;
    checkSchema(s, this.schema, record);
    require(s, record.drives === this.wiring(), `the snapshot's channel has drives "${String(record.drives)}", this one "${this.wiring()}" (1 = present, master first)`);
    const xfer = num(record, 'xfer');
    require(s, xfer <= Xfer.Out, `transfer state ${xfer} is not 0 (none), 1 (in) or 2 (out)`);
    require(s, bytes(record, 'buffer').length === BUFFER_BYTES, `the data buffer is ${bytes(record, 'buffer').length} bytes, not ${BUFFER_BYTES}`);
    const pos = num(record, 'pos');
    const end = num(record, 'end');
    require(s, end <= BUFFER_BYTES && end % 2 === 0 && pos % 2 === 0 && pos <= end && (xfer === Xfer.None || pos < end),
      `data position ${pos} / block end ${end} are not a valid place in a ${BUFFER_BYTES}-byte buffer`);
    const next = num(record, 'nextLba');
    const remaining = num(record, 'remaining');
    require(s, Number.isSafeInteger(next) && next >= 0 && remaining <= 65536, `next LBA ${next} / ${remaining} sectors left are not a transfer`);
    const d = xfer === Xfer.None ? null : this.drives[(num(record, 'device') & DEV_DEV) !== 0 ? 1 : 0];
    if (xfer !== Xfer.None) {
      require(s, d !== null && d !== undefined, 'a transfer is in progress with a device that is not present');
      // Reads count the block being read out as done already; writes count the one being filled as left.
      require(s, next + remaining <= d.sectors, `the transfer runs past the end of the disk (LBA ${next} + ${remaining} sectors > ${d.sectors})`);
      const bs = num(record, 'blockSectors');
      require(s, bs >= 1 && bs <= MAX_MULTIPLE_SECTORS && end <= bs * SECTOR_SIZE, `a block of ${bs} sectors cannot hold ${end} bytes`);
    }
    for (let i = 0; i < 2; i++) {
      const drive = this.drives[i];
      if (!drive) continue;
      const mult = num(record, `d${i}multiple`);
      require(s, mult <= MAX_MULTIPLE_SECTORS && (mult & (mult - 1)) === 0, `device ${i}: multiple count ${mult} is not a power of two up to ${MAX_MULTIPLE_SECTORS}`);
      require(s, num(record, `d${i}heads`) >= 1 && num(record, `d${i}heads`) <= 16 && num(record, `d${i}sectorsPerTrack`) >= 1,
        `device ${i}: CHS translation ${num(record, `d${i}heads`)} heads × ${num(record, `d${i}sectorsPerTrack`)} sectors is not valid`);
    }
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.feature = num(record, 'feature');
    this.count = num(record, 'count');
    this.lbaLow = num(record, 'lbaLow');
    this.lbaMid = num(record, 'lbaMid');
    this.lbaHigh = num(record, 'lbaHigh');
    this.hobFeature = num(record, 'hobFeature');
    this.hobCount = num(record, 'hobCount');
    this.hobLbaLow = num(record, 'hobLbaLow');
    this.hobLbaMid = num(record, 'hobLbaMid');
    this.hobLbaHigh = num(record, 'hobLbaHigh');
    this.device = num(record, 'device');
    this.control = num(record, 'control');
    this.xfer = num(record, 'xfer') as Xfer;
    this.command = num(record, 'command');
    this.buffer.set(bytes(record, 'buffer'));
    this.pos = num(record, 'pos');
    this.end = num(record, 'end');
    this.nextLba = num(record, 'nextLba');
    this.remaining = num(record, 'remaining');
    this.lba48 = bool(record, 'lba48');
    this.blockSectors = num(record, 'blockSectors');
    this.drives.forEach((d, i) => {
      if (!d) return;
      d.status = num(record, `d${i}status`);
      d.error = num(record, `d${i}error`);
      d.irq = bool(record, `d${i}irq`);
      d.current = { heads: num(record, `d${i}heads`), sectorsPerTrack: num(record, `d${i}sectorsPerTrack`), cylinders: num(record, `d${i}cylinders`) };
      d.multipleSectors = num(record, `d${i}multiple`);
      d.writeCache = bool(record, `d${i}writeCache`);
      d.lookAhead = bool(record, `d${i}lookAhead`);
    });
    // The line's level is derived state; the PIC's own section holds what it latched.
    const d = this.selected;
    this.irqLevel = d !== null && d.irq && (this.control & DC_NIEN) === 0;
  }
}
