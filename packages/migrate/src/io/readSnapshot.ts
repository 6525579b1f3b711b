/**
 * Snapshot readers for every kind of source (sources.ts), all streaming: chunks are pulled one
 * at a time and decoded as they arrive, and a source is only read as fast as the decoder
 * consumes it.
 *
 * Peak extra memory: restoring into an existing machine stages the snapshot's non-zero page data
 * (views into the chunks read; for a compressed snapshot, the inflated blocks) until the whole-
 * state digest has verified — the price of "a failed restore leaves the machine untouched".
 * Restoring into a fresh machine (restoreFreshFrom) writes pages straight into its RAM and holds
 * only the chunk being decoded. Neither ever joins the input into one buffer.
 */
import type { MigratableMachine } from '../machine.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import { StreamDecoder } from '../format/StreamDecoder.ts';
import { SnapshotRestorer, type RestoreResult, type RestoreSnapshotOptions } from '../snapshot/restoreSnapshot.ts';
import { SnapshotImage, type SnapshotImageOptions } from '../snapshot/SnapshotImage.ts';
import { StateLoader } from '../snapshot/StateLoader.ts';
import { fileChunks, sourceChunks, READ_CHUNK_BYTES, type SnapshotSource } from './sources.ts';
import type { Stateful } from '@ferry86/mmu';

export interface ReadSnapshotOptions extends RestoreSnapshotOptions {
  /** Bytes per read from a Blob or a file (default 1 MiB). */
  chunkBytes?: number;
  /** Told the bytes read so far after each chunk. */
  onProgress?: (bytesRead: number) => void;
}

/**
 * Restores a snapshot from any source into `machine` (same configuration). Nothing changes
 * unless the whole snapshot checks; throws SnapshotFormatError otherwise.
 */
export async function restoreSnapshotFrom(machine: MigratableMachine, source: SnapshotSource, opts: ReadSnapshotOptions = {}): Promise<RestoreResult> {
  const r = new SnapshotRestorer(machine, opts);
  for await (const c of sourceChunks(source, opts.chunkBytes ?? READ_CHUNK_BYTES)) {
    await r.pushAsync(c);
    opts.onProgress?.(r.bytesIn);
  }
  return r.finishAsync();
}

/** restoreSnapshotFrom for a file (Node). */
export function restoreSnapshotFile(machine: MigratableMachine, path: string, opts: ReadSnapshotOptions = {}): Promise<RestoreResult> {
  return restoreSnapshotFrom(machine, fileChunks(path, opts.chunkBytes), opts);
}

/**
 * Builds a machine for the configuration the snapshot names (`create`, e.g. createPcMachine)
 * and restores the snapshot into it as it streams in. On failure the half-built machine is
 * dropped and SnapshotFormatError thrown.
 */
export async function restoreFreshFrom<M extends MigratableMachine>(
  source: SnapshotSource,
  create: (config: unknown) => M,
  opts: Omit<ReadSnapshotOptions, 'extraParts'> & { extraParts?: (machine: M) => readonly Stateful[] } = {},
): Promise<{ machine: M; result: RestoreResult }> {
  const loader = new StateLoader<M>({ mode: 'direct', createMachine: create, extraParts: opts.extraParts });
  const d = new StreamDecoder(loader, opts.limits, { codec: opts.codec });
  for await (const c of sourceChunks(source, opts.chunkBytes ?? READ_CHUNK_BYTES)) {
    await d.pushAsync(c);
    opts.onProgress?.(d.bytesIn);
  }
  await d.finishAsync();
  const machine = loader.commit();
  const h = d.header!;
  return { machine, result: { digest: digestToHex(loader.digest!), producer: h.producer, formatVersion: h.formatVersion, compressed: h.compressed } };
}

/** Decodes a snapshot from any source once, for restoring it many times (SnapshotImage.clone). */
export function openSnapshotImage(source: SnapshotSource, opts: SnapshotImageOptions & { chunkBytes?: number } = {}): Promise<SnapshotImage> {
  return SnapshotImage.fromChunks(sourceChunks(source, opts.chunkBytes ?? READ_CHUNK_BYTES), opts);
}
