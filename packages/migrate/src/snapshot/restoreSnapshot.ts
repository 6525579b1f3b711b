import type { Stateful } from '@ferry86/mmu';
import type { StreamLimits } from '../format/constants.ts';
import { StreamDecoder } from '../format/StreamDecoder.ts';
import type { PageCodec } from '../format/page-codec.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import type { MigratableMachine } from '../machine.ts';
import { SnapshotFormatError } from '../format/errors.ts';
import { StateLoader, type ChainLink } from './StateLoader.ts';

export interface RestoreSnapshotOptions {
  extraParts?: readonly Stateful[];
  limits?: Partial<StreamLimits>;
  /** Decompressor for compressed snapshots (default: node:zlib, else DecompressionStream — async only). */
  codec?: PageCodec | null;
}

export interface RestoreResult {
  /** The verified state digest (hex). */
  digest: string;
  producer: string;
  /** Stream format version of the snapshot (older versions are read through the upgrade path). */
  formatVersion: number;
  /** The snapshot's RAM was compressed. */
  compressed: boolean;
}

/**
 * Restores a snapshot received in chunks of any size (file reads, network). Nothing touches the
 * machine until finish() has seen the END frame and verified the digest; a stream that fails
 * anywhere leaves the machine exactly as it was.
 */
export class SnapshotRestorer {
  private readonly loader: StateLoader<MigratableMachine>;
  private readonly decoder: StreamDecoder;

  constructor(machine: MigratableMachine, opts: RestoreSnapshotOptions = {}) {
    this.loader = new StateLoader({ mode: 'stage', machine, extraParts: opts.extraParts });
    this.decoder = new StreamDecoder(this.loader, opts.limits, { codec: opts.codec });
  }

  /** Bytes pushed so far. */
  get bytesIn(): number {
    return this.decoder.bytesIn;
  }

  /** Feeds the next bytes (the caller must not modify them afterwards: pages are staged by reference). */
  push(chunk: Uint8Array): void {
    this.decoder.push(chunk);
  }

  /** push() that also works with an asynchronous decompressor (browsers). */
  pushAsync(chunk: Uint8Array): Promise<void> {
    return this.decoder.pushAsync(chunk);
  }

  /** Verifies the stream is complete and commits it to the machine. */
  finish(): RestoreResult {
    this.decoder.finish();
    this.loader.commit();
    return resultOf(this.loader.digest!, this.decoder);
  }

  /** finish() after any asynchronous decompression has settled. */
  async finishAsync(): Promise<RestoreResult> {
    await this.decoder.finishAsync();
    return this.finish();
  }
}

function resultOf(digest: Uint32Array, d: StreamDecoder): RestoreResult {
  const h = d.header!;
  return { digest: digestToHex(digest), producer: h.producer, formatVersion: h.formatVersion, compressed: h.compressed };
}

/** Restores a whole snapshot; throws SnapshotFormatError (machine untouched) if anything is wrong. */
export function restoreSnapshot(machine: MigratableMachine, bytes: Uint8Array | Iterable<Uint8Array>, opts: RestoreSnapshotOptions = {}): RestoreResult {
  const r = new SnapshotRestorer(machine, opts);
  if (bytes instanceof Uint8Array) r.push(bytes);
  else for (const c of bytes) r.push(c);
  return r.finish();
}

/**
 * Restores a chain: a complete snapshot followed by incremental snapshots, each naming the one
 * before it (by digest). Every link is decoded, checked against its parent and verified against
 * its own whole-state digest while staged; only when the last one has verified does the machine
 * change, to the state of the last snapshot. Any failure leaves the machine exactly as it was.
 */
export function restoreSnapshotChain(
  machine: MigratableMachine,
  chain: readonly (Uint8Array | Iterable<Uint8Array>)[],
  opts: RestoreSnapshotOptions = {},
): RestoreResult {
  if (chain.length === 0) throw new RangeError('restoreSnapshotChain needs at least one snapshot');
  let parent: ChainLink | undefined;
  let loader: StateLoader<MigratableMachine> | null = null;
  let decoder: StreamDecoder | null = null;
  for (let i = 0; i < chain.length; i++) {
    loader = new StateLoader({ mode: 'stage', machine, extraParts: opts.extraParts, parent });
    decoder = new StreamDecoder(loader, opts.limits, { codec: opts.codec });
    const bytes = chain[i]!;
    try {
      if (bytes instanceof Uint8Array) decoder.push(bytes);
      else for (const c of bytes) decoder.push(c);
      decoder.finish();
    } catch (e) {
      if (e instanceof SnapshotFormatError) {
        throw new SnapshotFormatError(e.code, `snapshot ${i + 1} of ${chain.length} in the chain: ${e.message}`, e.frame);
      }
      throw e;
    }
    parent = loader.chainLink(`snapshot ${i + 1} of the chain`);
  }
  loader!.commit();
  return resultOf(loader!.digest!, decoder!);
}
