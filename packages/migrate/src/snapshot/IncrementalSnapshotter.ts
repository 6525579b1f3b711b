import type { Stateful } from '@ferry86/mmu';
import { encodeHeader } from '../format/header.ts';
import { StreamEncoder } from '../format/StreamEncoder.ts';
import { HEADER_FLAG_COMPRESSED } from '../format/constants.ts';
import { codecForSave, type PageCodec } from '../format/page-codec.ts';
import { combineDigest, digestToHex, encodeParts } from '../digest/stateDigest.ts';
import { PageHashes } from '../digest/PageHashes.ts';
import { allParts, type MigratableDirtyLog, type MigratableMachine } from '../machine.ts';
import { encodeSection } from '../format/section-codec.ts';
import { RamWriter } from './RamWriter.ts';
import { PRODUCER } from './saveSnapshot.ts';
import { isDeltaStateful, type DeltaLog } from './DeltaPart.ts';

export interface IncrementalSnapshotterOptions {
  extraParts?: readonly Stateful[];
  /** Chunk size handed to the writer (default 1 MiB). */
  chunkSize?: number;
  producer?: string;
  /**
   * Compress RAM page data (format version 2) with a synchronous codec: true for node:zlib, or a
   * codec with deflateSync. Browsers, whose CompressionStream is asynchronous only, save plain.
   */
  compress?: boolean | PageCodec;
}

/** What one save of a chain produced. */
export interface ChainSnapshotInfo {
  readonly name: string;
  /** Whole-state digest (hex) of the machine at this snapshot. */
  readonly digest: string;
  /** The snapshot this one builds on; null for the complete first one. */
  readonly parent: { readonly name: string; readonly digest: string } | null;
  /** RAM pages carried (all of them for the first, the written ones after). */
  readonly pages: number;
  readonly bytes: number;
  /**
   * Per DeltaStateful part (e.g. a disk, by section name): the units its section carried — all of
   * them (its whole overlay) in the first snapshot, those written since the parent after that.
   */
  readonly deltaUnits: Readonly<Record<string, number>>;
}

/**
 * Writes a chain of snapshots of a machine: the first complete, each later one holding only the
 * pages written since the previous one (from a dirty log of its own, DESIGN §2.1) plus all
 * sections, and naming its parent by name and whole-state digest. Every snapshot's END digest is
 * the digest of the whole machine, so a restored chain proves it rebuilt exactly that state.
 *
 * Saving is transactional: if the writer throws or the chunk generator is abandoned, the pages
 * collected for that save are marked dirty again and the chain's last snapshot stays the parent,
 * so the next save is complete and the chain written so far stays valid.
 * The machine must not run while a save is in progress.
 *
 * Parts that keep their own dirty logs (DeltaStateful: disk overlays) are handled like RAM: after
 * the first snapshot their section carries only what was written since the parent (a delta
 * record), while the digest still covers their full state.
 */
export class IncrementalSnapshotter {
  private readonly log: MigratableDirtyLog;
  private readonly hashes: PageHashes;
  /** One delta log per DeltaStateful part, by section name. */
  private readonly deltaLogs = new Map<string, DeltaLog>();
  private last: { name: string; digest: Uint32Array } | null = null;
  private count = 0;
  private busy = false;
  private readonly codec: PageCodec | null;

  constructor(
    readonly machine: MigratableMachine,
    private readonly opts: IncrementalSnapshotterOptions = {},
  ) {
    this.codec = codecForSave(opts.compress, { asyncAlternative: 'saveSnapshot-based writers (snapshotChunksAsync)' });
    this.log = machine.memory.createDirtyLog('incremental-snapshot');
    this.hashes = new PageHashes(machine.memory.pageCount);
    for (const p of allParts(machine, opts.extraParts)) {
      if (isDeltaStateful(p)) this.deltaLogs.set(p.sectionName, p.createDeltaLog('incremental-snapshot'));
    }
  }

  /** Snapshots saved successfully so far. */
  get length(): number {
    return this.count;
  }

  /** The last complete save (the parent of the next one), or null. */
  get head(): { name: string; digest: string } | null {
    return this.last ? { name: this.last.name, digest: digestToHex(this.last.digest) } : null;
  }

