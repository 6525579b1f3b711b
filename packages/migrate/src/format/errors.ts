/**
 * Typed errors of the snapshot/migration stream. Each says what was wrong in words a user can act
 * on (DESIGN §6); `code` lets callers and tests tell the cases apart without parsing messages.
 */

export type SnapshotErrorCode =
  | 'bad-magic'
  | 'unsupported-version'
  | 'bad-header'
  | 'crc-mismatch'
  | 'truncated'
  | 'trailing-data'
  | 'frame-too-large'
  | 'bad-frame'
  | 'unknown-frame'
  | 'out-of-sequence'
  | 'limit-exceeded'
  | 'unsupported-record'
  | 'page-out-of-range'
  | 'page-missing'
  | 'section-version'
  | 'section-type'
  | 'unknown-section'
  | 'missing-section'
  | 'duplicate-section'
  | 'bad-section'
  | 'digest-mismatch'
  | 'config-mismatch'
  | 'parent-mismatch'
  | 'bad-compression'
  | 'no-decompressor';

/** The stream (file or wire) is not a loadable snapshot for this machine. Nothing was changed. */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
    /** Index of the frame at fault (0 = first frame after the header), when there is one. */
    readonly frame?: number,
  ) {
    super(message);
  }
}

/** A saved state cannot be produced (a part's record does not fit its own schema). */
export class SnapshotSaveError extends Error {
  override readonly name = 'SnapshotSaveError';
}
