import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PAGES_4G } from './constants.ts';
import { DirtyLog, type DirtyLogOptions, type WriteTrapControl } from './DirtyLog.ts';
import { MemoryConfigError, PageAbsentError } from './errors.ts';
import { PagePresence } from './PagePresence.ts';
import { StateError, type SectionSchema, type StateRecord, type Stateful } from './state.ts';

/** What lives at a physical page. */
export const enum PageKind {
  Unmapped = 0,
  Ram = 1,
  /** ROM outside RAM (e.g. the BIOS alias below 4 GiB): bytes in a separate buffer. */
  Rom = 2,
  Mmio = 3,
  /** ROM whose bytes sit in the RAM array (BIOS below 1 MiB): readable fast, writes ignored. */
  RamReadOnly = 4,
}

/** A device's memory-mapped registers. Addresses are physical. */
export interface MmioHandler {
  read8(addr: number): number;
  write8(addr: number, value: number): void;
  read32?(addr: number): number;
  write32?(addr: number, value: number): void;
}

/** Something that caches translations to physical pages (a TLB). */
export interface TranslationCache {
  /** Drop write permission for entries that map to these physical pages. */
  dropWrite(pages: ArrayLike<number>, count: number): void;
  /** Drop every entry (A20 change, page made absent). */
  flushAll(): void;
}

export interface PhysicalMemoryOptions {
  /** RAM size in bytes, a multiple of 4 KiB, at most 2 GiB. */
  ramSize: number;
  /** Back RAM with a SharedArrayBuffer so other threads can see it (DESIGN §2.7). */
  shared?: boolean;
}

const RAM_META_SCHEMA: SectionSchema = {
  type: 'physical-memory',
  version: 1,
  fields: {
    ramSize: 'u32',
    a20: 'bool',
    romBases: 'u32[]',
    romLengths: 'u32[]',
    romBytes: 'bytes',
  },
};

/**
 * The physical address space: RAM (one ArrayBuffer), ROM, MMIO, the A20 gate, dirty logs and page
 * presence. Physical accesses here are the DMA/loader path: they mark dirty logs like CPU writes.
 */
export class PhysicalMemory implements Stateful, WriteTrapControl {
  readonly sectionName = 'ram-meta';
  readonly schema = RAM_META_SCHEMA;
  readonly ramSize: number;
  readonly pageCount: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /**
   * All of RAM. Write it through writeBytes / writePhys* / fillPage; code that writes this array
   * directly must call markWritten(page) for every page it changed. Everything that must see
   * guest writes relies on that: dirty logs (live migration, incremental snapshots), the
   * decoded-code cache, and isPristine (snapshot writers treat never-written pages as zero).
   */
  readonly ram: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  /** PageKind per 4 KiB physical page of the 4 GiB space. */
  readonly kind: Uint8Array;
  readonly presence: PagePresence;
  /** Active dirty logs; the TLB fill path reads this. */
  readonly logs: DirtyLog[] = [];
  /**
   * 1 = the RAM page was written at least once since this memory was created. A page still at 0
   * holds the zero bytes a fresh ArrayBuffer is born with, and the host OS has not even given it
   * a physical frame yet: snapshot writers skip reading it and restores skip clearing it, which
   * matters because the first touch of a host page costs microseconds (a fault), far more than
   * reading or clearing it. Kept like a dirty log that is never collected: a page gets a TLB
   * write entry only once it is marked here, so the first write of every path reaches markWritten.
   */
  private readonly written: Uint8Array;
  private readonly romPages = new Map<number, Uint8Array>();
  private readonly romRegions: { base: number; data: Uint8Array }[] = [];
  private readonly mmioPages = new Map<number, MmioHandler>();
  /** RAM pages that setRamPageAccess routed to an MMIO handler (they may become RAM again). */
  private readonly ramMmioPages = new Set<number>();
  private readonly caches: TranslationCache[] = [];
  private readonly absentError = new PageAbsentError();
  private a20 = true;

  constructor(opts: PhysicalMemoryOptions) {
    const size = opts.ramSize;
    if (!Number.isInteger(size) || size <= 0 || size % PAGE_SIZE !== 0 || size > 0x80000000) {
      throw new MemoryConfigError(`RAM size ${size} must be a positive multiple of 4096 bytes, at most 2 GiB`);
    }
    this.ramSize = size;
    this.pageCount = size >>> PAGE_SHIFT;
    this.buffer = opts.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    this.ram = new Uint8Array(this.buffer);
    this.ram16 = new Uint16Array(this.buffer);
    this.ram32 = new Int32Array(this.buffer);
    this.kind = new Uint8Array(PAGES_4G);
    this.kind.fill(PageKind.Ram, 0, this.pageCount);
    this.written = new Uint8Array(this.pageCount);
    this.presence = new PagePresence(this.pageCount);
    this.presence.addAbsentListener(() => {
      for (const c of this.caches) c.flushAll();
    });
  }

