/**
 * A disk: a read-only base image with a copy-on-write overlay (DESIGN §1: "disks" are state like
 * any device's). Reads come from the overlay where a block was written, else from the base; the
 * first write to a block copies it into the overlay. The base is never modified, so any number
 * of machines can share one image and a snapshot carries only the overlay.
 *
 * Writes mark every active BlockDirtyLog. The overlay travels in the disk's section:
 * - a full record holds every overlay block;
 * - a delta record (incremental snapshots) holds only the blocks a dirty log collected since the
 *   parent snapshot; applyDelta() merges it into the parent's full record, so the receiver checks
 *   and loads (and the state digest covers) the whole overlay either way.
 * Both name the base image by size and hash; loading over another base throws
 * DiskImageMismatchError.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { bool, bytes, checkSchema, num, require, str } from '../stateful-util.ts';
import { BlockDirtyLog } from './block-dirty-log.ts';
import { hashDiskImage } from './disk-hash.ts';

/** Base image → its hash. The base is read-only by contract, so its hash never goes stale. */
const baseHashes = new WeakMap<Uint8Array, string>();
import { DiskImageMismatchError, DiskRangeError } from './errors.ts';

export const SECTOR_SIZE = 512;
/** Default overlay block: 4 KiB, a filesystem block and a RAM page; 8 sectors. */
export const DEFAULT_BLOCK_SIZE = 4096;

export const COW_DISK_SCHEMA: SectionSchema = {
  type: 'cow-disk',
  version: 1,
  fields: {
    baseBytes: 'f64',
    baseHash: 'string',
    blockSize: 'u32',
    /** Overlay block numbers, strictly ascending. */
    blocks: 'u32[]',
    /** blocks.length × blockSize bytes: the blocks' contents in the same order. */
    data: 'bytes',
    /** true: only the blocks written since the parent snapshot (see applyDelta). */
    delta: 'bool',
    /** Overlay blocks in total once this record is applied (a check on a merged delta). */
    overlayBlocks: 'u32',
  },
};

export interface CowDiskOptions {
  /** Section name of the disk's state (default "disk0"). */
  sectionName?: string;
  /** Overlay block size in bytes: a power of two from 512 to 65536 (default 4096). */
  blockSize?: number;
}

export class CowDisk implements Stateful {
  readonly sectionName: string;
  readonly schema = COW_DISK_SCHEMA;
  readonly blockSize: number;
  readonly blockCount: number;
  /** Size in bytes (that of the base image). */
  readonly byteLength: number;
  readonly sectorCount: number;
  private readonly blockShift: number;
  /** Written blocks by number; blocks past the image's end are zero-padded. */
  private readonly overlay = new Map<number, Uint8Array>();
  private logs: BlockDirtyLog[] = [];
  private hash: string | null = null;

