import { FRAME_CRC_BYTES, FRAME_HEADER_BYTES, FrameType } from './constants.ts';
import { crc32c } from './crc32c.ts';
import type { PageCodec } from './page-codec.ts';

/**
 * Compresses the Pages frames of one chunk as StreamEncoder emitted it (whole frames only,
 * after `skip` bytes of stream header) with an asynchronous codec: the path for platforms
 * without synchronous DEFLATE (browsers' CompressionStream). Each Pages frame whose data
 * shrinks becomes a CompressedPages frame with the same sequence number and a fresh CRC, exactly
 * as StreamEncoder's own synchronous compression writes it. Returns a new chunk no larger
 * than the input (the input is not modified).
 */
export async function compressChunkFrames(chunk: Uint8Array, skip: number, codec: PageCodec): Promise<Uint8Array> {
  const out = new Uint8Array(chunk.length);
  const ov = new DataView(out.buffer);
  const iv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  out.set(chunk.subarray(0, skip), 0);
  let i = skip;
  let o = skip;
  while (i < chunk.length) {
    const length = iv.getUint32(i + 8, true);
    const frameEnd = i + FRAME_HEADER_BYTES + length + FRAME_CRC_BYTES;
    if (chunk[i] === FrameType.Pages) {
      const payload = i + FRAME_HEADER_BYTES;
      const count = iv.getUint32(payload, true);
      const dataStart = payload + 4 + 4 * count + ((count + 3) & ~3);
      const dataEnd = payload + length;
      const raw = dataEnd - dataStart;
      const z = raw > 0 ? await codec.deflate(chunk.subarray(dataStart, dataEnd)) : null;
      if (z && z.length + 4 < raw) {
        out.set(chunk.subarray(i, dataStart), o);
        out[o] = FrameType.CompressedPages;
        let p = o + (dataStart - i);
        out[p] = codec.id;
        out[p + 1] = out[p + 2] = out[p + 3] = 0;
        out.set(z, p + 4);
        p += 4 + z.length;
        ov.setUint32(o + 8, p - o - FRAME_HEADER_BYTES, true);
        ov.setUint32(p, crc32c(out, o, p), true);
        o = p + FRAME_CRC_BYTES;
        i = frameEnd;
        continue;
      }
    }
    out.set(chunk.subarray(i, frameEnd), o);
    o += frameEnd - i;
    i = frameEnd;
  }
  return out.subarray(0, o);
}
