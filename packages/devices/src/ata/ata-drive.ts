/**
 * One ATA hard disk on an IDE channel: the medium (a CowDisk) and the per-device state the
 * channel's task file does not hold — status, error, pending interrupt, the CHS translation set
 * by INITIALIZE DEVICE PARAMETERS, the R/W MULTIPLE block size, the SET FEATURES switches.
 */
import type { CowDisk } from '../disk/cow-disk.ts';
import { buildIdentify, defaultGeometry, type ChsGeometry } from './ata-identify.ts';
import { MAX_MULTIPLE_SECTORS, ST_DRDY, ST_DSC } from './ata-constants.ts';

export interface AtaDriveOptions {
  /** IDENTIFY model string (40 characters at most). */
  model?: string;
  /** IDENTIFY serial number (20 characters at most). */
  serial?: string;
}

export class AtaDrive {
  readonly sectors: number;
  readonly geometry: ChsGeometry;
  readonly model: string;
  readonly serial: string;
  // Device state (saved by the channel).
  status = ST_DRDY | ST_DSC;
  error = 0x01;
  /** INTRQ pending (the device wants the host's attention; cleared by reading Status). */
  irq = false;
  current: ChsGeometry;
  multipleSectors = MAX_MULTIPLE_SECTORS;
  writeCache = true;
  lookAhead = true;

  constructor(readonly disk: CowDisk, opts: AtaDriveOptions = {}) {
    this.sectors = disk.sectorCount;
    this.geometry = defaultGeometry(this.sectors);
    this.current = { ...this.geometry };
    this.model = opts.model ?? 'FERRY86 HARDDISK';
    this.serial = opts.serial ?? 'FERRY86-0001';
  }

  /** Power-on / hardware reset values (ATA-6 §9.1); software reset keeps the settings (§9.2). */
  powerOn(): void {
    this.status = ST_DRDY | ST_DSC;
    this.error = 0x01;
    this.irq = false;
    this.current = { ...this.geometry };
    this.multipleSectors = MAX_MULTIPLE_SECTORS;
    this.writeCache = true;
    this.lookAhead = true;
  }

  identify(): Uint16Array {
    return buildIdentify({
      sectors: this.sectors,
      geometry: this.geometry,
      current: this.current,
      multipleSectors: this.multipleSectors,
      writeCache: this.writeCache,
      lookAhead: this.lookAhead,
      serial: this.serial,
      model: this.model,
      firmware: '1.0',
    });
  }
}
