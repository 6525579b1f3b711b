import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  createPcMachine,
  MigrationSource,
  MigrationTarget,
  stateDigest,
  TransportClosedError,
  WebSocketTransport,
  yieldToEventLoop,
  type MigratablePc,
  type TransportHandlers,
  type WebSocketLike,
} from '../src/index.ts';
import { bootToyos } from './toyos-machine.ts';

/** A ws server on a free loopback port, and a client connected to it (the client may still be connecting). */
async function pair(): Promise<{ client: WebSocket; server: WebSocket; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  servers.push(wss);
  return { client, server: await accepted, wss };
}

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => s.close(r));
  }
});

const transport = (ws: WebSocket) => new WebSocketTransport(ws as unknown as WebSocketLike);

function collector(): TransportHandlers & { got: ArrayBuffer[]; closed: Promise<Error | null> } {
  let done!: (e: Error | null) => void;
  const closed = new Promise<Error | null>((r) => (done = r));
  const got: ArrayBuffer[] = [];
  return { got, closed, message: (m) => got.push(m), close: (e) => done(e) };
}

function pattern(n: number, seed: number): ArrayBuffer {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b.buffer;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(cond()).toBe(true);
}

describe('WebSocketTransport (ws on loopback)', () => {
  it('carries binary messages of any size in order, both ways; sends made while connecting wait for the open', async () => {
    const { client, server } = await pair();
    const a = transport(client); // possibly still connecting: sends are queued
    const b = transport(server);
    const sizes = [0, 1, 7, 4096, 65_537, 1 << 20, 8 << 20];
    for (const [i, n] of sizes.entries()) a.send(pattern(n, i));
    const atB = collector();
    b.listen(atB);
    await until(() => atB.got.length === sizes.length);
    expect(atB.got.map((m) => m.byteLength)).toEqual(sizes);
    for (const [i, m] of atB.got.entries()) expect(Buffer.from(m).equals(Buffer.from(pattern(sizes[i]!, i)))).toBe(true);
    const atA = collector();
    a.listen(atA);
    b.send(pattern(300_000, 9));
    await until(() => atA.got.length === 1);
    expect(Buffer.from(atA.got[0]!).equals(Buffer.from(pattern(300_000, 9)))).toBe(true);
  });

  it('a close carries its reason to the peer; the closing side hears nothing back', async () => {
    const { client, server } = await pair();
    const a = transport(client);
    const b = transport(server);
    const atA = collector();
    const atB = collector();
    a.listen(atA);
    b.listen(atB);
    await until(() => client.readyState === WebSocket.OPEN);
    a.close('migration complete');
    const err = await atB.closed;
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err!.message).toContain('migration complete');
    expect(b.closed).toBe(true);
    expect(() => a.send(new ArrayBuffer(1))).toThrow(TransportClosedError);
    let heard = false;
    void atA.closed.then(() => (heard = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toBe(false);
  });

  it('an abnormal close (no close frame) and a text message are typed errors', async () => {
    const one = await pair();
    const a = transport(one.client);
    const atA = collector();
    a.listen(atA);
    await until(() => one.client.readyState === WebSocket.OPEN);
    one.server.terminate();
    expect((await atA.closed)!.message).toMatch(/code 1006/);

    const two = await pair();
    const b = transport(two.server);
    const atB = collector();
    b.listen(atB);
    await until(() => two.client.readyState === WebSocket.OPEN);
    two.client.send('hello');
    expect((await atB.closed)!.message).toMatch(/text message/);
    await until(() => two.client.readyState === WebSocket.CLOSED);
  });

  it('messages and a close that arrive before listen() are delivered to it', async () => {
    const { client, server } = await pair();
    const a = transport(client);
    const b = transport(server);
    a.send(pattern(10, 1));
    a.send(pattern(20, 2));
    a.close('done early');
    await new Promise((r) => setTimeout(r, 100));
    const atB = collector();
    b.listen(atB);
    expect(atB.got.map((m) => m.byteLength)).toEqual([10, 20]);
    expect((await atB.closed)!.message).toContain('done early');
  });

  it('migrates a running toyos post-copy over a WebSocket; the destination is the same guest', async () => {
    const { client, server } = await pair();
    const { m: src } = bootToyos(3_000_000);
    const target = new MigrationTarget<MigratablePc>({ createMachine: (c) => createPcMachine(c as { memoryMiB: number }) });
    const received = target.receive(transport(server));
    const migrated = new MigrationSource(src, { mode: 'post-copy' }).migrate(transport(client));
    const { machine: dst, postCopy } = await received;
    const handover = stateDigest(src);
    const end = dst.instructionCount + 1_000_000;
    while (dst.instructionCount < end) {
      await postCopy!.run(end - dst.instructionCount);
      await yieldToEventLoop();
    }
    const stats = await migrated;
    expect(stats.status).toBe('completed');
    expect(await postCopy!.complete).toBe(handover);
    const ref = bootToyos(3_000_000).m;
    while (ref.instructionCount < end) ref.run(end - ref.instructionCount);
    expect(stateDigest(dst)).toBe(stateDigest(ref));
  });
});