  // ---- A20 gate -------------------------------------------------------------------------------

  get a20Enabled(): boolean {
    return this.a20;
  }

  /** With A20 off, physical address bit 20 reads as 0 (8086 wrap-around at 1 MiB). */
  setA20(enabled: boolean): void {
    if (enabled === this.a20) return;
    this.a20 = enabled;
    for (const c of this.caches) c.flushAll();
  }

  get a20Mask(): number {
    return this.a20 ? -1 : ~(1 << 20);
  }

  // ---- map ------------------------------------------------------------------------------------

  /** Maps a read-only image. Inside RAM the bytes are copied into RAM (shadowed BIOS). */
  mapRom(base: number, image: Uint8Array): void {
    this.mapRomRegion(base, image, true);
  }

  /**
   * `copyIntoRam` false is the state-load case: the snapshot's RAM pages already hold what the CPU
   * reads there — the ROM bytes, or the chipset's shadow copy of them that the guest has since
   * changed — so copying the image over them would undo the guest's writes.
   */
  private mapRomRegion(base: number, image: Uint8Array, copyIntoRam: boolean): void {
    if (base % PAGE_SIZE !== 0 || image.length === 0 || image.length % PAGE_SIZE !== 0) {
      throw new MemoryConfigError(`ROM at 0x${base.toString(16)} must be page-aligned and a whole number of pages`);
    }
    const end = base + image.length;
    if (end > 0x100000000) throw new MemoryConfigError('ROM extends past 4 GiB');
    for (let p = base >>> PAGE_SHIFT; p < end / PAGE_SIZE; p++) {
      const k = this.kind[p];
      if (k === PageKind.Mmio || k === PageKind.Rom) {
        throw new MemoryConfigError(`ROM at 0x${base.toString(16)} overlaps another region at page 0x${p.toString(16)}`);
      }
    }
    for (let off = 0; off < image.length; off += PAGE_SIZE) {
      const page = (base + off) >>> PAGE_SHIFT;
      const bytes = image.subarray(off, off + PAGE_SIZE);
      if (page < this.pageCount) {
        if (copyIntoRam) {
          this.ram.set(bytes, page << PAGE_SHIFT);
          this.markWritten(page);
        }
        this.kind[page] = PageKind.RamReadOnly;
      } else {
        this.romPages.set(page, bytes.slice());
        this.kind[page] = PageKind.Rom;
      }
    }
    this.romRegions.push({ base, data: image.slice() });
    for (const c of this.caches) c.flushAll();
  }

  mapMmio(base: number, size: number, handler: MmioHandler): void {
    if (base % PAGE_SIZE !== 0 || size <= 0 || size % PAGE_SIZE !== 0) {
      throw new MemoryConfigError('MMIO regions must be page-aligned and a whole number of pages');
    }
    for (let p = base >>> PAGE_SHIFT; p < (base + size) / PAGE_SIZE; p++) {
      if (this.kind[p] === PageKind.Mmio || this.kind[p] === PageKind.Rom) {
        throw new MemoryConfigError(`MMIO at 0x${base.toString(16)} overlaps another region`);
      }
      this.kind[p] = PageKind.Mmio;
      this.mmioPages.set(p, handler);
    }
    for (const c of this.caches) c.flushAll();
  }

  /**
   * Chipset shadow-RAM control (the 440FX PAM registers): makes `count` RAM pages from `firstPage`
   * writable RAM, read-only RAM (writes ignored), or routes them to an MMIO handler (e.g. "reads
   * from ROM, writes to DRAM"), and drops cached translations so the change takes effect at the
   * next access. Only pages inside RAM can be re-typed; their bytes are left as they are.
   */
  setRamPageAccess(
    firstPage: number,
    count: number,
    access: PageKind.Ram | PageKind.RamReadOnly | PageKind.Mmio,
    handler?: MmioHandler,
  ): void {
    if (!(Number.isInteger(firstPage) && Number.isInteger(count) && firstPage >= 0 && count > 0 && firstPage + count <= this.pageCount)) {
      throw new MemoryConfigError(`pages 0x${firstPage.toString(16)}+${count} are not all inside RAM`);
    }
    if (access === PageKind.Mmio && handler === undefined) throw new MemoryConfigError('MMIO access needs a handler');
    for (let p = firstPage; p < firstPage + count; p++) {
      const k = this.kind[p];
      if (k !== PageKind.Ram && k !== PageKind.RamReadOnly && !(k === PageKind.Mmio && this.ramMmioPages.has(p))) {
        throw new MemoryConfigError(`page 0x${p.toString(16)} is not RAM (a device's MMIO or ROM lives there)`);
      }
    }
    for (let p = firstPage; p < firstPage + count; p++) {
      this.kind[p] = access;
      if (access === PageKind.Mmio) {
        this.mmioPages.set(p, handler!);
        this.ramMmioPages.add(p);
      } else if (this.ramMmioPages.delete(p)) {
        this.mmioPages.delete(p);
      }
    }
    for (const c of this.caches) c.flushAll();
  }

