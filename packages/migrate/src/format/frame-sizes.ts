import { END_PAYLOAD_BYTES, FRAME_CRC_BYTES, FRAME_HEADER_BYTES, PAGE_SIZE } from './constants.ts';

/**
 * Byte counts of frames (layout in constants.ts), shared by the encoder that writes them and by
 * writers that size a stream before writing it (saveSnapshot fills one exactly sized buffer).
 */

/** A frame with a payload of `payload` bytes: header, payload, CRC. */
export function frameBytes(payload: number): number {
  return FRAME_HEADER_BYTES + payload + FRAME_CRC_BYTES;
}

/** Payload of a Pages frame of `n` full-page records: count, page numbers, kinds (padded to 4), data. */
export function pagesPayloadBytes(n: number): number {
  return 4 + 4 * n + ((n + 3) & ~3) + n * PAGE_SIZE;
}

export const ZERO_RUN_FRAME_BYTES = frameBytes(8);
export const END_FRAME_BYTES = frameBytes(END_PAYLOAD_BYTES);
