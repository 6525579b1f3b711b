export type MigrationErrorCode =
  /** The channel closed or broke before the handover. */
  | 'transport-closed'
  /** The destination rejected the stream or failed to load it (its message says why). */
  | 'target-error'
  /** The stream this side received was malformed (cause: SnapshotFormatError). */
  | 'stream-error'
  /** The peer sent a message that is not part of the protocol. */
  | 'protocol'
  /** No progress within the configured time. */
  | 'timeout'
  /** The source gave up and told the destination so. */
  | 'aborted'
  /** The source's machine cannot be migrated (already fenced, a part fails to save...). */
  | 'source-error'
  /**
   * Destination only: it sent READY, then lost the channel before COMMIT. The source may or may
   * not have fenced itself; the loaded machine must not run unless the embedder knows it did.
   */
  | 'handover-unknown'
  /**
   * Post-copy only, after the handover: the channel broke or the pages that arrived do not match
   * the source's digest. Part of the guest's RAM exists only on the (fenced) source: the guest
   * on the destination cannot continue. The inherent risk of post-copy (Hines & Gopalan).
   */
  | 'postcopy-failed';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
