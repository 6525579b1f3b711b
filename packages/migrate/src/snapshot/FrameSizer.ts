import { frameBytes, pagesPayloadBytes, ZERO_RUN_FRAME_BYTES } from '../format/frame-sizes.ts';
import type { PageFrameSink } from './RamWriter.ts';

/**
 * A PageFrameSink that writes nothing and counts the bytes the encoder would have written, so a
 * whole snapshot can be sized before it is written into one buffer of exactly that size.
 */
export class FrameSizer implements PageFrameSink {
  bytes = 0;

  constructor(readonly maxPagesPerFrame: number) {}

  zeroRun(): void {
    this.bytes += ZERO_RUN_FRAME_BYTES;
  }

  fullPages(_ram: Uint8Array, _pages: ArrayLike<number>, _from: number, n: number): void {
    this.bytes += frameBytes(pagesPayloadBytes(n));
  }
}