  addTranslationCache(cache: TranslationCache): void {
    this.caches.push(cache);
  }

  // ---- dirty logs -----------------------------------------------------------------------------

  createDirtyLog(name: string, opts?: DirtyLogOptions): DirtyLog {
    const log = new DirtyLog(name, this.pageCount, this, opts);
    this.logs.push(log);
    // Existing write entries may cover pages the new log has not marked.
    if (!opts?.allDirty) for (const c of this.caches) c.flushAll();
    return log;
  }

  /** Marks a RAM page written in every active log. Called by every write path. */
  markWritten(page: number): void {
    this.written[page] = 1;
    const logs = this.logs;
    for (let i = 0; i < logs.length; i++) {
      const log = logs[i]!;
      if (log.bits[page] === 0) log.mark(page);
    }
  }

  /** True if a TLB may hold a write entry for this page: every log has it marked already. */
  writeCacheable(page: number): boolean {
    if (this.written[page] === 0) return false;
    const logs = this.logs;
    for (let i = 0; i < logs.length; i++) if (logs[i]!.bits[page] === 0) return false;
    return true;
  }

  rearmPages(pages: ArrayLike<number>, count: number): void {
    if (count === 0) return;
    for (const c of this.caches) c.dropWrite(pages, count);
  }

  removeLog(log: DirtyLog): void {
    const i = this.logs.indexOf(log);
    if (i >= 0) this.logs.splice(i, 1);
  }

  // ---- physical access (DMA, loaders, page walks) ----------------------------------------------

  /** Throws PageAbsentError if `page` is a RAM page whose contents have not arrived. */
  checkPresent(page: number): void {
    if (page < this.pageCount && this.presence.bits[page] === 0) {
      this.absentError.page = page;
      throw this.absentError;
    }
  }

  readPhys8(addr: number): number {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    const k = this.kind[page];
    if (k === PageKind.Ram || k === PageKind.RamReadOnly) {
      this.checkPresent(page);
      return this.ram[addr]!;
    }
    if (k === PageKind.Rom) return this.romPages.get(page)![addr & PAGE_MASK]!;
    if (k === PageKind.Mmio) return this.mmioPages.get(page)!.read8(addr) & 0xff;
    return 0xff; // open bus
  }

  writePhys8(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    const k = this.kind[page];
    if (k === PageKind.Ram) {
      this.checkPresent(page);
      this.markWritten(page);
      this.ram[addr] = value;
    } else if (k === PageKind.Mmio) {
      this.mmioPages.get(page)!.write8(addr, value & 0xff);
    }
    // ROM and unmapped: writes are ignored, as on a PC.
  }

  readPhys16(addr: number): number {
    addr >>>= 0;
    if ((addr & 1) === 0 && this.kind[addr >>> PAGE_SHIFT] === PageKind.Ram) {
      this.checkPresent(addr >>> PAGE_SHIFT);
      return this.ram16[addr >>> 1]!;
    }
    return this.readPhys8(addr) | (this.readPhys8(addr + 1) << 8);
  }

