import { StateError } from '@ferry86/mmu';

/**
 * A disk's saved overlay was made over a different base image than the one this disk has: its
 * blocks would corrupt the filesystem they belong to, so the state is refused.
 */
export class DiskImageMismatchError extends StateError {
  constructor(
    section: string,
    readonly expected: { readonly bytes: number; readonly hash: string },
    readonly actual: { readonly bytes: number; readonly hash: string },
  ) {
    super(section, `the saved overlay belongs to a base image of ${expected.bytes} bytes with hash ${expected.hash}, ` +
      `but this disk's base image is ${actual.bytes} bytes with hash ${actual.hash}: attach the same base image the snapshot was taken with`);
  }
}

/** A read or write outside the disk. */
export class DiskRangeError extends RangeError {
  override readonly name = 'DiskRangeError';
}
