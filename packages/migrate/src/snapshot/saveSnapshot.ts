import type { Stateful } from '@ferry86/mmu';
import { HEADER_FLAG_COMPRESSED } from '../format/constants.ts';
import { SnapshotSaveError } from '../format/errors.ts';
import { encodeHeader } from '../format/header.ts';
import { defaultPageCodec, type PageCodec } from '../format/page-codec.ts';
import { compressChunkFrames } from '../format/recompress.ts';
import { StreamEncoder } from '../format/StreamEncoder.ts';
import { combineDigest, encodeParts } from '../digest/stateDigest.ts';
import { PageHashes } from '../digest/PageHashes.ts';
import { allParts, type MigratableMachine } from '../machine.ts';
import { RamWriter } from './RamWriter.ts';
import { WorkingSetPart } from '../lazy/WorkingSet.ts';

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

function codecOf(opts: SaveSnapshotOptions): PageCodec | null {
  if (!opts.compress) return null;
  if (opts.compress === true) {
    const c = defaultPageCodec();
    if (!c) throw new SnapshotSaveError('cannot compress: this platform has neither node:zlib nor CompressionStream');
    return c;
  }
  return opts.compress;
}

/**
 * The one snapshot writer behind saveSnapshot, snapshotChunks and snapshotChunksAsync.
 * `compressor` is used synchronously inside the encoder; `flagCompressed` marks the header.
 */
function* writeSnapshot(
  machine: MigratableMachine,
  opts: SaveSnapshotOptions,
  compressor: PageCodec | undefined,
  flagCompressed: boolean,
): Generator<Uint8Array, void, void> {
  const queue: Uint8Array[] = [];
  const enc = new StreamEncoder((c) => queue.push(c), { chunkSize: opts.chunkSize, compressor });
  const mem = machine.memory;
  const extra = opts.workingSet ? [...(opts.extraParts ?? []), new WorkingSetPart(opts.workingSet)] : opts.extraParts;
  const sections = encodeParts(allParts(machine, extra)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hashes = new PageHashes(mem.pageCount);
  const ram = new RamWriter(mem.ram, enc, hashes);
  enc.raw(encodeHeader(opts.producer ?? PRODUCER, machine.config, mem.pageCount, flagCompressed ? HEADER_FLAG_COMPRESSED : 0));
  // Pages in slices of 1024 so chunks can be yielded (and sent) while the rest is produced.
  const all = new Uint32Array(mem.pageCount);
  for (let p = 0; p < all.length; p++) all[p] = p;
  for (let i = 0; i < all.length; i += 1024) {
    ram.write(all, i, Math.min(all.length, i + 1024));
    opts.onProgress?.(Math.min(all.length, i + 1024), all.length, enc.bytesOut);
    while (queue.length > 0) yield queue.shift()!;
  }
  for (const s of sections) enc.section(s.payload);
  const digest = combineDigest(hashes, sections);
  enc.end(digest, sections.length, mem.pageCount);
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
  const codec = codecOf(opts);
  if (codec && !codec.deflateSync) {
    throw new SnapshotSaveError(`cannot compress synchronously with ${codec.name}: use snapshotChunksAsync (or the io/ writers)`);
  }
  return writeSnapshot(machine, opts, codec ?? undefined, codec !== null);
}

/**
 * snapshotChunks for any codec, synchronous or not (browsers compress with CompressionStream
 * here). Same bytes as snapshotChunks with the same codec. The machine must stay stopped until
 * the generator is done.
 */
export async function* snapshotChunksAsync(machine: MigratableMachine, opts: SaveSnapshotOptions = {}): AsyncGenerator<Uint8Array, void, void> {
  const codec = codecOf(opts);
  if (!codec || codec.deflateSync) {
    yield* writeSnapshot(machine, opts, codec ?? undefined, codec !== null);
    return;
  }
  let first = true;
  let saved = 0;
  // The writer reports its stats after the last chunk came back through here: correct them.
  const onStats = opts.onStats && ((s: SnapshotStats) => opts.onStats!({ ...s, bytes: s.bytes - saved, compressedPageBytes: s.rawPageBytes - saved }));
  for (const chunk of writeSnapshot(machine, { ...opts, onStats }, undefined, true)) {
    // The first chunk starts with the stream header (never split: it is written first, whole).
    const skip = first ? 16 + new DataView(chunk.buffer, chunk.byteOffset).getUint32(12, true) + 4 : 0;
    first = false;
    const out = await compressChunkFrames(chunk, skip, codec);
    saved += chunk.length - out.length;
    yield out;
  }
}

/** The whole snapshot as one byte array (same bytes as snapshotChunks concatenated). */
export function saveSnapshot(machine: MigratableMachine, opts: SaveSnapshotOptions = {}): Uint8Array {
  const chunks = [...snapshotChunks(machine, opts)];
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
