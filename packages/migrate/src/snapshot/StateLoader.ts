import { upgradeRecord, validateRecord, type StateRecord, type Stateful } from '@ferry86/mmu';
import { PAGE_SIZE } from '../format/constants.ts';
import { SnapshotFormatError } from '../format/errors.ts';
import { canonicalJson, type StreamHeader } from '../format/header.ts';
import type { DecodedSection } from '../format/section-codec.ts';
import type { StreamEnd, StreamSink } from '../format/StreamDecoder.ts';
import { combineDigest, digestEquals, digestToHex, type DigestSection } from '../digest/stateDigest.ts';
import { isZeroPage, PageHashes, ramWords } from '../digest/PageHashes.ts';
import { allParts, type MigratableMachine } from '../machine.ts';

export interface StateLoaderOptions<M extends MigratableMachine> {
  /**
   * 'stage': nothing touches the machine until commit() (snapshot restore into a live machine).
   * 'direct': pages go into RAM as they arrive (a fresh migration target nobody runs yet);
   * sections are still staged until commit().
   */
  mode: 'stage' | 'direct';
  /** The machine to load into; or, with createMachine, built from the stream's configuration. */
  machine?: M;
  createMachine?: (config: unknown) => M;
  /** Parts beyond machine.stateParts() that travel with the state. */
  extraParts?: readonly Stateful[] | ((machine: M) => readonly Stateful[]);
}

interface StagedSection {
  part: Stateful;
  record: StateRecord;
}

/**
 * Receives a decoded stream and loads it into a machine without ever half-applying it
 * (DESIGN §2.4, §2.5): every section is upgraded, validated against the part's schema and
 * checked by the part before anything loads; at END the digest over the received pages and
 * sections must match; only then may commit() change the machine.
 */
export class StateLoader<M extends MigratableMachine> implements StreamSink {
  machine: M | null;
  streamHeader: StreamHeader | null = null;
  /** Digest the stream ended with, once verified. */
  digest: Uint32Array | null = null;
  private parts = new Map<string, Stateful>();
  private readonly staged = new Map<string, StagedSection>();
  private readonly digestSections: DigestSection[] = [];
  private hashes: PageHashes | null = null;
  private stagedPages: (Uint8Array | null | undefined)[] = [];
  private words: Uint32Array | null = null;
  private committed = false;
  lastRound = 0;
  zeroPages = 0;
  fullPages = 0;
  /** Milliseconds spent on zero-page records (so a sender can tell them from full-page costs). */
  zeroMs = 0;

  constructor(private readonly opts: StateLoaderOptions<M>) {
    this.machine = opts.machine ?? null;
  }

  get verified(): boolean {
    return this.digest !== null;
  }

  header(h: StreamHeader): void {
    this.streamHeader = h;
    let m = this.machine;
    if (m) {
      const mine = canonicalJson(m.config);
      if (mine !== h.configJson) {
        throw new SnapshotFormatError(
          'config-mismatch',
          `the stream is for machine configuration ${clip(h.configJson)}, this machine is ${clip(mine)}`,
        );
      }
    } else {
      if (!this.opts.createMachine) throw new Error('StateLoader needs a machine or createMachine');
      try {
        m = this.opts.createMachine(h.config);
      } catch (e) {
        throw new SnapshotFormatError('config-mismatch', `cannot build a machine for configuration ${clip(h.configJson)}: ${(e as Error).message}`);
      }
      this.machine = m;
    }
    if (m.memory.pageCount !== h.pageCount) {
      throw new SnapshotFormatError('config-mismatch', `the stream has ${h.pageCount} RAM pages, this machine ${m.memory.pageCount}`);
    }
    const extra = typeof this.opts.extraParts === 'function' ? this.opts.extraParts(m) : this.opts.extraParts;
    this.parts = new Map(allParts(m, extra).map((p) => [p.sectionName, p]));
    this.hashes = new PageHashes(h.pageCount);
    if (this.opts.mode === 'stage') this.stagedPages = new Array<Uint8Array | null | undefined>(h.pageCount);
    else this.words = ramWords(m.memory.ram);
  }

