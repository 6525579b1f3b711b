/**
 * Where snapshot bytes come from, read chunk by chunk: a byte array, a Blob (or File), a WHATWG
 * ReadableStream, anything async-iterable (a Node Readable, a socket), an iterable of chunks,
 * or — in Node — a file path. Nothing here ever joins the chunks into one buffer.
 */

/** A snapshot's bytes in any of the forms the readers take. */
export type SnapshotSource =
  | Uint8Array
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>;

/** Default read size for Blobs and files: the encoder's chunk size, so frames mostly arrive whole. */
export const READ_CHUNK_BYTES = 1 << 20;

function isReadableStream(s: unknown): s is ReadableStream<Uint8Array> {
  return typeof (s as ReadableStream | null)?.getReader === 'function';
}

function isBlob(s: unknown): s is Blob {
  return typeof Blob !== 'undefined' && s instanceof Blob;
}

/**
 * The source's bytes as chunks, pulled one at a time (a consumer that awaits between chunks
 * holds the producer back: that is the backpressure). Blobs are sliced `chunkBytes` at a time;
 * a Node Readable delivers what its highWaterMark gives.
 */
export async function* sourceChunks(source: SnapshotSource, chunkBytes = READ_CHUNK_BYTES): AsyncGenerator<Uint8Array, void, void> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (isBlob(source)) {
    for (let o = 0; o < source.size; o += chunkBytes) {
      yield new Uint8Array(await source.slice(o, Math.min(source.size, o + chunkBytes)).arrayBuffer());
    }
    return;
  }
  if (isReadableStream(source)) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  if (Symbol.asyncIterator in (source as object)) {
    for await (const c of source as AsyncIterable<Uint8Array>) yield toBytes(c);
    return;
  }
  for (const c of source as Iterable<Uint8Array>) yield c;
}

/** Node streams may yield strings when an encoding was set: refuse those, keep Buffers as they are. */
function toBytes(c: unknown): Uint8Array {
  if (c instanceof Uint8Array) return c;
  throw new TypeError('a snapshot stream must deliver bytes (Uint8Array / Buffer), not text: do not set an encoding');
}

/** The part of node:fs the file helpers use (imported at run time: browser bundles leave it out). */
interface NodeFs {
  createReadStream(path: string, opts: { highWaterMark: number }): AsyncIterable<Uint8Array>;
  createWriteStream(path: string): NodeWritableLike & { close?(): void };
}

export async function nodeFs(): Promise<NodeFs> {
  return (await import('node:fs')) as unknown as NodeFs;
}

/** A file's bytes, read `chunkBytes` at a time (Node). */
export async function* fileChunks(path: string, chunkBytes = READ_CHUNK_BYTES): AsyncGenerator<Uint8Array, void, void> {
  const fs = await nodeFs();
  yield* sourceChunks(fs.createReadStream(path, { highWaterMark: chunkBytes }));
}

/**
 * The part of a Node Writable (stream.Writable, fs.WriteStream, net.Socket, process.stdout) the
 * writers use: write() returning false means "wait for 'drain'".
 */
export interface NodeWritableLike {
  write(chunk: Uint8Array): boolean;
  end(cb?: () => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly writableLength?: number;
  readonly writableHighWaterMark?: number;
}
