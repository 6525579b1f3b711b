import type { Stateful } from '@ferry86/mmu';
import { HEADER_FLAG_COMPRESSED } from '../format/constants.ts';
import { encodeHeader } from '../format/header.ts';
import { codecForSave, type PageCodec } from '../format/page-codec.ts';
import { compressChunkFrames } from '../format/recompress.ts';
import { StreamEncoder } from '../format/StreamEncoder.ts';
import { combineDigest, encodeParts, type DigestSection } from '../digest/stateDigest.ts';
import { END_FRAME_BYTES, frameBytes } from '../format/frame-sizes.ts';
import { PageHashes } from '../digest/PageHashes.ts';
import { allParts, type MigratableMachine } from '../machine.ts';
import { RamWriter, type RamWriterOptions } from './RamWriter.ts';
import { FrameSizer } from './FrameSizer.ts';
import { WorkingSetPart } from './WorkingSet.ts';

export const PRODUCER = 'ferry86 0.1.0';

export interface SaveSnapshotOptions {
  /** Chunk size of the streaming variant (default 1 MiB). */
  chunkSize?: number;
  /** Parts beyond machine.stateParts() to save along (e.g. an embedder's own state). */
  extraParts?: readonly Stateful[];
  producer?: string;
  /**
   * Pages the guest touched just before the snapshot (recordWorkingSet), saved as the optional
   * "working-set" section so a lazy restore loads them first.
   */
  workingSet?: Uint32Array;
  /**
   * Compress RAM page data (DEFLATE, format version 2): true for this platform's default codec
   * (node:zlib level 1; CompressionStream in browsers, which only the async savers can use), or
   * a codec of your choice. Zero pages are elided either way.
   */
  compress?: boolean | PageCodec;
  /** Told after each slice of RAM how far the writer got (pages done of pageCount, bytes made). */
  onProgress?: (pagesDone: number, pageCount: number, bytes: number) => void;
  /** Told what was written, once the END frame is out. */
  onStats?: (stats: SnapshotStats) => void;
}

/** What a save wrote. */
export interface SnapshotStats {
  bytes: number;
  zeroPages: number;
  fullPages: number;
  /** Full-page data before compression, and what the page frames took after it (equal without). */
  rawPageBytes: number;
  compressedPageBytes: number;
  digest: Uint32Array;
}

/** What a save writes besides RAM, captured once before any RAM is written. */
interface SavePlan {
  header: Uint8Array;
  sections: DigestSection[];
  /** Page classification shared by the sizing and the writing pass (RamWriterOptions.classes). */
  classes: Uint8Array;
}