  constructor(readonly base: Uint8Array, opts: CowDiskOptions = {}) {
    const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!(Number.isInteger(blockSize) && blockSize >= SECTOR_SIZE && blockSize <= 65536 && (blockSize & (blockSize - 1)) === 0)) {
      throw new RangeError(`blockSize ${blockSize} is not a power of two from 512 to 65536`);
    }
    if (base.length === 0 || base.length % SECTOR_SIZE !== 0) {
      throw new RangeError(`a disk image must be a non-empty whole number of ${SECTOR_SIZE}-byte sectors; this one is ${base.length} bytes`);
    }
    this.sectionName = opts.sectionName ?? 'disk0';
    this.blockSize = blockSize;
    this.blockShift = Math.log2(blockSize);
    this.byteLength = base.length;
    this.sectorCount = base.length / SECTOR_SIZE;
    this.blockCount = Math.ceil(base.length / blockSize);
  }

  /** The base image's identity (size and hash), as snapshots record it. Hashed once, on first use. */
  get baseIdentity(): { bytes: number; hash: string } {
    if (this.hash === null) {
      // Machines built from the same base array (clones, restores, migration targets) share
      // one hash: hashing a large image takes longer than the rest of a restore.
      this.hash = baseHashes.get(this.base) ?? hashDiskImage(this.base);
      baseHashes.set(this.base, this.hash);
    }
    return { bytes: this.byteLength, hash: this.hash };
  }

  /** Blocks held in the overlay. */
  get overlayBlockCount(): number {
    return this.overlay.size;
  }

  /** The overlay's block numbers, ascending. */
  overlayBlocks(): Uint32Array {
    return Uint32Array.from(this.overlay.keys()).sort();
  }

  // ---- data path ------------------------------------------------------------------------------

  /** Copies `dst.length` bytes from byte `offset` of the disk into `dst`. */
  read(offset: number, dst: Uint8Array): void {
    this.checkRange(offset, dst.length);
    let o = offset;
    let d = 0;
    while (d < dst.length) {
      const block = o >>> this.blockShift;
      const inBlock = o & (this.blockSize - 1);
      const n = Math.min(this.blockSize - inBlock, dst.length - d);
      const ov = this.overlay.get(block);
      if (ov) dst.set(ov.subarray(inBlock, inBlock + n), d);
      else dst.set(this.base.subarray(o, o + n), d);
      o += n;
      d += n;
    }
  }

  /** Writes `src` at byte `offset` (into the overlay; the base is untouched). */
  write(offset: number, src: Uint8Array): void {
    this.checkRange(offset, src.length);
    let o = offset;
    let s = 0;
    while (s < src.length) {
      const block = o >>> this.blockShift;
      const inBlock = o & (this.blockSize - 1);
      const n = Math.min(this.blockSize - inBlock, src.length - s);
      let ov = this.overlay.get(block);
      if (!ov) {
        ov = new Uint8Array(this.blockSize);
        const start = block << this.blockShift;
        ov.set(this.base.subarray(start, Math.min(start + this.blockSize, this.byteLength)));
        this.overlay.set(block, ov);
      }
      ov.set(src.subarray(s, s + n), inBlock);
      for (let i = 0; i < this.logs.length; i++) this.logs[i]!.mark(block);
      o += n;
      s += n;
    }
  }

  readSectors(lba: number, count: number, dst: Uint8Array, dstOffset = 0): void {
    this.read(lba * SECTOR_SIZE, dst.subarray(dstOffset, dstOffset + count * SECTOR_SIZE));
  }

  writeSectors(lba: number, count: number, src: Uint8Array, srcOffset = 0): void {
    this.write(lba * SECTOR_SIZE, src.subarray(srcOffset, srcOffset + count * SECTOR_SIZE));
  }

  /** Drops the overlay: the disk reads as its base image again (every log sees the blocks change). */
  discardOverlay(): void {
    for (const b of this.overlay.keys()) this.markAll(b);
    this.overlay.clear();
  }

  private checkRange(offset: number, length: number): void {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + length <= this.byteLength)) {
      throw new DiskRangeError(`bytes ${offset}..${offset + length - 1} are outside the disk (${this.byteLength} bytes)`);
    }
  }

  private markAll(block: number): void {
    for (let i = 0; i < this.logs.length; i++) this.logs[i]!.mark(block);
  }

  // ---- dirty logs -----------------------------------------------------------------------------

  /** A new independent log of written blocks; `allDirty` starts it with every block marked. */
  createDirtyLog(name: string, opts: { allDirty?: boolean } = {}): BlockDirtyLog {
    const log = new BlockDirtyLog(name, this.blockCount, (l) => {
      this.logs = this.logs.filter((x) => x !== l);
    }, opts.allDirty ?? false);
    this.logs.push(log);
    return log;
  }

  /** Same as createDirtyLog: the name incremental snapshot code looks for (DeltaStateful). */
  createDeltaLog(name: string): BlockDirtyLog {
    return this.createDirtyLog(name);
  }

  // ---- Stateful -------------------------------------------------------------------------------

  saveState(): StateRecord {
    return this.recordOf(this.overlayBlocks(), false);
  }

  /**
   * A delta record: the current contents of `blocks` (as a dirty log collected them). Blocks that
   * are not in the overlay cannot have been written, so they are left out.
   */
  saveDelta(blocks: Uint32Array): StateRecord {
    const inOverlay = blocks.filter((b) => this.overlay.has(b)).sort();
    return this.recordOf(inOverlay, true);
  }

  isDeltaRecord(record: StateRecord): boolean {
    return record.delta === true;
  }

  /**
   * Merges a delta record into its parent's full record (both already schema-valid): the parent's
   * blocks, replaced or joined by the delta's. Throws StateError if they do not fit together.
   */
  applyDelta(parent: StateRecord, delta: StateRecord): StateRecord {
    this.checkShape(parent);
    this.checkShape(delta);
    require(this.sectionName, !bool(parent, 'delta'), 'the parent record of a disk delta is itself a delta');
    require(this.sectionName, bool(delta, 'delta'), 'applyDelta needs a delta record');
    require(this.sectionName, str(parent, 'baseHash') === str(delta, 'baseHash') && num(parent, 'baseBytes') === num(delta, 'baseBytes'),
      'the delta was made over a different base image than its parent');
    require(this.sectionName, num(parent, 'blockSize') === num(delta, 'blockSize'), 'the delta has a different block size than its parent');
    const bs = num(parent, 'blockSize');
    const merged = new Map<number, Uint8Array>();
    const pb = parent.blocks as Uint32Array;
    const pd = bytes(parent, 'data');
    for (let i = 0; i < pb.length; i++) merged.set(pb[i]!, pd.subarray(i * bs, (i + 1) * bs));
    const db = delta.blocks as Uint32Array;
    const dd = bytes(delta, 'data');
    for (let i = 0; i < db.length; i++) merged.set(db[i]!, dd.subarray(i * bs, (i + 1) * bs));
    require(this.sectionName, merged.size === num(delta, 'overlayBlocks'),
      `the delta says the overlay holds ${num(delta, 'overlayBlocks')} blocks, but merged with its parent it holds ${merged.size}`);
    const blocks = Uint32Array.from(merged.keys()).sort();
    const data = new Uint8Array(blocks.length * bs);
    for (let i = 0; i < blocks.length; i++) data.set(merged.get(blocks[i]!)!, i * bs);
    return {
      baseBytes: num(parent, 'baseBytes'), baseHash: str(parent, 'baseHash'), blockSize: bs,
      blocks, data, delta: false, overlayBlocks: blocks.length,
    };
  }

  checkState(record: StateRecord): void {
    this.checkShape(record);
    require(this.sectionName, !bool(record, 'delta'),
      'this record holds only the blocks written since a parent snapshot: restore it as part of its snapshot chain');
    require(this.sectionName, num(record, 'overlayBlocks') === (record.blocks as Uint32Array).length,
      `overlayBlocks ${num(record, 'overlayBlocks')} differs from the ${(record.blocks as Uint32Array).length} blocks the record holds`);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    const bs = this.blockSize;
    const blocks = record.blocks as Uint32Array;
    const data = bytes(record, 'data');
    // Every block whose contents may change counts as written for the active logs, as a RAM page
    // filled by a restore does: blocks leaving the overlay and blocks entering it.
    for (const b of this.overlay.keys()) this.markAll(b);
    this.overlay.clear();
    for (let i = 0; i < blocks.length; i++) {
      this.overlay.set(blocks[i]!, data.slice(i * bs, (i + 1) * bs));
      this.markAll(blocks[i]!);
    }
  }

  private recordOf(blocks: Uint32Array, delta: boolean): StateRecord {
    const bs = this.blockSize;
    const data = new Uint8Array(blocks.length * bs);
    for (let i = 0; i < blocks.length; i++) data.set(this.overlay.get(blocks[i]!)!, i * bs);
    const id = this.baseIdentity;
    return {
      baseBytes: id.bytes, baseHash: id.hash, blockSize: bs, blocks, data, delta, overlayBlocks: this.overlay.size,
    };
  }

  /** Schema, base identity and block list checks shared by full and delta records. */
  private checkShape(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    const id = this.baseIdentity;
    const theirs = { bytes: num(record, 'baseBytes'), hash: str(record, 'baseHash') };
    if (theirs.bytes !== id.bytes || theirs.hash !== id.hash) throw new DiskImageMismatchError(this.sectionName, theirs, id);
    require(this.sectionName, num(record, 'blockSize') === this.blockSize,
      `the overlay uses ${num(record, 'blockSize')}-byte blocks, this disk ${this.blockSize}-byte blocks`);
    const blocks = record.blocks as Uint32Array;
    const data = bytes(record, 'data');
    require(this.sectionName, data.length === blocks.length * this.blockSize,
      `the overlay data is ${data.length} bytes, but ${blocks.length} blocks of ${this.blockSize} bytes need ${blocks.length * this.blockSize}`);
    let prev = -1;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      require(this.sectionName, b > prev, `overlay block numbers are not strictly ascending at index ${i} (${prev} then ${b})`);
      require(this.sectionName, b < this.blockCount, `overlay block ${b} is past the end of the disk (${this.blockCount} blocks)`);
      prev = b;
    }
    require(this.sectionName, num(record, 'overlayBlocks') <= this.blockCount,
      `overlayBlocks ${num(record, 'overlayBlocks')} is more than the disk's ${this.blockCount} blocks`);
  }
}
