import { TransportClosedError, type MessageTransport, type TransportHandlers } from './MessageTransport.ts';
import { StreamTransportError } from './StreamTransportError.ts';
export { StreamTransportError, type StreamTransportErrorCode } from './StreamTransportError.ts';
import { closeNotice, DEFAULT_MAX_MESSAGE_BYTES, FRAME_HEADER_BYTES, FrameReader, frameHeader } from './streamFraming.ts';

/**
 * The reading half of a Node byte stream (net.Socket, tls.TLSSocket, a child's stdout...).
 * Structural, so this package needs no node:net and runs where Node's streams do not exist.
 */
export interface ByteSource {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  destroy(error?: Error): unknown;
}

/** The writing half (net.Socket, a child's stdin...). */
export interface ByteSink {
  /** Node semantics: never drops data; returns false once its buffer is over the high-water mark. */
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  cork?(): void;
  uncork?(): void;
  setNoDelay?(noDelay?: boolean): unknown;
}

/** A duplex stream such as a net.Socket or tls.TLSSocket. */
export type ByteStream = ByteSource & ByteSink;

/** Two one-way streams, e.g. `{ input: child.stdout, output: child.stdin }`. */
export interface ByteStreamPair {
  input: ByteSource;
  output: ByteSink;
}

export interface StreamSocketTransportOptions {
  /** Largest message accepted from the peer (default 64 MiB). Larger prefixes close the transport. */
  maxMessageBytes?: number;
  /**
   * Most bytes queued for sending and not yet handed to the OS (default 256 MiB). The migration
   * protocol keeps far less in flight (its window, 16 MiB by default); passing this means the
   * peer stopped reading, and buffering on without bound would only exhaust memory.
   */
  maxBufferedBytes?: number;
  /** After close(), how long to wait for the peer to end its side before destroying (default 10 s). */
  lingerMs?: number;
}

/**
 * MessageTransport over a byte stream: each message is a u32 little-endian length and its bytes,
 * plus an in-band close notice carrying the reason (streamFraming.ts). This is what carries a
 * live migration between processes or hosts: `new StreamSocketTransport(net.connect(...))`.
 *
 * A broken or hostile peer — an oversized length, a stream cut inside a message, a reset — ends
 * the transport with a StreamTransportError through the close handler. Sends are never dropped:
 * Node streams queue what the OS cannot take yet, and the protocol's window bounds that queue.
 */
export class StreamSocketTransport implements MessageTransport {
  private readonly input: ByteSource;
  private readonly output: ByteSink;
  private readonly reader: FrameReader;
  private readonly maxBuffered: number;
  private readonly lingerMs: number;
  private handlers: TransportHandlers | null = null;
  private readonly early: ArrayBuffer[] = [];
  private pendingClose: Error | null | undefined = undefined;
  private isClosed = false;
  private unflushed = 0;
  private sent = 0;
  private linger: ReturnType<typeof setTimeout> | null = null;

