import type { Stateful } from '@ferry86/mmu';
import type { StateRecord } from '@ferry86/mmu';
import type { StreamLimits } from '../format/constants.ts';
import { SnapshotFormatError } from '../format/errors.ts';
import type { StreamHeader } from '../format/header.ts';
import type { PageCodec } from '../format/page-codec.ts';
import type { DecodedSection } from '../format/section-codec.ts';
import { StreamDecoder, type ParentRef, type StreamEnd, type StreamSink } from '../format/StreamDecoder.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import type { MigratableMachine } from '../machine.ts';
import { StateLoader } from './StateLoader.ts';
import type { RestoreResult } from './restoreSnapshot.ts';

export interface SnapshotImageOptions {
  limits?: Partial<StreamLimits>;
  codec?: PageCodec | null;
}

/**
 * A complete snapshot decoded once — framing, CRCs, decompression — and kept as its decoded
 * items (sections, page data views), ready to be restored into any number of machines: clones
 * of one saved guest. Each restore replays the items into a fresh StateLoader, so every clone
 * is still checked in full (schemas, parts' checks, whole-state digest) before it changes; a
 * clone shares nothing with the image or the other clones (page data is copied into its RAM).
 *
 * Memory: the non-zero page data of the snapshot (views into the chunks it was read from, or
 * the inflated blocks of a compressed one), held as long as the image is.
 */
export class SnapshotImage implements StreamSink {
  private hdr: StreamHeader | null = null;
  private readonly sections: { s: DecodedSection; frame: number }[] = [];
  /** Page data by page number; null = zero page. */
  private pages: (Uint8Array | null)[] = [];
  private endInfo: { e: StreamEnd; frame: number } | null = null;
  private decoder: StreamDecoder;

  private constructor(opts: SnapshotImageOptions) {
    this.decoder = new StreamDecoder(this, opts.limits, { codec: opts.codec });
  }

  /** Decodes a snapshot held in memory (or as chunks). Throws SnapshotFormatError. */
  static fromBytes(bytes: Uint8Array | Iterable<Uint8Array>, opts: SnapshotImageOptions = {}): SnapshotImage {
    const img = new SnapshotImage(opts);
    if (bytes instanceof Uint8Array) img.decoder.push(bytes);
    else for (const c of bytes) img.decoder.push(c);
    img.decoder.finish();
    return img;
  }

  /** Decodes a snapshot from chunks arriving asynchronously (any io/ source). */
  static async fromChunks(chunks: AsyncIterable<Uint8Array>, opts: SnapshotImageOptions = {}): Promise<SnapshotImage> {
    const img = new SnapshotImage(opts);
    for await (const c of chunks) await img.decoder.pushAsync(c);
    await img.decoder.finishAsync();
    return img;
  }

  /** What the snapshot's header says (configuration, format version, producer). */
  get streamHeader(): StreamHeader {
    return this.hdr!;
  }

  /** The state digest the snapshot's END frame states (each restore verifies it). */
  get digest(): string {
    return digestToHex(this.endInfo!.e.digest);
  }

  // StreamSink: record everything, in order.
  header(h: StreamHeader): void {
    this.hdr = h;
    this.pages = new Array<Uint8Array | null>(h.pageCount).fill(null);
  }

  parent(ref: ParentRef, frame: number): void {
    throw new SnapshotFormatError('parent-mismatch', `"${ref.name}" is the parent of this incremental snapshot: clone from a complete snapshot (restoreSnapshotChain restores chains)`, frame);
  }

  section(s: DecodedSection, frame: number): void {
    this.sections.push({ s, frame });
  }

  zeroRun(first: number, count: number): void {
    this.pages.fill(null, first, first + count);
  }

  page(page: number, data: Uint8Array): void {
    this.pages[page] = data;
  }

  round(): void {}

  end(e: StreamEnd, frame: number): void {
    this.endInfo = { e, frame };
  }

  /** Replays the decoded snapshot into a loader, as a decoder would. */
  private replay<M extends MigratableMachine>(loader: StateLoader<M>): void {
    loader.header(this.hdr!);
    // Each replay gets its own copy of the records: a part may keep an array it is given.
    for (const { s, frame } of this.sections) loader.section({ ...s, record: copyRecord(s.record) }, frame);
    const pages = this.pages;
    let run = -1;
    for (let p = 0; p <= pages.length; p++) {
      const d = p < pages.length ? pages[p] : undefined;
      if (d === null) {
        if (run < 0) run = p;
        continue;
      }
      if (run >= 0) {
        loader.zeroRun(run, p - run);
        run = -1;
      }
      if (d) loader.page(p, d, 0);
    }
    loader.end(this.endInfo!.e, this.endInfo!.frame);
  }

  /**
   * Restores into an existing machine of the snapshot's configuration. Nothing changes unless
   * everything checks (SnapshotFormatError otherwise, machine untouched).
   */
  restoreInto(machine: MigratableMachine, extraParts?: readonly Stateful[]): RestoreResult {
    const loader = new StateLoader({ mode: 'stage', machine, extraParts });
    this.replay(loader);
    loader.commit();
    return this.result(loader.digest!);
  }

  /**
   * A new machine built by `create` from the snapshot's configuration, holding the snapshot's
   * state: pages go straight into its RAM (nobody else has the machine yet, so no staging).
   */
  clone<M extends MigratableMachine>(create: (config: unknown) => M, extraParts?: (machine: M) => readonly Stateful[]): M {
    const loader = new StateLoader<M>({ mode: 'direct', createMachine: create, extraParts });
    this.replay(loader);
    return loader.commit();
  }

  private result(digest: Uint32Array): RestoreResult {
    const h = this.hdr!;
    return { digest: digestToHex(digest), producer: h.producer, formatVersion: h.formatVersion, compressed: h.compressed };
  }
}

function copyRecord(r: StateRecord): StateRecord {
  const out = Object.create(null) as StateRecord;
  for (const k of Object.keys(r)) {
    const v = r[k]!;
    out[k] = ArrayBuffer.isView(v) ? (v as Uint8Array).slice() : v;
  }
  return out;
}
