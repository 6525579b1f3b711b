import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomFillSync } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MigrationSource,
  MigrationTarget,
  StreamSocketTransport,
  StreamTransportError,
  TransportClosedError,
  stateDigest,
  type MessageTransport,
  type StreamSocketTransportOptions,
} from '../src/index.ts';
import { FakeMachine, scribble, type FakeConfig } from './fake-machine.ts';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** A connected pair of TCP sockets on the loopback interface. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
  const peer = await accepted;
  sockets.push(client, peer);
  return [client, peer];
}

async function tcpTransports(opts: StreamSocketTransportOptions = {}): Promise<[StreamSocketTransport, StreamSocketTransport]> {
  const [a, b] = await socketPair();
  return [new StreamSocketTransport(a, opts), new StreamSocketTransport(b, opts)];
}

/** Collects what a transport receives; `closed` resolves with the close handler's error. */
function collect(t: MessageTransport): { messages: Uint8Array[]; closed: Promise<Error | null> } {
  const messages: Uint8Array[] = [];
  const closed = new Promise<Error | null>((resolve) => t.listen({ message: (d) => messages.push(new Uint8Array(d)), close: resolve }));
  return { messages, closed };
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return randomFillSync(new Uint8Array(n));
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(cond()).toBe(true);
}

const SIZES = [0, 1, 2, 3, 4, 5, 7, 100, 4095, 4096, 4097, 65_535, 65_536, 65_537, 1 << 20, (1 << 20) + 13, 3 << 20, (7 << 20) + 1];

/** Deterministic pseudo-random numbers (xorshift32), so a failing piece pattern can be replayed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/**
 * One end of an in-memory byte stream that re-cuts everything written to it into pieces of
 * random sizes (1 byte to 20 KiB, sometimes merging several writes), delivered asynchronously.
 */
class ChoppyEnd extends EventEmitter {
  peer!: ChoppyEnd;
  destroyed = false;
  private pending: Uint8Array[] = [];
  private ended = false;
  private scheduled = false;

  constructor(private readonly random: (n: number) => number) {
    super();
  }

  write(chunk: Uint8Array, cb?: (e?: Error | null) => void): boolean {
    this.pending.push(new Uint8Array(chunk));
    this.schedule();
    if (cb) setImmediate(() => cb(null));
    return true;
  }

  end(): void {
    this.ended = true;
    this.schedule();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.scheduled = false;
    if (this.random(4) === 0 && this.pending.length > 0 && !this.ended) {
      // Wait for more writes, so pieces also span messages.
      this.schedule();
      return;
    }
    const all = Buffer.concat(this.pending);
    this.pending = [];
    let at = 0;
    while (at < all.length) {
      const n = 1 + (this.random(3) === 0 ? this.random(8) : this.random(20_000));
      this.peer.emit('data', all.subarray(at, at + n));
      at += n;
    }
    if (this.ended) this.peer.emit('end');
  }
}

function choppyPair(seed: number): [StreamSocketTransport, StreamSocketTransport] {
  const random = rng(seed);
  const a = new ChoppyEnd(random);
  const b = new ChoppyEnd(random);
  a.peer = b;
  b.peer = a;
  return [new StreamSocketTransport(a), new StreamSocketTransport(b)];
}