  readPhys32(addr: number): number {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 3) === 0) {
      const k = this.kind[page];
      if (k === PageKind.Ram || k === PageKind.RamReadOnly) {
        this.checkPresent(page);
        return this.ram32[addr >>> 2]!;
      }
      if (k === PageKind.Mmio) {
        const h = this.mmioPages.get(page)!;
        if (h.read32) return h.read32(addr) | 0;
      }
    }
    return (this.readPhys16(addr) | (this.readPhys16(addr + 2) << 16)) | 0;
  }

  writePhys16(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 1) === 0 && this.kind[page] === PageKind.Ram) {
      this.checkPresent(page);
      this.markWritten(page);
      this.ram16[addr >>> 1] = value;
      return;
    }
    this.checkWritable(addr, 2);
    this.writePhys8(addr, value);
    this.writePhys8(addr + 1, value >>> 8);
  }

  writePhys32(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 3) === 0) {
      const k = this.kind[page];
      if (k === PageKind.Ram) {
        this.checkPresent(page);
        this.markWritten(page);
        this.ram32[addr >>> 2] = value;
        return;
      }
      if (k === PageKind.Mmio) {
        const h = this.mmioPages.get(page)!;
        if (h.write32) {
          h.write32(addr, value | 0);
          return;
        }
      }
    }
    this.checkWritable(addr, 4);
    this.writePhys16(addr, value);
    this.writePhys16(addr + 2, value >>> 16);
  }

  /** Copies bytes out (RAM, ROM or MMIO). */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (this.isPlainRam(addr, length)) {
      for (let p = addr >>> PAGE_SHIFT; p <= (addr + length - 1) >>> PAGE_SHIFT; p++) this.checkPresent(p);
      out.set(this.ram.subarray(addr, addr + length));
      return out;
    }
    for (let i = 0; i < length; i++) out[i] = this.readPhys8(addr + i);
    return out;
  }

  /** The loader/DMA write path: marks dirty logs for every page it touches. */
  writeBytes(addr: number, data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.isPlainRam(addr, data.length)) {
      const last = (addr + data.length - 1) >>> PAGE_SHIFT;
      for (let p = addr >>> PAGE_SHIFT; p <= last; p++) this.checkPresent(p);
      for (let p = addr >>> PAGE_SHIFT; p <= last; p++) this.markWritten(p);
      this.ram.set(data, addr);
      return;
    }
    for (let i = 0; i < data.length; i++) this.writePhys8(addr + i, data[i]!);
  }

  /**
   * True if RAM page `page` is present and has never been written since this memory was created,
   * so it holds zeros without anyone having to read it (see `written`). False says nothing.
   */
  isPristine(page: number): boolean {
    return this.written[page] === 0 && this.presence.bits[page] === 1;
  }

  /** Writes a whole page as it arrives (migration, lazy restore): marks logs, makes it present. */
  fillPage(page: number, data: Uint8Array | null): void {
    if (!(page >= 0 && page < this.pageCount)) throw new MemoryConfigError(`page ${page} is outside RAM`);
    const base = page << PAGE_SHIFT;
    if (data) this.ram.set(data.subarray(0, PAGE_SIZE), base);
    else this.ram.fill(0, base, base + PAGE_SIZE);
    this.markWritten(page);
    this.presence.markPresent(page);
  }

  private isPlainRam(addr: number, length: number): boolean {
    if (addr < 0 || addr + length > this.ramSize) return false;
    const last = (addr + length - 1) >>> PAGE_SHIFT;
    for (let p = addr >>> PAGE_SHIFT; p <= last; p++) if (this.kind[p] !== PageKind.Ram) return false;
    return true;
  }

  /** A write that straddles pages must not half-happen when the second page is absent. */
  private checkWritable(addr: number, size: number): void {
    this.checkPresent(addr >>> PAGE_SHIFT);
    this.checkPresent((addr + size - 1) >>> PAGE_SHIFT);
  }

  // ---- state ----------------------------------------------------------------------------------

  saveState(): StateRecord {
    const lengths = this.romRegions.map((r) => r.data.length);
    const bytes = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
    let off = 0;
    for (const r of this.romRegions) {
      bytes.set(r.data, off);
      off += r.data.length;
    }
    return {
      ramSize: this.ramSize,
      a20: this.a20,
      romBases: Uint32Array.from(this.romRegions.map((r) => r.base)),
      romLengths: Uint32Array.from(lengths),
      romBytes: bytes,
    };
  }

  checkState(rec: StateRecord): void {
    if (rec.ramSize !== this.ramSize) {
      throw new StateError(this.sectionName, `RAM size ${rec.ramSize} differs from this machine's ${this.ramSize}`);
    }
    const bases = rec.romBases as Uint32Array;
    const lengths = rec.romLengths as Uint32Array;
    const bytes = rec.romBytes as Uint8Array;
    if (bases.length !== lengths.length) throw new StateError(this.sectionName, 'ROM tables disagree in length');
    let total = 0;
    for (let i = 0; i < bases.length; i++) {
      const b = bases[i]!;
      const l = lengths[i]!;
      if (b % PAGE_SIZE !== 0 || l === 0 || l % PAGE_SIZE !== 0 || b + l > 0x100000000) {
        throw new StateError(this.sectionName, `ROM region ${i} is malformed`);
      }
      total += l;
    }
    if (total !== bytes.length) throw new StateError(this.sectionName, 'ROM bytes do not match the ROM table');
  }

  loadState(rec: StateRecord): void {
    this.setA20(rec.a20 as boolean);
    const bases = rec.romBases as Uint32Array;
    const lengths = rec.romLengths as Uint32Array;
    const bytes = rec.romBytes as Uint8Array;
    let off = 0;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const data = bytes.subarray(off, off + lengths[i]!);
      off += lengths[i]!;
      const same = this.romRegions.find((r) => r.base === base && r.data.length === data.length);
      if (same) {
        same.data.set(data);
        for (let o = 0; o < data.length; o += PAGE_SIZE) {
          const page = (base + o) >>> PAGE_SHIFT;
          if (page >= this.pageCount) this.romPages.get(page)!.set(data.subarray(o, o + PAGE_SIZE));
        }
      } else {
        this.mapRomRegion(base, data, false);
      }
    }
  }
}