function planSave(machine: MigratableMachine, opts: SaveSnapshotOptions, flagCompressed: boolean): SavePlan {
  const mem = machine.memory;
  const extra = opts.workingSet ? [...(opts.extraParts ?? []), new WorkingSetPart(opts.workingSet)] : opts.extraParts;
  const sections = encodeParts(allParts(machine, extra)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = encodeHeader(opts.producer ?? PRODUCER, machine.config, mem.pageCount, flagCompressed ? HEADER_FLAG_COMPRESSED : 0);
  return { header, sections, classes: new Uint8Array(mem.pageCount) };
}

/** RAM in slices of 1024 pages, so chunks can be yielded (and sent) while the rest is produced. */
function* ramSlices(ram: RamWriter, pageCount: number): Generator<number, void, void> {
  const all = new Uint32Array(pageCount);
  for (let p = 0; p < pageCount; p++) all[p] = p;
  for (let i = 0; i < pageCount; i += 1024) {
    const end = Math.min(pageCount, i + 1024);
    ram.write(all, i, end);
    yield end;
  }
}

function ramWriterOptions(machine: MigratableMachine, plan: SavePlan): RamWriterOptions {
  const mem = machine.memory;
  return { classes: plan.classes, isPristine: mem.isPristine ? (p) => mem.isPristine!(p) : undefined };
}

/** The exact size of the uncompressed snapshot writeSnapshot will produce for `plan`. */
function plannedBytes(machine: MigratableMachine, plan: SavePlan, chunkSize: number | undefined): number {
  const perFrame = new StreamEncoder(() => {}, { chunkSize, into: new Uint8Array(0) }).maxPagesPerFrame;
  const sizer = new FrameSizer(perFrame);
  const ram = new RamWriter(machine.memory.ram, sizer, null, ramWriterOptions(machine, plan));
  for (const _ of ramSlices(ram, machine.memory.pageCount));
  let bytes = plan.header.length + sizer.bytes + END_FRAME_BYTES;
  for (const s of plan.sections) bytes += frameBytes(s.payload.length);
  return bytes;
}

/**
 * The one snapshot writer behind saveSnapshot, snapshotChunks and snapshotChunksAsync.
 * `compressor` is used synchronously inside the encoder; `flagCompressed` marks the header;
 * `into`, when given, is the exactly sized buffer the whole stream goes into.
 */
function* writeSnapshot(
  machine: MigratableMachine,
  opts: SaveSnapshotOptions,
  compressor: PageCodec | undefined,
  plan: SavePlan,
  into?: Uint8Array,
): Generator<Uint8Array, void, void> {
  const queue: Uint8Array[] = [];
  const enc = new StreamEncoder((c) => queue.push(c), { chunkSize: opts.chunkSize, compressor, into });
  const mem = machine.memory;
  const hashes = new PageHashes(mem.pageCount);
  const ram = new RamWriter(mem.ram, enc, hashes, ramWriterOptions(machine, plan));
  enc.raw(plan.header);
  for (const done of ramSlices(ram, mem.pageCount)) {
    opts.onProgress?.(done, mem.pageCount, enc.bytesOut);
    while (queue.length > 0) yield queue.shift()!;
  }
  for (const s of plan.sections) enc.section(s.payload);
  const digest = combineDigest(hashes, plan.sections);
  enc.end(digest, plan.sections.length, mem.pageCount);
  enc.flush();
  while (queue.length > 0) yield queue.shift()!;
  opts.onStats?.({
    bytes: enc.bytesOut,
    zeroPages: ram.zeroPages,
    fullPages: ram.fullPages,
    rawPageBytes: ram.fullPages * 4096,
    compressedPageBytes: compressor ? enc.compressedPageBytes : ram.fullPages * 4096,
    digest,
  });
}

/**
 * Streams a snapshot of a stopped machine: header, page records (zero runs for zero pages),
 * sections in name order, END with the state digest. Section state is captured before the first
 * chunk is yielded, RAM as the generator advances: do not run the machine until it is done.
 * Each chunk is at most `chunkSize` bytes (one section larger than that gets a chunk of its own)
 * and is a fresh buffer the writer never touches again. Compression needs a synchronous codec
 * here (Node); snapshotChunksAsync takes any.
 */
export function snapshotChunks(machine: MigratableMachine, opts: SaveSnapshotOptions = {}): Generator<Uint8Array, void, void> {
  const codec = codecForSave(opts.compress, { asyncAlternative: 'snapshotChunksAsync (or the io/ writers)' });
  return writeSnapshot(machine, opts, codec ?? undefined, planSave(machine, opts, codec !== null));
}

/**
 * snapshotChunks for any codec, synchronous or not (browsers compress with CompressionStream
 * here). Same bytes as snapshotChunks with the same codec. The machine must stay stopped until
 * the generator is done.
 */
export async function* snapshotChunksAsync(machine: MigratableMachine, opts: SaveSnapshotOptions = {}): AsyncGenerator<Uint8Array, void, void> {
  const codec = codecForSave(opts.compress);
  if (!codec || codec.deflateSync) {
    yield* writeSnapshot(machine, opts, codec ?? undefined, planSave(machine, opts, codec !== null));
    return;
  }
  let first = true;
  let saved = 0;
  // The writer reports its stats after the last chunk came back through here: correct them.
  const onStats = opts.onStats && ((s: SnapshotStats) => opts.onStats!({ ...s, bytes: s.bytes - saved, compressedPageBytes: s.rawPageBytes - saved }));
  for (const chunk of writeSnapshot(machine, { ...opts, onStats }, undefined, planSave(machine, opts, true))) {
    // The first chunk starts with the stream header (never split: it is written first, whole).
    const skip = first ? 16 + new DataView(chunk.buffer, chunk.byteOffset).getUint32(12, true) + 4 : 0;
    first = false;
    const out = await compressChunkFrames(chunk, skip, codec);
    saved += chunk.length - out.length;
    yield out;
  }
}

/**
 * The whole snapshot as one byte array (same bytes as snapshotChunks concatenated). Uncompressed,
 * the snapshot is sized first (a pass over the page classification, no data touched) and
 * written straight into one buffer of that size.
 */
export function saveSnapshot(machine: MigratableMachine, opts: SaveSnapshotOptions = {}): Uint8Array {
  if (codecForSave(opts.compress)) return concat([...snapshotChunks(machine, opts)]);
  const plan = planSave(machine, opts, false);
  const out = new Uint8Array(plannedBytes(machine, plan, opts.chunkSize));
  let written = 0;
  for (const c of writeSnapshot(machine, opts, undefined, plan, out)) written += c.length;
  if (written !== out.length) throw new Error(`saveSnapshot: sized ${out.length} bytes but wrote ${written}`);
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