  constructor(stream: ByteStream | ByteStreamPair, opts: StreamSocketTransportOptions = {}) {
    const pair = typeof (stream as ByteSink).write !== 'function';
    this.input = pair ? (stream as ByteStreamPair).input : (stream as ByteStream);
    this.output = pair ? (stream as ByteStreamPair).output : (stream as ByteStream);
    this.maxBuffered = opts.maxBufferedBytes ?? 256 << 20;
    this.lingerMs = opts.lingerMs ?? 10_000;
    this.reader = new FrameReader(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, {
      message: (data) => this.receive(data),
      closeNotice: (reason) => this.peerClosed(new TransportClosedError(`the peer closed the channel: ${reason.slice(0, 500)}`)),
    });
    // ACK, READY and COMMIT are tiny messages that the other side waits for: Nagle's algorithm
    // would hold each back until the previous segment is acknowledged (tens of ms with delayed
    // ACKs), which lands directly in the downtime.
    this.output.setNoDelay?.(true);
    this.input.on('data', (chunk) => this.onData(chunk));
    this.input.on('end', () => this.onEnd());
    this.input.on('close', () => this.fail(new StreamTransportError('stream-error', 'the connection closed unexpectedly'), false));
    const onError = (e: Error): void =>
      this.fail(new StreamTransportError('stream-error', `the connection failed: ${e.message}`, { cause: e }), false);
    this.input.on('error', onError);
    if (this.output !== (this.input as unknown)) this.output.on('error', onError);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Payload bytes of messages received so far. */
  get bytesReceived(): number {
    return this.reader.bytesIn;
  }

  /** Payload bytes of messages sent so far. */
  get bytesSent(): number {
    return this.sent;
  }

  /** Bytes given to the stream that it has not handed to the OS yet. */
  get bufferedBytes(): number {
    return this.unflushed;
  }

  send(data: ArrayBuffer): void {
    if (this.isClosed) throw new TransportClosedError('the stream transport is closed');
    const frame = FRAME_HEADER_BYTES + data.byteLength;
    if (this.unflushed + frame > this.maxBuffered) {
      const err = new StreamTransportError(
        'send-overflow',
        `${this.unflushed} bytes are waiting to be sent and the peer is not reading (limit ${this.maxBuffered})`,
      );
      this.fail(err, false);
      throw err;
    }
    this.unflushed += frame;
    this.sent += data.byteLength;
    // Prefix and payload as two writes, corked into one writev: the payload is not copied.
    this.output.cork?.();
    this.output.write(frameHeader(data.byteLength));
    this.output.write(new Uint8Array(data), () => (this.unflushed -= frame));
    this.output.uncork?.();
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers;
    for (const m of this.early.splice(0)) handlers.message(m);
    if (this.pendingClose !== undefined && this.handlers === handlers) this.deliverClose(this.pendingClose);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reader.stop();
    this.farewell(reason);
  }

  private onData(chunk: Uint8Array): void {
    if (this.isClosed) return;
    try {
      this.reader.push(chunk);
    } catch (e) {
      const err = e instanceof StreamTransportError ? e : new StreamTransportError('stream-error', String(e), { cause: e });
      this.fail(err, true);
    }
  }

  private onEnd(): void {
    if (this.isClosed) {
      // The peer answered our close (or its notice) by ending its side: the connection is done
      // once what we queued is out (a socket closes by itself then; a pipe pair may not).
      if (this.unflushed === 0) this.destroy();
      return;
    }
    const err = this.reader.atBoundary
      ? new StreamTransportError('no-close-notice', 'the peer ended the stream without a close notice (did its process exit?)')
      : new StreamTransportError('truncated', `the stream ended ${this.reader.describePartial()}`);
    this.fail(err, false);
  }

  private receive(data: ArrayBuffer): void {
    if (this.handlers) this.handlers.message(data);
    else this.early.push(data);
  }

  /** The peer's close notice: it will send nothing more; end our side too. */
  private peerClosed(error: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.endOutput();
    this.settle(error);
  }

  /** Ends the transport because of `error`; `tell`: send the peer a close notice saying why. */
  private fail(error: StreamTransportError, tell: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reader.stop();
    if (tell) this.farewell(error.message);
    else this.destroy();
    this.settle(error);
  }

  /** Close notice, then end: the peer reads the reason, ends its side, and both sockets close. */
  private farewell(reason: string): void {
    try {
      this.output.write(closeNotice(reason));
    } catch {
      // the stream is already unusable
    }
    this.endOutput();
    // A peer that never ends its side must not keep the connection (and the process) alive.
    this.linger = setTimeout(() => this.destroy(), this.lingerMs);
    (this.linger as { unref?: () => void }).unref?.();
  }

  private endOutput(): void {
    try {
      this.output.end();
    } catch {
      // already ended or destroyed
    }
  }

  private destroy(): void {
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    this.input.destroy();
    if (this.output !== (this.input as unknown)) this.output.destroy();
  }

  private settle(error: Error): void {
    if (this.handlers) this.deliverClose(error);
    else this.pendingClose = error;
  }

  private deliverClose(error: Error | null): void {
    const h = this.handlers!;
    this.handlers = null;
    this.pendingClose = undefined;
    h.close(error);
  }
}
