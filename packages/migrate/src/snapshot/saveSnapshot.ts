import type { Stateful } from '@ferry86/mmu';
import { encodeHeader } from '../format/header.ts';
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
}

/**
 * Streams a snapshot of a stopped machine: header, page records (zero runs for zero pages),
 * sections in name order, END with the state digest. Section state is captured before the first
 * chunk is yielded, RAM as the generator advances: do not run the machine until it is done.
 */
export function* snapshotChunks(machine: MigratableMachine, opts: SaveSnapshotOptions = {}): Generator<Uint8Array, void, void> {
  const queue: Uint8Array[] = [];
  const enc = new StreamEncoder((c) => queue.push(c), { chunkSize: opts.chunkSize });
  const mem = machine.memory;
  const extra = opts.workingSet ? [...(opts.extraParts ?? []), new WorkingSetPart(opts.workingSet)] : opts.extraParts;
  const sections = encodeParts(allParts(machine, extra)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hashes = new PageHashes(mem.pageCount);
  const ram = new RamWriter(mem.ram, enc, hashes);
  enc.raw(encodeHeader(opts.producer ?? PRODUCER, machine.config, mem.pageCount));
  // Pages in slices of 1024 so chunks can be yielded (and sent) while the rest is produced.
  const all = new Uint32Array(mem.pageCount);
  for (let p = 0; p < all.length; p++) all[p] = p;
  for (let i = 0; i < all.length; i += 1024) {
    ram.write(all, i, Math.min(all.length, i + 1024));
    while (queue.length > 0) yield queue.shift()!;
  }
  for (const s of sections) enc.section(s.payload);
  enc.end(combineDigest(hashes, sections), sections.length, mem.pageCount);
  enc.flush();
  while (queue.length > 0) yield queue.shift()!;
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