  /** Saves the next snapshot of the chain, handing its bytes to `write` chunk by chunk. */
  save(write: (chunk: Uint8Array) => void, name = `snapshot-${this.count}`): ChainSnapshotInfo {
    const gen = this.chunks(name);
    let r = gen.next();
    try {
      while (!r.done) {
        write(r.value);
        r = gen.next();
      }
    } finally {
      // A writer that threw abandons the generator, whose finally re-dirties the pages.
      if (!r.done) gen.return(undefined as never);
    }
    return r.value;
  }

  /** The next snapshot as a byte array. */
  saveBytes(name?: string): { bytes: Uint8Array; info: ChainSnapshotInfo } {
    const parts: Uint8Array[] = [];
    const info = this.save((c) => parts.push(c), name);
    const bytes = new Uint8Array(info.bytes);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    return { bytes, info };
  }

  /**
   * The next snapshot as chunks. Finishing the generator commits it to the chain; abandoning it
   * early (return/throw) rolls it back.
   */
  *chunks(name = `snapshot-${this.count}`): Generator<Uint8Array, ChainSnapshotInfo, void> {
    if (this.busy) throw new Error('IncrementalSnapshotter: a save is already in progress');
    this.busy = true;
    const m = this.machine;
    const pageCount = m.memory.pageCount;
    const parent = this.last;
    const dirty = this.log.collect();
    const deltaUnits = new Map<string, Uint32Array>();
    for (const [name, log] of this.deltaLogs) deltaUnits.set(name, log.collect());
    let pages: Uint32Array;
    if (parent) {
      pages = dirty;
    } else {
      pages = new Uint32Array(pageCount);
      for (let p = 0; p < pageCount; p++) pages[p] = p;
    }
    let done = false;
    try {
      const queue: Uint8Array[] = [];
      const codec = this.codec;
      const enc = new StreamEncoder((c) => queue.push(c), { chunkSize: this.opts.chunkSize, compressor: codec ?? undefined });
      const parts = allParts(m, this.opts.extraParts);
      const sections = encodeParts(parts).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      // What travels: the full encoding, or for a delta part after the first snapshot its delta.
      const sent = new Map<string, Uint8Array>();
      const carried: Record<string, number> = {};
      for (const p of parts) {
        const units = deltaUnits.get(p.sectionName);
        if (!units || !isDeltaStateful(p)) continue;
        const record = parent ? p.saveDelta(units) : null;
        if (record) sent.set(p.sectionName, encodeSection(p.sectionName, p.schema, record));
        carried[p.sectionName] = deltaUnitCount(record ?? p.saveState());
      }
      const ram = new RamWriter(m.memory.ram, enc, this.hashes);
      enc.raw(encodeHeader(this.opts.producer ?? PRODUCER, m.config, pageCount, codec ? HEADER_FLAG_COMPRESSED : 0));
      if (parent) enc.parent(parent.digest, parent.name);
      let bytes = 0;
      for (let i = 0; i < pages.length; i += 1024) {
        ram.write(pages, i, Math.min(pages.length, i + 1024));
        while (queue.length > 0) {
          const c = queue.shift()!;
          bytes += c.length;
          yield c;
        }
      }
      for (const s of sections) enc.section(sent.get(s.name) ?? s.payload);
      const digest = combineDigest(this.hashes, sections);
      enc.end(digest, sections.length, pages.length);
      enc.flush();
      while (queue.length > 0) {
        const c = queue.shift()!;
        bytes += c.length;
        yield c;
      }
      done = true;
      this.last = { name, digest };
      this.count++;
      return {
        name,
        digest: digestToHex(digest),
        parent: parent ? { name: parent.name, digest: digestToHex(parent.digest) } : null,
        pages: pages.length,
        bytes,
        deltaUnits: carried,
      };
    } finally {
      this.busy = false;
      // Rolled back: the pages this save collected are dirty again, so the next save carries them.
      // (Their rows in the hash table may have been rehashed; they are rehashed again then.)
      if (!done) {
        this.log.markDirty(dirty);
        for (const [name, units] of deltaUnits) this.deltaLogs.get(name)?.markDirty(units);
      }
    }
  }

  /** Stops the dirty log; the snapshotter cannot save again. */
  dispose(): void {
    this.log.dispose();
    for (const log of this.deltaLogs.values()) log.dispose();
  }
}

/** Units a record of a DeltaStateful part carries: the length of its `blocks` list when it has one. */
function deltaUnitCount(record: Record<string, unknown>): number {
  const b = record.blocks;
  return b instanceof Uint32Array ? b.length : 0;
}
