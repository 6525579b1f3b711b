/**
 * One function of a PCI device as its configuration space shows it (PCI Local Bus Specification
 * 2.1, chapter 6): 256 bytes, of which the predefined header identifies the function and the rest
 * holds its device-specific registers. Which bits software can change is a per-byte write mask;
 * every other bit keeps its power-on value, so a snapshot that disagrees with those bits came
 * from a different chip and is refused.
 *
 * The configuration space is the function's state: it travels in snapshots as one 256-byte field,
 * and subclasses add fields for state that lives outside it (the 440FX's hidden shadow DRAM).
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { bytes, checkSchema, require } from './stateful-util.ts';

export const PCI_CONFIG_SIZE = 256;

/** Offsets in the predefined header (PCI 2.1 §6.1). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
/** Header type bit 7: the device has functions other than 0 (PCI 2.1 §6.2.1). */
export const PCI_HEADER_MULTI_FUNCTION = 0x80;

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** Base class << 16 | sub-class << 8 | programming interface. */
  classCode: number;
  headerType: number;
  /** Power-on command register. */
  command?: number;
  /** Power-on status register. */
  status?: number;
}

export abstract class PciFunction implements Stateful {
  /** The configuration space as software reads it. */
  readonly config = new Uint8Array(PCI_CONFIG_SIZE);
  /** Per byte: the bits a configuration write may change. */
  protected readonly writeMask = new Uint8Array(PCI_CONFIG_SIZE);
  /** Power-on contents (reset restores them). */
  private readonly defaults = new Uint8Array(PCI_CONFIG_SIZE);
  private frozen = false;

  protected constructor(
    readonly sectionName: string,
    readonly schema: SectionSchema,
    /** Device number on bus 0 (0-31). */
    readonly device: number,
    /** Function number (0-7). */
    readonly fn: number,
    id: PciIdentity,
  ) {
    if (!(Number.isInteger(device) && device >= 0 && device < 32 && Number.isInteger(fn) && fn >= 0 && fn < 8)) {
      throw new RangeError(`PCI device ${device} function ${fn} is outside 0-31 / 0-7`);
    }
    this.setDefault16(PCI_VENDOR_ID, id.vendorId);
    this.setDefault16(PCI_DEVICE_ID, id.deviceId);
    this.setDefault16(PCI_COMMAND, id.command ?? 0);
    this.setDefault16(PCI_STATUS, id.status ?? 0);
    this.setDefault(PCI_REVISION_ID, id.revision);
    this.setDefault(PCI_CLASS_PROG, id.classCode & 0xff);
    this.setDefault(PCI_CLASS_PROG + 1, (id.classCode >>> 8) & 0xff);
    this.setDefault(PCI_CLASS_PROG + 2, (id.classCode >>> 16) & 0xff);
    this.setDefault(PCI_HEADER_TYPE, id.headerType);
  }

  /** bus:device.function, as in lspci. */
  get address(): string {
    return `00:${this.device.toString(16).padStart(2, '0')}.${this.fn}`;
  }

  // ---- construction helpers (subclass constructors only) ----------------------------------------

  /** Sets a byte's power-on value and which of its bits software may write. */
  protected setDefault(offset: number, value: number, mask = 0): void {
    if (this.frozen) throw new Error('PCI defaults are fixed once construction is finished');
    this.defaults[offset] = value;
    this.config[offset] = value;
    this.writeMask[offset] = mask;
  }

  protected setDefault16(offset: number, value: number, mask = 0): void {
    this.setDefault(offset, value & 0xff, mask & 0xff);
    this.setDefault(offset + 1, (value >>> 8) & 0xff, (mask >>> 8) & 0xff);
  }

  /** Ends construction: from now on only guest writes (through the mask) change the space. */
  protected freezeDefaults(): void {
    this.frozen = true;
  }

  // ---- configuration cycles ------------------------------------------------------------------------

  /** A configuration read of `size` (1, 2 or 4) bytes at `offset`, little-endian. */
  readConfig(offset: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.config[(offset + i) & 0xff]! << (8 * i);
    return v >>> 0;
  }

  /** A configuration write: only the writable bits change; then the function reacts. */
  writeConfig(offset: number, size: number, value: number): void {
    this.beforeConfigWrite(offset, size, value);
    for (let i = 0; i < size; i++) {
      const o = (offset + i) & 0xff;
      const m = this.writeMask[o]!;
      this.config[o] = (this.config[o]! & ~m) | ((value >>> (8 * i)) & m);
    }
    this.configWritten(offset, size);
  }

  /**
   * Called before a write changes anything. A function whose write has side effects that can
   * fail (touching an absent RAM page) throws here, so the guest's OUT can be restarted.
   */
  protected beforeConfigWrite(_offset: number, _size: number, _value: number): void {}

  /** Called after a configuration write so the function can act on its new register values. */
  protected configWritten(_offset: number, _size: number): void {}

  /** PCI reset (RST#): every register returns to its power-on value. */
  reset(): void {
    this.config.set(this.defaults);
    this.afterReset();
  }

  protected afterReset(): void {}

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    return { config: this.config.slice(), ...this.saveExtra() };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    const cfg = bytes(record, 'config');
    require(this.sectionName, cfg.length === PCI_CONFIG_SIZE, `configuration space is ${cfg.length} bytes, not ${PCI_CONFIG_SIZE}`);
    for (let o = 0; o < PCI_CONFIG_SIZE; o++) {
      const fixed = ~this.writeMask[o]! & 0xff;
      require(this.sectionName, (cfg[o]! & fixed) === (this.defaults[o]! & fixed),
        `configuration byte 0x${o.toString(16)} has read-only bits that differ from this ${this.constructor.name} (snapshot 0x${cfg[o]!.toString(16)}, expected 0x${this.defaults[o]!.toString(16)} in mask 0x${fixed.toString(16)})`);
    }
    this.checkExtra(record);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.config.set(bytes(record, 'config'));
    this.loadExtra(record);
  }

  /** Fields beyond `config` (the subclass's schema names them). */
  protected saveExtra(): StateRecord {
    return {};
  }

  protected checkExtra(_record: StateRecord): void {}

  /** Applies a validated record's extra fields and re-applies the side effects of `config`. */
  protected loadExtra(_record: StateRecord): void {}
}
