import { upgradeRecord, validateRecord, type StateRecord, type Stateful } from '@ferry86/mmu';
import { PAGE_SIZE } from '../format/constants.ts';
import { SnapshotFormatError } from '../format/errors.ts';
import { canonicalJson, type StreamHeader } from '../format/header.ts';
import type { DecodedSection } from '../format/section-codec.ts';
import type { ParentRef, StreamEnd, StreamSink } from '../format/StreamDecoder.ts';
import { combineDigest, digestEquals, digestToHex, type DigestSection } from '../digest/stateDigest.ts';
import { isZeroPage, PageHashes, ramWords } from '../digest/PageHashes.ts';
import { allParts, type MigratableMachine } from '../machine.ts';
import { encodeSection } from '../format/section-codec.ts';
import { isDeltaStateful } from './DeltaPart.ts';

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
  /**
   * The verified, staged state of the previous snapshot of a chain ('stage' mode only). The
   * stream must then be an incremental snapshot naming exactly that state as its parent; pages
   * it does not carry keep the parent's contents.
   */
  parent?: ChainLink;
}

/** The staged result of a verified snapshot, as the next snapshot of a chain builds on it. */
export interface ChainLink {
  readonly digest: Uint32Array;
  readonly hashes: PageHashes;
  /** Page contents (null = zero) by page number; views into the snapshots' bytes. */
  readonly pages: readonly (Uint8Array | null | undefined)[];
  /** Where it came from, for messages (e.g. "snapshot 2 of the chain"). */
  readonly label: string;
  /** The checked full records of its sections, which the delta records of the next one build on. */
  readonly records?: ReadonlyMap<string, StateRecord>;
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
  /**
   * Stage mode: full pages of the current frame not hashed yet. They are hashed a frame at a time,
   * in runs that lie back to back in the stream's bytes (the vector kernel does 8 pages at once).
   */
  private unhashedPages: number[] = [];
  private unhashedData: Uint8Array[] = [];
  private unhashedFrame = -1;
  private committed = false;
  private incremental: ParentRef | null = null;
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
    const parent = this.opts.parent;
    if (parent) {
      if (this.opts.mode !== 'stage') throw new Error('StateLoader: a chain parent needs stage mode');
      if (parent.hashes.pageCount !== h.pageCount) {
        throw new SnapshotFormatError('parent-mismatch', `the stream has ${h.pageCount} RAM pages, its parent ${parent.hashes.pageCount}`);
      }
      this.hashes = new PageHashes(h.pageCount);
      this.hashes.table.set(parent.hashes.table);
      this.stagedPages = parent.pages.slice();
    } else {
      this.hashes = new PageHashes(h.pageCount);
      if (this.opts.mode === 'stage') this.stagedPages = new Array<Uint8Array | null | undefined>(h.pageCount);
      else this.words = ramWords(m.memory.ram);
    }
  }

  parent(ref: ParentRef, frame: number): void {
    const parent = this.opts.parent;
    if (!parent) {
      throw new SnapshotFormatError(
        'parent-mismatch',
        `this is an incremental snapshot on top of "${ref.name}" (digest ${digestToHex(ref.digest)}): restore it with restoreSnapshotChain after its parent`,
        frame,
      );
    }
    if (!digestEquals(ref.digest, parent.digest)) {
      throw new SnapshotFormatError(
        'parent-mismatch',
        `this incremental snapshot builds on "${ref.name}" with digest ${digestToHex(ref.digest)}, but ${parent.label} has digest ${digestToHex(parent.digest)}`,
        frame,
      );
    }
    this.incremental = ref;
  }

  section(s: DecodedSection, frame: number): void {
    const part = this.parts.get(s.name);
    if (!part) {
      this.digestSections.push({ name: s.name, payload: s.payload });
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
    let payload = s.payload;
    try {
      record = upgradeRecord(s.name, schema, s.version, s.record);
      validateRecord(s.name, schema, record);
      if (isDeltaStateful(part) && part.isDeltaRecord(record)) {
        // Only what changed since the parent (a disk overlay's new blocks): merge it into the
        // parent's full record; the digest covers the full record, as the sender's does.
        const base = this.opts.parent?.records?.get(s.name);
        if (!base) {
          throw new SnapshotFormatError('parent-mismatch', this.opts.parent
            ? `section "${s.name}" holds only changes, but ${this.opts.parent.label} has no full "${s.name}" record to apply them to`
            : `section "${s.name}" holds only the changes since a parent snapshot: restore it with restoreSnapshotChain after its parent`, frame);
        }
        if (s.version !== schema.version) throw new Error(`a change record of version ${s.version} cannot be merged by this build (version ${schema.version})`);
        record = part.applyDelta(base, record);
        validateRecord(s.name, schema, record);
        payload = encodeSection(s.name, schema, record);
      }
      part.checkState?.(record);
    } catch (e) {
      if (e instanceof SnapshotFormatError) throw e;
      const msg = String((e as Error)?.message ?? e);
      const err = new SnapshotFormatError('bad-section', msg.startsWith('section "') ? msg : `section "${s.name}": ${msg}`, frame);
      // The part's own typed error (e.g. a disk overlay over another base image) stays reachable.
      err.cause = e;
      throw err;
    }
    this.digestSections.push({ name: s.name, payload });
    this.staged.set(s.name, { part, record });
  }

  zeroRun(first: number, count: number): void {
    this.hashStaged(); // a page may come again; its hashes must land in stream order
    this.hashes!.setZeroRun(first, count);
    this.zeroPages += count;
    if (this.opts.mode === 'stage') {
      for (let p = first; p < first + count; p++) this.stagedPages[p] = null;
    } else {
      const t0 = performance.now();
      for (let p = first; p < first + count; p++) this.clearPage(p);
      this.zeroMs += performance.now() - t0;
    }
  }

  page(page: number, data: Uint8Array, frame: number): void {
    this.fullPages++;
    if (this.opts.mode === 'stage') {
      this.stagedPages[page] = data;
      if (frame !== this.unhashedFrame) this.hashStaged();
      this.unhashedFrame = frame;
      this.unhashedPages.push(page);
      this.unhashedData.push(data);
    } else {
      this.machine!.memory.fillPage(page, data);
      // Hash what RAM now holds: the digest then vouches for the machine, not just the wire.
      if (this.words) this.hashes!.setFromRam(this.words, page);
      else this.hashes!.setFromBytes(page, this.machine!.memory.ram.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    }
  }

  /**
   * Makes page p zero. A fresh machine's RAM is mostly zero already, and mostly never touched:
   * a pristine page is left alone without even reading it (touching it would cost a host page
   * fault), a zero page is left alone after checking (cheaper than clearing, and an unchanged
   * page needs no dirty-log or code-cache bookkeeping); only an absent or non-zero page is filled.
   */
  private clearPage(p: number): void {
    const mem = this.machine!.memory;
    if (mem.isPristine?.(p)) return;
    const words = this.words;
    if (!words || !isZeroPage(words, p) || (mem.presence && !mem.presence.isPresent(p))) mem.fillPage(p, null);
  }

  /** Hashes the staged pages not hashed yet. */
  private hashStaged(): void {
    const pages = this.unhashedPages;
    const data = this.unhashedData;
    for (let i = 0; i < pages.length; ) {
      const first = data[i]!;
      let j = i + 1;
      while (j < pages.length && data[j]!.buffer === first.buffer && data[j]!.byteOffset === data[j - 1]!.byteOffset + PAGE_SIZE) j++;
      const block = new Uint8Array(first.buffer, first.byteOffset, (j - i) * PAGE_SIZE);
      this.hashes!.setPagesFromBlock(block, 0, pages, i, j - i);
      i = j;
    }
    this.unhashedPages = [];
    this.unhashedData = [];
  }

  round(n: number): void {
    this.lastRound = n;
  }

  end(e: StreamEnd, frame: number): void {
    this.hashStaged();
    if (this.opts.parent && !this.incremental) {
      throw new SnapshotFormatError('parent-mismatch', `a chain continues with incremental snapshots, but this one is complete (it names no parent)`, frame);
    }
    this.checkSectionsComplete(frame);
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

  private checkSectionsComplete(frame?: number): void {
    for (const [name, part] of this.parts) {
      // An optional part (e.g. a recorded working set) may be missing; it then keeps its state.
      if (!this.staged.has(name) && part.schema.optional !== true) {
        throw new SnapshotFormatError('missing-section', `the stream has no section "${name}", which this machine needs`, frame);
      }
    }
  }

  /**
   * Post-copy switchover ('direct' mode): loads every staged section now, before the stream has
   * ended — the guest is to run while its remaining pages are still on their way. The digest is
   * verified when END arrives (end() as usual); commit() is not called then.
   */
  startPostCopy(): M {
    if (this.opts.mode !== 'direct') throw new Error('StateLoader.startPostCopy() needs direct mode');
    if (this.committed) throw new Error('StateLoader: the state was already loaded');
    this.checkSectionsComplete();
    this.committed = true;
    this.loadParts();
    return this.machine!;
  }

  /** Loads every staged part in machine order; on failure puts back what it loaded (see commit). */
  private loadParts(): void {
    const parts = [...this.parts.values()].filter((p) => this.staged.has(p.sectionName));
    const previous = parts.map((p) => p.saveState());
    let i = 0;
    try {
      for (; i < parts.length; i++) parts[i]!.loadState(this.staged.get(parts[i]!.sectionName)!.record);
    } catch (e) {
      const name = parts[i]!.sectionName;
      let undo = '';
      for (let k = i; k >= 0; k--) {
        try {
          parts[k]!.loadState(previous[k]!);
        } catch (e2) {
          undo = `; restoring the previous state of "${parts[k]!.sectionName}" failed too (${String((e2 as Error)?.message ?? e2)}), the machine is inconsistent`;
        }
      }
      throw new SnapshotFormatError(
        'bad-section',
        `section "${name}" passed its checks but could not be loaded: ${String((e as Error)?.message ?? e)}${undo}`,
      );
    }
  }

  /** The checked record staged for section `name`, if the stream held it. */
  stagedRecord(name: string): StateRecord | undefined {
    return this.staged.get(name)?.record;
  }

  /** The verified staged state, for the next snapshot of a chain to build on. */
  chainLink(label: string): ChainLink {
    if (!this.verified || this.opts.mode !== 'stage') throw new Error('StateLoader.chainLink() needs a verified stream in stage mode');
    const records = new Map<string, StateRecord>();
    for (const [name, st] of this.staged) records.set(name, st.record);
    return { digest: this.digest!, hashes: this.hashes!, pages: this.stagedPages, label, records };
  }

  /**
   * Applies the verified state: every part in machine order, then the pages (stage mode;
   * `pages: false` leaves RAM to the caller, as lazy restore does).
   *
   * Parts load first because loadState is the one step that can still fail: a part whose
   * checkState let through a record its loadState cannot take (a bug in that part, but one a
   * hostile stream must not turn into a half-restored machine). Then every part loaded so far
   * gets its previous state back, RAM was not touched yet, and the failure is reported as a
   * SnapshotFormatError naming the section. No part reads guest RAM while loading its state
   * (lazy restore depends on that too: it loads parts while every page is absent).
   */
  commit(opts: { pages?: boolean } = {}): M {
    if (!this.verified) throw new Error('StateLoader.commit() before the stream was verified');
    if (this.committed) throw new Error('StateLoader.commit() called twice');
    this.committed = true;
    const m = this.machine!;
    this.loadParts();
    if (this.opts.mode === 'stage' && opts.pages !== false) {
      const mem = m.memory;
      const pages = this.stagedPages;
      this.words ??= ramWords(mem.ram);
      for (let p = 0; p < pages.length; p++) {
        const data = pages[p];
        if (data) mem.fillPage(p, data);
        else this.clearPage(p);
      }
      this.stagedPages = [];
    }
    return m;
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
