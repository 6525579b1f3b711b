import { ByteReader } from './ByteReader.ts';
import { ByteWriter } from './ByteWriter.ts';
import { FORMAT_VERSION, HEADER_FIXED_BYTES, HEADER_FLAG_COMPRESSED, MAGIC, MIN_FORMAT_VERSION, PAGE_SIZE } from './constants.ts';
import { crc32c } from './crc32c.ts';
import { SnapshotFormatError } from './errors.ts';

/** What the stream header says about the state that follows. */
export interface StreamHeader {
  /** The version the stream was written in (MIN_FORMAT_VERSION..FORMAT_VERSION). */
  readonly formatVersion: number;
  /** Header flags, upgraded to the current version's meaning (0 for a version 1 stream). */
  readonly flags: number;
  /** RAM may come in compressed frames (HEADER_FLAG_COMPRESSED): the reader needs a decompressor. */
  readonly compressed: boolean;
  /** Free text naming the writer, e.g. "ferry86 0.1.0". */
  readonly producer: string;
  /** The machine configuration as JSON text (canonical: keys sorted). */
  readonly configJson: string;
  /** Parsed configuration. */
  readonly config: unknown;
  readonly pageSize: number;
  readonly pageCount: number;
}

const MAX_PRODUCER_BYTES = 256;

/** JSON with object keys sorted at every level, so equal configurations give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** Known header flags per format version (bits outside are refused: a newer writer's feature). */
const KNOWN_FLAGS: Readonly<Record<number, number>> = { 1: 0, 2: HEADER_FLAG_COMPRESSED };

/** Encodes a current-version header; `flags` are HEADER_FLAG_* bits. */
export function encodeHeader(producer: string, config: unknown, pageCount: number, flags = 0): Uint8Array {
  if ((flags & ~KNOWN_FLAGS[FORMAT_VERSION]!) !== 0) throw new RangeError(`unknown header flags 0x${flags.toString(16)}`);
  const body = new ByteWriter(256);
  body.u32(PAGE_SIZE);
  body.u32(pageCount);
  body.string(producer, 2);
  body.string(canonicalJson(config), 4);
  const b = body.result();
  const out = new Uint8Array(HEADER_FIXED_BYTES + b.length + 4);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint16(8, FORMAT_VERSION, true);
  v.setUint16(10, flags, true);
  v.setUint32(12, b.length, true);
  out.set(b, HEADER_FIXED_BYTES);
  v.setUint32(out.length - 4, crc32c(out, 0, out.length - 4), true);
  return out;
}

/**
 * Checks the fixed part of a header (magic, version, body length) as soon as its bytes are
 * available; returns the body length. `fixed` must hold HEADER_FIXED_BYTES bytes.
 */
export function checkHeaderFixed(fixed: Uint8Array, maxHeaderBytes: number): number {
  checkMagic(fixed, fixed.length);
  const v = new DataView(fixed.buffer, fixed.byteOffset, HEADER_FIXED_BYTES);
  const version = v.getUint16(8, true);
  if (version > FORMAT_VERSION || version < MIN_FORMAT_VERSION) {
    const rel = version > FORMAT_VERSION ? 'newer than this build reads' : 'older than this build reads';
    throw new SnapshotFormatError(
      'unsupported-version',
      `stream format version ${version} is ${rel} (versions ${MIN_FORMAT_VERSION}..${FORMAT_VERSION})` +
        (version > FORMAT_VERSION ? ': it was written by a newer ferry86; upgrade this one to read it' : ''),
    );
  }
  const flags = v.getUint16(10, true);
  if ((flags & ~KNOWN_FLAGS[version]!) !== 0) {
    throw new SnapshotFormatError(
      'bad-header',
      version === 1 ? 'header reserved field is not zero' : `header flags 0x${flags.toString(16)} include bits format version ${version} does not define`,
    );
  }
  const len = v.getUint32(12, true);
  if (len > maxHeaderBytes) {
    throw new SnapshotFormatError('limit-exceeded', `header body of ${len} bytes exceeds the ${maxHeaderBytes}-byte limit`);
  }
  return len;
}

/** Checks as many magic bytes as `available` (so garbage is rejected after its first bytes). */
export function checkMagic(bytes: Uint8Array, available: number): void {
  const n = Math.min(available, MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new SnapshotFormatError('bad-magic', 'not a ferry86 snapshot or migration stream (bad magic number)');
    }
  }
}

/** Parses a complete header (fixed part + body + CRC), already length-checked. */
export function decodeHeader(all: Uint8Array, maxPages: number): StreamHeader {
  const v = new DataView(all.buffer, all.byteOffset, HEADER_FIXED_BYTES);
  const formatVersion = v.getUint16(8, true);
  // Upgrade to the current meaning: version 1's reserved zero field reads as "no flags".
  const flags = formatVersion >= 2 ? v.getUint16(10, true) : 0;
  const crcAt = all.length - 4;
  const stored = new DataView(all.buffer, all.byteOffset + crcAt, 4).getUint32(0, true);
  if (crc32c(all, 0, crcAt) !== stored) throw new SnapshotFormatError('crc-mismatch', 'CRC mismatch in the stream header');
  const r = new ByteReader(all.subarray(HEADER_FIXED_BYTES, crcAt), 'header');
  const pageSize = r.u32('page size');
  if (pageSize !== PAGE_SIZE) r.fail(`page size ${pageSize} is not supported (only ${PAGE_SIZE})`, 'bad-header');
  const pageCount = r.u32('page count');
  if (pageCount === 0 || pageCount > maxPages) {
    r.fail(`page count ${pageCount} is outside 1..${maxPages}`, 'limit-exceeded');
  }
  const producer = r.string(2, MAX_PRODUCER_BYTES, 'producer');
  const configJson = r.string(4, r.remaining, 'machine configuration');
  r.end();
  let config: unknown;
  try {
    config = JSON.parse(configJson);
  } catch {
    r.fail('machine configuration is not valid JSON', 'bad-header');
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    r.fail('machine configuration is not a JSON object', 'bad-header');
  }
  return { formatVersion, flags, compressed: (flags & HEADER_FLAG_COMPRESSED) !== 0, producer, configJson, config, pageSize, pageCount };
}

/**
 * Reads just the header of a stream held in memory (e.g. to build a machine for the
 * configuration it names before restoring it). Throws SnapshotFormatError like the decoder.
 */
export function readStreamHeader(bytes: Uint8Array, limits: { maxHeaderBytes: number; maxPages: number }): StreamHeader {
  if (bytes.length < HEADER_FIXED_BYTES) {
    checkMagic(bytes, bytes.length);
    throw new SnapshotFormatError('truncated', `stream ends inside the header (${bytes.length} bytes)`);
  }
  const bodyLength = checkHeaderFixed(bytes.subarray(0, HEADER_FIXED_BYTES), limits.maxHeaderBytes);
  const total = HEADER_FIXED_BYTES + bodyLength + 4;
  if (bytes.length < total) throw new SnapshotFormatError('truncated', `stream ends inside the header (${bytes.length} bytes)`);
  return decodeHeader(bytes.subarray(0, total), limits.maxPages);
}
