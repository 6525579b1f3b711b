import type { Stateful } from '@ferry86/mmu';
import type { StreamLimits } from '../format/constants.ts';
import { StreamDecoder } from '../format/StreamDecoder.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import type { MigratableMachine } from '../machine.ts';
import { StateLoader } from './StateLoader.ts';

export interface RestoreSnapshotOptions {
  extraParts?: readonly Stateful[];
  limits?: Partial<StreamLimits>;
}

export interface RestoreResult {
  /** The verified state digest (hex). */
  digest: string;
  producer: string;
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
    this.decoder = new StreamDecoder(this.loader, opts.limits);
  }

  /** Feeds the next bytes (the caller must not modify them afterwards: pages are staged by reference). */
  push(chunk: Uint8Array): void {
    this.decoder.push(chunk);
  }

  /** Verifies the stream is complete and commits it to the machine. */
  finish(): RestoreResult {
    this.decoder.finish();
    this.loader.commit();
    return { digest: digestToHex(this.loader.digest!), producer: this.decoder.header!.producer };
  }
}

/** Restores a whole snapshot; throws SnapshotFormatError (machine untouched) if anything is wrong. */
export function restoreSnapshot(machine: MigratableMachine, bytes: Uint8Array | Iterable<Uint8Array>, opts: RestoreSnapshotOptions = {}): RestoreResult {
  const r = new SnapshotRestorer(machine, opts);
  if (bytes instanceof Uint8Array) r.push(bytes);
  else for (const c of bytes) r.push(c);
  return r.finish();
}
