import { PageCodecId } from './constants.ts';
import { SnapshotSaveError } from './errors.ts';

/**
 * A compression method for RAM page data (CompressedPages frames). Node has synchronous zlib,
 * browsers only the asynchronous CompressionStream / DecompressionStream, so a codec offers the
 * synchronous calls where the platform has them and the asynchronous ones always. The stream
 * encoder and decoder use the synchronous ones when present; the asynchronous paths
 * (snapshotChunksAsync, StreamDecoder.pushAsync, the io/ adapters) work with either.
 */
export interface PageCodec {
  readonly id: PageCodecId;
  /** For messages, e.g. "deflate-raw (node:zlib level 1)". */
  readonly name: string;
  readonly deflateSync?: (data: Uint8Array) => Uint8Array;
  /** Inflates; must fail (throw) rather than produce more than `maxLength` bytes. */
  readonly inflateSync?: (data: Uint8Array, maxLength: number) => Uint8Array;
  readonly deflate: (data: Uint8Array) => Promise<Uint8Array>;
  readonly inflate: (data: Uint8Array, maxLength: number) => Promise<Uint8Array>;
}

/** The part of node:zlib used here (reached at run time, so browser bundles do not pull it in). */
interface NodeZlib {
  deflateRawSync(data: Uint8Array, opts: { level: number }): Uint8Array;
  inflateRawSync(data: Uint8Array, opts: { maxOutputLength: number }): Uint8Array;
}

function nodeZlib(): NodeZlib | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  // process.getBuiltinModule: Node ≥ 20.16 / 22.3 — a synchronous way to reach zlib from an ES module.
  const z = p?.getBuiltinModule?.('node:zlib') as NodeZlib | undefined;
  return z && typeof z.deflateRawSync === 'function' ? z : null;
}

/** DEFLATE through node:zlib, synchronous and asynchronous. Null outside Node. */
export function nodeDeflateCodec(level = 1): PageCodec | null {
  const z = nodeZlib();
  if (!z) return null;
  const deflateSync = (data: Uint8Array): Uint8Array => z.deflateRawSync(data, { level });
  const inflateSync = (data: Uint8Array, maxLength: number): Uint8Array => z.inflateRawSync(data, { maxOutputLength: Math.max(1, maxLength) });
  return {
    id: PageCodecId.DeflateRaw,
    name: `deflate-raw (node:zlib level ${level})`,
    deflateSync,
    inflateSync,
    deflate: async (d) => deflateSync(d),
    inflate: async (d, max) => inflateSync(d, max),
  };
}

/** DEFLATE through CompressionStream / DecompressionStream (browsers, Deno, Node ≥ 18). Null without them. */
export function streamDeflateCodec(): PageCodec | null {
  if (typeof CompressionStream !== 'function' || typeof DecompressionStream !== 'function') return null;
  return {
    id: PageCodecId.DeflateRaw,
    name: 'deflate-raw (CompressionStream)',
    deflate: (d) => through(new CompressionStream('deflate-raw'), d, Infinity),
    inflate: (d, max) => through(new DecompressionStream('deflate-raw'), d, max),
  };
}

/**
 * The codec a `compress` option asks for: null for none, this platform's default for true (throws
 * SnapshotSaveError where there is none), else the codec given. With `sync`, the codec must
 * compress synchronously (throws SnapshotSaveError naming `asyncAlternative` otherwise).
 */
export function codecForSave(compress: boolean | PageCodec | undefined, sync?: { asyncAlternative: string }): PageCodec | null {
  if (!compress) return null;
  const codec = compress === true ? defaultPageCodec() : compress;
  if (!codec) throw new SnapshotSaveError('cannot compress: this platform has neither node:zlib nor CompressionStream');
  if (sync && !codec.deflateSync) {
    throw new SnapshotSaveError(`cannot compress synchronously with ${codec.name}: use ${sync.asyncAlternative}`);
  }
  return codec;
}

/** The best DEFLATE codec of this platform: node:zlib (synchronous too), else the web streams. */
export function defaultPageCodec(level?: number): PageCodec | null {
  return nodeDeflateCodec(level) ?? streamDeflateCodec();
}

let cachedDefault: PageCodec | null | undefined;

/** The codec a decoder uses when it was not given one (level does not matter for inflating). */
export function defaultInflateCodec(): PageCodec | null {
  if (cachedDefault === undefined) cachedDefault = defaultPageCodec();
  return cachedDefault;
}

async function through(t: CompressionStream | DecompressionStream, data: Uint8Array, maxLength: number): Promise<Uint8Array> {
  const writer = t.writable.getWriter();
  // Not awaited before reading: the readable side must drain for the writes to complete.
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = t.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxLength) {
      await reader.cancel().catch(() => {});
      throw new RangeError(`inflated data exceeds ${maxLength} bytes`);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
