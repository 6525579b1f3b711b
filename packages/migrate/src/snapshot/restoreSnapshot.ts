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
  const c = new ChainRestore(machine, chain.length, opts);
  for (let i = 0; i < chain.length; i++) {
    const decoder = c.next();
    const bytes = chain[i]!;
    c.guard(() => {
      if (bytes instanceof Uint8Array) decoder.push(bytes);
      else for (const b of bytes) decoder.push(b);
      decoder.finish();
    });
  }
  return c.commit();
}

/**
 * restoreSnapshotChain that also reads compressed snapshots where only an asynchronous
 * decompressor exists (browsers), and takes asynchronous sources (e.g. readSnapshot's chunks).
 */
export async function restoreSnapshotChainAsync(
  machine: MigratableMachine,
  chain: readonly (Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>)[],
  opts: RestoreSnapshotOptions = {},
): Promise<RestoreResult> {
  const c = new ChainRestore(machine, chain.length, opts);
  for (let i = 0; i < chain.length; i++) {
    const decoder = c.next();
    const bytes = chain[i]!;
    await c.guardAsync(async () => {
      if (bytes instanceof Uint8Array) await decoder.pushAsync(bytes);
      else for await (const b of bytes) await decoder.pushAsync(b);
      await decoder.finishAsync();
    });
  }
  return c.commit();
}

/** The links of a chain restore, staged one on top of the other until commit(). */
class ChainRestore {
  private parent: ChainLink | undefined;
  private loader: StateLoader<MigratableMachine> | null = null;
  private decoder: StreamDecoder | null = null;
  private index = -1;

  constructor(
    private readonly machine: MigratableMachine,
    private readonly length: number,
    private readonly opts: RestoreSnapshotOptions,
  ) {
    if (length === 0) throw new RangeError('restoring a chain needs at least one snapshot');
  }

  /** Starts the next link: a decoder staging on top of the previous link. */
  next(): StreamDecoder {
    if (this.loader) this.parent = this.loader.chainLink(`snapshot ${this.index + 1} of the chain`);
    this.index++;
    this.loader = new StateLoader({ mode: 'stage', machine: this.machine, extraParts: this.opts.extraParts, parent: this.parent });
    this.decoder = new StreamDecoder(this.loader, this.opts.limits, { codec: this.opts.codec });
    return this.decoder;
  }

  /** Runs one link's decoding; a format error names the link. */
  guard(decode: () => void): void {
    try {
      decode();
    } catch (e) {
      throw this.named(e);
    }
  }

  async guardAsync(decode: () => Promise<void>): Promise<void> {
    try {
      await decode();
    } catch (e) {
      throw this.named(e);
    }
  }

  private named(e: unknown): unknown {
    if (!(e instanceof SnapshotFormatError)) return e;
    return new SnapshotFormatError(e.code, `snapshot ${this.index + 1} of ${this.length} in the chain: ${e.message}`, e.frame);
  }

  commit(): RestoreResult {
    this.loader!.commit();
    return resultOf(this.loader!.digest!, this.decoder!);
  }
}
