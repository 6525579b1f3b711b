import { TransportClosedError, type MessageTransport, type TransportHandlers } from './MessageTransport.ts';

/**
 * The part of a MessagePort this transport uses. Both Node's worker_threads MessagePort (which
 * has on/off) and the browser's MessagePort (addEventListener, start) fit.
 */
export interface MessagePortLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  close(): void;
  start?(): void;
  on?(event: string, listener: (value: unknown) => void): unknown;
  addEventListener?(type: 'message', listener: (ev: MessageEvent) => void): void;
}

/** In-band close notice: browsers do not tell a port that its peer closed. */
interface CloseNotice {
  ferry86Transport: 'close';
  reason: string;
}

function isCloseNotice(v: unknown): v is CloseNotice {
  return typeof v === 'object' && v !== null && (v as CloseNotice).ferry86Transport === 'close';
}

/**
 * MessageTransport over a MessagePort. Buffers are transferred, never copied; so a migration
 * between two workers moves RAM pages from one thread to the other without the main thread.
 */
export class MessagePortTransport implements MessageTransport {
  private handlers: TransportHandlers | null = null;
  private readonly early: ArrayBuffer[] = [];
  private pendingClose: Error | null | undefined = undefined;
  private isClosed = false;

  constructor(private readonly port: MessagePortLike) {
    const onData = (data: unknown): void => this.receive(data);
    if (typeof port.on === 'function') {
      // Node: 'message' passes the value itself; 'close' fires when either end closes.
      port.on('message', onData);
      port.on('close', () => this.peerClosed(null));
      port.on('messageerror', (e) => this.peerClosed(e instanceof Error ? e : new Error('message could not be deserialised')));
    } else if (typeof port.addEventListener === 'function') {
      port.addEventListener('message', (ev: MessageEvent) => onData(ev.data));
      port.start?.();
    } else {
      throw new TypeError('MessagePortTransport needs a MessagePort');
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(data: ArrayBuffer): void {
    if (this.isClosed) throw new TransportClosedError('the message port is closed');
    this.port.postMessage(data, [data]);
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers;
    for (const m of this.early.splice(0)) handlers.message(m);
    if (this.pendingClose !== undefined) this.deliverClose(this.pendingClose);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    try {
      this.port.postMessage({ ferry86Transport: 'close', reason } satisfies CloseNotice, []);
    } catch {
      // The port may already be unusable; closing it is all that is left to do.
    }
    this.isClosed = true;
    this.port.close();
  }

  private receive(data: unknown): void {
    if (this.isClosed) return;
    if (data instanceof ArrayBuffer) {
      if (this.handlers) this.handlers.message(data);
      else this.early.push(data);
    } else if (isCloseNotice(data)) {
      this.peerClosed(new TransportClosedError(`the peer closed the channel: ${String(data.reason).slice(0, 200)}`));
    }
    // Anything else is not ours: ignore it.
  }

  private peerClosed(error: Error | null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.port.close();
    } catch {
      // already closed
    }
    if (this.handlers) this.deliverClose(error);
    else this.pendingClose = error;
  }

  private deliverClose(error: Error | null): void {
    const h = this.handlers!;
    this.handlers = null;
    h.close(error);
  }
}