describe('StreamSocketTransport over loopback TCP', () => {
  it('delivers messages of every size (0 bytes to 7 MiB) intact and in order, both ways', async () => {
    const [a, b] = await tcpTransports();
    const atB = collect(b);
    const atA = collect(a);
    const sent = SIZES.map(randomBytes);
    for (const m of sent) a.send(m.slice().buffer);
    for (const m of sent.slice(0, 6)) b.send(m.slice().buffer);
    await until(() => atB.messages.length === sent.length && atA.messages.length === 6);
    expect(atB.messages.map((m) => m.length)).toEqual(SIZES);
    for (let i = 0; i < sent.length; i++) expect(Buffer.from(atB.messages[i]!).equals(sent[i]!)).toBe(true);
    for (let i = 0; i < 6; i++) expect(Buffer.from(atA.messages[i]!).equals(sent[i]!)).toBe(true);
    expect(b.bytesReceived).toBe(a.bytesSent);
  });

  it('a close notice tells the peer the reason; the closing side hears nothing back', async () => {
    const [a, b] = await tcpTransports();
    const atA = collect(a);
    const atB = collect(b);
    a.send(new Uint8Array([1, 2, 3]).buffer);
    a.close('migration aborted: disk image missing');
    expect(a.closed).toBe(true);
    expect(() => a.send(new ArrayBuffer(1))).toThrow(TransportClosedError);
    const err = await atB.closed;
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err!.message).toBe('the peer closed the channel: migration aborted: disk image missing');
    expect(atB.messages).toEqual([new Uint8Array([1, 2, 3])]);
    expect(b.closed).toBe(true);
    let aClosed = false;
    void atA.closed.then(() => (aClosed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(aClosed).toBe(false);
  });

  it('queues messages (and the close) that arrive before listen()', async () => {
    const [a, b] = await tcpTransports();
    a.send(new Uint8Array([7]).buffer);
    a.send(randomBytes(300_000).buffer);
    a.send(new Uint8Array([9, 9]).buffer);
    a.close('done');
    await until(() => b.closed);
    const atB = collect(b);
    expect(atB.messages.map((m) => m.length)).toEqual([1, 300_000, 2]);
    expect((await atB.closed)?.message).toMatch(/done/);
  });

  it('rejects a length prefix over the maximum with a typed error, and tells the peer why', async () => {
    const [raw, other] = await socketPair();
    const t = new StreamSocketTransport(other, { maxMessageBytes: 1 << 20 });
    const atT = collect(t);
    const back: Buffer[] = [];
    raw.on('data', (d: Buffer) => back.push(d));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(100 << 20);
    raw.write(prefix);
    const err = await atT.closed;
    expect(err).toBeInstanceOf(StreamTransportError);
    expect((err as StreamTransportError).code).toBe('frame-too-large');
    expect(err!.message).toMatch(/104857600-byte message; at most 1048576/);
    await new Promise<void>((r) => raw.once('end', r));
    const notice = Buffer.concat(back);
    expect(notice.readUInt32LE(0)).toBe(0xffffffff);
    expect(notice.subarray(8).toString()).toMatch(/104857600-byte message/);
  });

  it('a message exactly at the maximum passes; one byte more closes both ends', async () => {
    const [a, b] = await tcpTransports({ maxMessageBytes: 5000 });
    const atA = collect(a);
    const atB = collect(b);
    a.send(new ArrayBuffer(5000));
    a.send(new ArrayBuffer(5001));
    const err = (await atB.closed) as StreamTransportError;
    expect(err.code).toBe('frame-too-large');
    expect(atB.messages.map((m) => m.length)).toEqual([5000]);
    // The sender learns it from the receiver's close notice.
    expect((await atA.closed)?.message).toMatch(/the peer closed the channel: the peer sent a 5001-byte message/);
  });

  for (const [what, bytes, expected] of [
    ['inside a message', [0xe8, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], /10 of 1000 bytes into a message/],
    ['inside a length prefix', [0xe8, 0x03], /2 of 4 bytes into a length prefix/],
  ] as const) {
    it(`a stream that ends ${what} is a typed 'truncated' error`, async () => {
      const [raw, other] = await socketPair();
      const t = new StreamSocketTransport(other);
      const atT = collect(t);
      raw.end(Buffer.from(bytes));
      const err = (await atT.closed) as StreamTransportError;
      expect(err).toBeInstanceOf(StreamTransportError);
      expect(err.code).toBe('truncated');
      expect(err.message).toMatch(expected);
    });
  }

  it('a peer that ends between messages without a notice, or resets the connection, is reported', async () => {
    const [raw1, other1] = await socketPair();
    const t1 = collect(new StreamSocketTransport(other1));
    raw1.end();
    expect(((await t1.closed) as StreamTransportError).code).toBe('no-close-notice');

    const [raw2, other2] = await socketPair();
    const t2 = collect(new StreamSocketTransport(other2));
    raw2.resetAndDestroy();
    const err = (await t2.closed) as StreamTransportError;
    expect(err.code).toBe('stream-error');
    expect(err.message).toMatch(/ECONNRESET|closed unexpectedly/);
  });

  it('a peer that stops reading makes send fail once the queue limit is reached (nothing is dropped before)', () => {
    const sink = Object.assign(new EventEmitter(), {
      written: 0,
      write(chunk: Uint8Array): boolean {
        sink.written += chunk.length;
        return false; // never flushed: no callback
      },
      end() {},
      destroy() {},
    });
    const t = new StreamSocketTransport(sink, { maxBufferedBytes: 10_000 });
    let closeErr: Error | null = null;
    t.listen({ message: () => {}, close: (e) => (closeErr = e) });
    t.send(new ArrayBuffer(4000));
    t.send(new ArrayBuffer(4000));
    expect(t.bufferedBytes).toBe(8008);
    expect(() => t.send(new ArrayBuffer(4000))).toThrow(/peer is not reading/);
    expect((closeErr as StreamTransportError | null)?.code).toBe('send-overflow');
    expect(sink.written).toBe(8008);
  });

  it('carries a live migration (fake machine) between two sockets', async () => {
    const config: FakeConfig = { ramKiB: 4096, hotPages: 24 };
    const src = new FakeMachine(config);
    scribble(src, 3);
    const [a, b] = await tcpTransports();
    const target = new MigrationTarget<FakeMachine>({ createMachine: (c) => new FakeMachine(c as FakeConfig) });
    const received = target.receive(b);
    const stats = await new MigrationSource(src, { sliceInstructions: 2000, chunkSize: 256 * 1024 }).migrate(a);
    const { machine, digest } = await received;
    expect(stats.status).toBe('completed');
    expect(digest).toBe(stateDigest(src));
    expect(stateDigest(machine)).toBe(stateDigest(src));
  });
});

describe('StreamSocketTransport framing over arbitrarily cut streams', () => {
  for (const seed of [1, 2, 3, 0xdecaf]) {
    it(`reassembles every message from random-sized pieces (seed ${seed})`, async () => {
      const [a, b] = choppyPair(seed);
      const atB = collect(b);
      const sizes = [...SIZES.slice(0, 14), 1, 0, 3, 9000, 200_000, 2, 1];
      const sent = sizes.map(randomBytes);
      for (const m of sent) a.send(m.slice().buffer);
      a.close('all sent, ünïcode reason');
      const err = await atB.closed;
      expect(err?.message).toBe('the peer closed the channel: all sent, ünïcode reason');
      expect(atB.messages.map((m) => m.length)).toEqual(sizes);
      for (let i = 0; i < sent.length; i++) expect(Buffer.from(atB.messages[i]!).equals(sent[i]!)).toBe(true);
    });
  }

  it('works over a pair of one-way streams (a child process: stdout in, stdin out)', async () => {
    const ab = new PassThrough();
    const ba = new PassThrough();
    const a = new StreamSocketTransport({ input: ba, output: ab });
    const b = new StreamSocketTransport({ input: ab, output: ba });
    const atA = collect(a);
    const atB = collect(b);
    a.send(randomBytes(70_000).buffer);
    b.send(new Uint8Array([42]).buffer);
    await until(() => atA.messages.length === 1 && atB.messages.length === 1);
    expect(atA.messages[0]).toEqual(new Uint8Array([42]));
    expect(atB.messages[0]!.length).toBe(70_000);
    b.close('bye');
    expect((await atA.closed)?.message).toMatch(/bye/);
  });

  it("works over a child process's stdio (cat echoes every frame back)", async () => {
    const cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const t = new StreamSocketTransport({ input: cat.stdout, output: cat.stdin });
    const back = collect(t);
    const sent = [0, 1, 5, 65_537, 2 << 20].map(randomBytes);
    for (const m of sent) t.send(m.slice().buffer);
    await until(() => back.messages.length === sent.length);
    for (let i = 0; i < sent.length; i++) expect(Buffer.from(back.messages[i]!).equals(sent[i]!)).toBe(true);
    t.close('done');
    expect(await new Promise((r) => cat.once('exit', r))).toBe(0);
  });
});
