/**
 * Layout constants of the ferry86 stream (DESIGN §2.5). One format serves snapshot files and
 * live-migration wires:
 *
 *   header:  magic[8] | formatVersion u16 | headerFlags u16 | bodyLength u32 | body | crc32c u32
 *            body = pageSize u32 | pageCount u32 | producer (u16 len, UTF-8) | config JSON (u32 len, UTF-8)
 *   frame:   type u8 | flags u8 | reserved u16 | seq u32 | length u32 | payload[length] | crc32c u32
 *            (the CRC covers the 12 header bytes and the payload; seq counts frames from 0)
 *
 * All integers little-endian. Frame payloads are described below and in section-codec.ts.
 *
 * Format history (a reader accepts MIN_FORMAT_VERSION..FORMAT_VERSION; header.ts upgrades):
 *   1  the first format. headerFlags was "reserved, zero".
 *   2  headerFlags bit 0 (HEADER_FLAG_COMPRESSED): RAM may come in CompressedPages frames.
 *      Everything else is as in version 1, so a version 1 stream reads as a version 2 stream
 *      with headerFlags = 0 — the whole upgrade.
 */

/** "\x89F86\r\n\x1a\n": the high byte and CR/LF/^Z catch 7-bit and text-mode mangling (as PNG). */
export const MAGIC = new Uint8Array([0x89, 0x46, 0x38, 0x36, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FORMAT_VERSION = 2;
/** The oldest stream format version this build still reads. */
export const MIN_FORMAT_VERSION = 1;
/** Header flag (format ≥ 2): page data may be compressed (FrameType.CompressedPages). */
export const HEADER_FLAG_COMPRESSED = 0x0001;
export const HEADER_FIXED_BYTES = 16; // magic + version + reserved + bodyLength
export const FRAME_HEADER_BYTES = 12;
export const FRAME_CRC_BYTES = 4;
export const PAGE_SIZE = 4096;

export const enum FrameType {
  /** A device/CPU state section (section-codec.ts). */
  Section = 1,
  /** first u32 | count u32: pages [first, first+count) are all zero bytes. */
  ZeroRun = 2,
  /** A batch of page records with explicit page numbers (page-records.ts). */
  Pages = 3,
  /** round u32: the following page records belong to this pre-copy round (informational). */
  Round = 4,
  /** digest[16] | sectionCount u32 | pageRecords u32: end of the state; nothing may follow. */
  End = 5,
  /**
   * parentDigest[16] | parentName (u16 len, UTF-8): this stream is an incremental snapshot holding
   * only the pages written since that parent; pages it lacks come from the parent. Only as frame 0.
   */
  Parent = 6,
  /**
   * Format ≥ 2, only when the header has HEADER_FLAG_COMPRESSED: a Pages frame whose page data is
   * compressed as one block. count u32 | page numbers u32×count | kinds u8×count padded to 4 |
   * codec u8 (PageCodecId) | reserved u8×3 (zero) | compressed data. Inflated, the data is exactly
   * the data part of the equivalent Pages frame (4096 bytes per Full record, in order).
   */
  CompressedPages = 7,
}

/** Compression methods of CompressedPages frames. */
export const enum PageCodecId {
  /** RFC 1951 DEFLATE without zlib/gzip wrapper (zlib's deflateRaw, CompressionStream 'deflate-raw'). */
  DeflateRaw = 1,
}

export const PARENT_FIXED_BYTES = 18;
export const MAX_PARENT_NAME_BYTES = 1024;

/** Frame flag: a reader that does not know this frame type may skip it. */
export const FRAME_FLAG_SKIPPABLE = 0x01;

/** Page record kinds inside a Pages frame. */
export const enum PageRecordKind {
  Zero = 0,
  Full = 1,
  /** Reserved: sub-page delta against the previous round's contents (not produced yet). */
  Delta = 2,
}

/** Page records per Pages frame (keeps frames near 1 MiB). */
export const MAX_PAGES_PER_FRAME = 256;

export const END_PAYLOAD_BYTES = 24;

/** Caps applied to every incoming stream; it is hostile until proven otherwise. */
export interface StreamLimits {
  /** Largest Section frame payload (ROM images travel in the memory section). */
  maxSectionBytes: number;
  /** Most sections in one stream. */
  maxSections: number;
  /** Most fields in one section. */
  maxFieldsPerSection: number;
  /** Most frames in one stream (a live migration sends several rounds). */
  maxFrames: number;
  /** Largest header body (producer + machine configuration). */
  maxHeaderBytes: number;
  /** Largest RAM the stream may describe, in pages (2 GiB by default). */
  maxPages: number;
}

export const DEFAULT_LIMITS: Readonly<StreamLimits> = {
  maxSectionBytes: 64 << 20,
  maxSections: 4096,
  maxFieldsPerSection: 65536,
  maxFrames: 1 << 24,
  maxHeaderBytes: 1 << 20,
  maxPages: 1 << 19,
};