  section(s: DecodedSection, frame: number): void {
    this.digestSections.push({ name: s.name, payload: s.payload });
    const part = this.parts.get(s.name);
    if (!part) {
      if (s.optional) return; // unknown optional sections are skipped (DESIGN §2.4)
      throw new SnapshotFormatError('unknown-section', `frame ${frame}: unknown section "${s.name}" (type "${s.type}") is mandatory`, frame);
    }
    const schema = part.schema;
    if (s.type !== schema.type) {
      throw new SnapshotFormatError('section-type', `section "${s.name}" holds a "${s.type}" but this machine's "${s.name}" is a "${schema.type}"`, frame);
    }
    const min = schema.minVersion ?? schema.version;
    if (s.version > schema.version || s.version < min) {
      const rel = s.version > schema.version ? 'newer' : 'older';
      throw new SnapshotFormatError('section-version', `section "${s.name}" version ${s.version} is ${rel} than this build accepts (${min}..${schema.version})`, frame);
    }
    let record: StateRecord;
    try {
      record = upgradeRecord(s.name, schema, s.version, s.record);
      validateRecord(s.name, schema, record);
      part.checkState?.(record);
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      throw new SnapshotFormatError('bad-section', msg.startsWith('section "') ? msg : `section "${s.name}": ${msg}`, frame);
    }
    this.staged.set(s.name, { part, record });
  }

  zeroRun(first: number, count: number): void {
    this.hashes!.setZeroRun(first, count);
    this.zeroPages += count;
    if (this.opts.mode === 'stage') {
      for (let p = first; p < first + count; p++) this.stagedPages[p] = null;
    } else {
      // A fresh machine's RAM is mostly zero already: checking is cheaper than clearing, and
      // leaving an identical page alone needs no dirty-log or code-cache bookkeeping.
      const t0 = performance.now();
      const mem = this.machine!.memory;
      const words = this.words;
      const presence = mem.presence;
      for (let p = first; p < first + count; p++) {
        if (!words || !isZeroPage(words, p) || (presence && !presence.isPresent(p))) mem.fillPage(p, null);
      }
      this.zeroMs += performance.now() - t0;
    }
  }

  page(page: number, data: Uint8Array): void {
    this.fullPages++;
    if (this.opts.mode === 'stage') {
      this.stagedPages[page] = data;
      this.hashes!.setFromBytes(page, data);
    } else {
      this.machine!.memory.fillPage(page, data);
      // Hash what RAM now holds: the digest then vouches for the machine, not just the wire.
      if (this.words) this.hashes!.setFromRam(this.words, page);
      else this.hashes!.setFromBytes(page, this.machine!.memory.ram.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    }
  }

  round(n: number): void {
    this.lastRound = n;
  }

  end(e: StreamEnd, frame: number): void {
    for (const name of this.parts.keys()) {
      if (!this.staged.has(name)) {
        throw new SnapshotFormatError('missing-section', `the stream has no section "${name}", which this machine needs`, frame);
      }
    }
    const digest = combineDigest(this.hashes!, this.digestSections);
    if (!digestEquals(digest, e.digest)) {
      throw new SnapshotFormatError(
        'digest-mismatch',
        `state digest mismatch: the stream says ${digestToHex(e.digest)}, the received state hashes to ${digestToHex(digest)}`,
        frame,
      );
    }
    this.digest = digest;
  }

  /** Applies the verified state: pages (stage mode), then every part in machine order. */
  commit(): M {
    if (!this.verified) throw new Error('StateLoader.commit() before the stream was verified');
    if (this.committed) throw new Error('StateLoader.commit() called twice');
    this.committed = true;
    const m = this.machine!;
    if (this.opts.mode === 'stage') {
      const mem = m.memory;
      const pages = this.stagedPages;
      for (let p = 0; p < pages.length; p++) mem.fillPage(p, pages[p] ?? null);
      this.stagedPages = [];
    }
    for (const part of this.parts.values()) part.loadState(this.staged.get(part.sectionName)!.record);
    return m;
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
