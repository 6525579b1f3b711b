import { TransportClosedError, type MessageTransport, type TransportHandlers } from './MessageTransport.ts';

/**
 * The part of a WebSocket this transport uses: the browser's WebSocket (and Node 22's), and the
 * `ws` package's client and server sockets, all fit. A WebSocket already frames messages
 * (RFC 6455 §5), so one migration message is one binary WebSocket message.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: never) => void): void;
}

/** WebSocket readyState values (WHATWG HTML §10.3). */
const CONNECTING = 0;
const OPEN = 1;

/** Close codes (RFC 6455 §7.4.1): normal closure, and "policy violation" for a text message. */
const NORMAL = 1000;
const POLICY = 1008;

/**
 * MessageTransport over a WebSocket: a browser VM migrating to or from a host, or two hosts. Sends
 * made while the socket is still connecting are queued until it opens. The close reason travels
 * in the close frame (at most 123 bytes of UTF-8, RFC 6455 §5.5); the peer's close handler gets it
 * as a TransportClosedError, an abnormal close (no close frame, code 1006) as one that says so.
 * A text message is not part of the protocol: the socket is closed with 1008.
 */
export class WebSocketTransport implements MessageTransport {
  private handlers: TransportHandlers | null = null;
  private readonly early: ArrayBuffer[] = [];
  private readonly unsent: ArrayBuffer[] = [];
  private pendingClose: Error | null | undefined = undefined;
  private isClosed = false;
  /** close() was called while connecting: close once the queued messages are out. */
  private closeOnOpen: string | null = null;

  constructor(private readonly socket: WebSocketLike) {
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => this.flushUnsent());
    socket.addEventListener('message', (ev: { data: unknown }) => this.receive(ev.data));
    socket.addEventListener('close', (ev: { code: number; reason: string }) => {
      const reason = String(ev.reason ?? '').slice(0, 200);
      this.peerClosed(
        ev.code === NORMAL
          ? new TransportClosedError(`the peer closed the channel: ${reason || 'no reason given'}`)
          : new TransportClosedError(`the WebSocket closed with code ${ev.code}${reason ? `: ${reason}` : ' (abnormally, no close frame)'}`),
      );
    });
    // An 'error' event is always followed by 'close' (WHATWG HTML §10.3), which reports it.
    socket.addEventListener('error', () => {});
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(data: ArrayBuffer): void {
    if (this.isClosed) throw new TransportClosedError('the WebSocket is closed');
    if (this.socket.readyState === CONNECTING) this.unsent.push(data);
    else if (this.socket.readyState === OPEN) this.socket.send(data);
    else throw new TransportClosedError('the WebSocket is closing');
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers;
    for (const m of this.early.splice(0)) handlers.message(m);
    if (this.pendingClose !== undefined) this.deliverClose(this.pendingClose);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.socket.readyState === CONNECTING) {
      // Closing a connecting WebSocket fails the connection: send what was queued first.
      this.closeOnOpen = reason;
      return;
    }
    try {
      this.socket.close(NORMAL, truncateUtf8(reason, 123));
    } catch {
      // already closing
    }
  }

  private flushUnsent(): void {
    for (const m of this.unsent.splice(0)) this.socket.send(m);
    if (this.closeOnOpen !== null) this.socket.close(NORMAL, truncateUtf8(this.closeOnOpen, 123));
  }

  private receive(data: unknown): void {
    if (this.isClosed) return;
    if (!(data instanceof ArrayBuffer)) {
      this.isClosed = true;
      try {
        this.socket.close(POLICY, 'binary messages only');
      } catch {
        // already closing
      }
      this.report(new TransportClosedError('the peer sent a text message; migration messages are binary'));
      return;
    }
    if (this.handlers) this.handlers.message(data);
    else this.early.push(data);
  }

  /** The socket closed and we did not close it: tell our side (once). */
  private peerClosed(error: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.report(error);
  }

  private report(error: Error | null): void {
    if (this.handlers) this.deliverClose(error);
    else this.pendingClose = error;
  }

  private deliverClose(error: Error | null): void {
    const h = this.handlers!;
    this.handlers = null;
    h.close(error);
  }
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `max` bytes. */
function truncateUtf8(s: string, max: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  let out = '';
  for (const ch of s) {
    if (enc.encode(out + ch).length > max) break;
    out += ch;
  }
  return out;
}
