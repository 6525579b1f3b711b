/**
 * Snapshot writers for every kind of destination, all streaming: the encoder produces one chunk
 * (≤ chunkSize, default 1 MiB) at a time, it goes out, and the next is made only when the
 * destination has room (Node 'drain', WritableStream.ready, ReadableStream pull). Peak extra
 * memory is therefore about one chunk plus what the destination itself buffers (its
 * highWaterMark) — never a copy of RAM. The machine must stay stopped until the promise
 * settles (RAM is read as the chunks are made).
 */
import { snapshotChunksAsync, type SaveSnapshotOptions, type SnapshotStats } from '../snapshot/saveSnapshot.ts';
import type { MigratableMachine } from '../machine.ts';
import { nodeFs, type NodeWritableLike } from './sources.ts';

export type WriteSnapshotOptions = SaveSnapshotOptions;

/** Runs the writer with stats captured (the caller's onStats still called). */
async function pump(machine: MigratableMachine, opts: WriteSnapshotOptions, put: (chunk: Uint8Array) => Promise<void> | void): Promise<SnapshotStats> {
  let stats: SnapshotStats | null = null;
  const o: SaveSnapshotOptions = {
    ...opts,
    onStats: (s) => {
      stats = s;
      opts.onStats?.(s);
    },
  };
  for await (const chunk of snapshotChunksAsync(machine, o)) await put(chunk);
  return stats!;
}

/** Writes a snapshot to a Node Writable (fs.WriteStream, socket, stdout), honouring 'drain'. Does not end it. */
export async function writeSnapshotToNode(machine: MigratableMachine, w: NodeWritableLike, opts: WriteSnapshotOptions = {}): Promise<SnapshotStats> {
  let failure: unknown = null;
  const onError = (e: unknown): void => {
    failure ??= e ?? new Error('write failed');
  };
  w.once('error', onError);
  try {
    return await pump(machine, opts, async (chunk) => {
      if (failure) throw failure;
      if (!w.write(chunk)) await waitFor(w, 'drain');
      if (failure) throw failure;
    });
  } finally {
    w.removeListener('error', onError);
  }
}

/** Resolves on `event`, rejects on 'error' or 'close' before it. */
function waitFor(w: NodeWritableLike, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      w.removeListener(event, ok);
      w.removeListener('error', fail);
      w.removeListener('close', closed);
    };
    const ok = (): void => {
      done();
      resolve();
    };
    const fail = (e: unknown): void => {
      done();
      reject(e);
    };
    const closed = (): void => {
      done();
      if (event === 'close') resolve();
      else reject(new Error(`the stream closed while waiting for '${event}'`));
    };
    w.once(event, ok);
    w.once('error', fail);
    if (event !== 'close') w.once('close', closed);
  });
}

/** Writes a snapshot to a file (Node), streaming; resolves once the file is closed. */
export async function writeSnapshotToFile(machine: MigratableMachine, path: string, opts: WriteSnapshotOptions = {}): Promise<SnapshotStats> {
  const fs = await nodeFs();
  const w = fs.createWriteStream(path);
  const closed = waitFor(w, 'close');
  closed.catch(() => {});
  let stats: SnapshotStats;
  try {
    stats = await writeSnapshotToNode(machine, w, opts);
  } catch (e) {
    (w as { destroy?: () => void }).destroy?.();
    throw e;
  }
  w.end();
  await closed;
  return stats;
}

/** Writes a snapshot to a WHATWG WritableStream, waiting for `ready` before each chunk; closes it at the end. */
export async function writeSnapshotToWeb(machine: MigratableMachine, ws: WritableStream<Uint8Array>, opts: WriteSnapshotOptions = {}): Promise<SnapshotStats> {
  const writer = ws.getWriter();
  try {
    const stats = await pump(machine, opts, async (chunk) => {
      await writer.ready;
      writer.write(chunk).catch(() => {}); // a failed write also rejects `ready` / close()
    });
    await writer.close();
    return stats;
  } catch (e) {
    await writer.abort(e).catch(() => {});
    throw e;
  } finally {
    writer.releaseLock();
  }
}

/**
 * The snapshot as a ReadableStream (for fetch bodies, Response, pipeTo): chunks are made only
 * when the consumer pulls (highWaterMark: one chunk).
 */
export function snapshotReadableStream(machine: MigratableMachine, opts: WriteSnapshotOptions = {}): ReadableStream<Uint8Array> {
  let it: AsyncGenerator<Uint8Array, void, void> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        it ??= snapshotChunksAsync(machine, opts);
        const { done, value } = await it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await it?.return();
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * The snapshot as a Blob. A Blob holds its bytes, so it is as big as the snapshot; but it is
 * assembled from one small Blob per chunk (which engines keep by reference), so there is no
 * second, concatenated copy.
 */
export async function snapshotBlob(machine: MigratableMachine, opts: WriteSnapshotOptions = {}): Promise<Blob> {
  const parts: Blob[] = [];
  await pump(machine, opts, (chunk) => {
    parts.push(new Blob([chunk as Uint8Array<ArrayBuffer>]));
  });
  return new Blob(parts, { type: 'application/x-ferry86-snapshot' });
}
