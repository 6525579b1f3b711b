/**
 * A bidirectional, ordered, reliable message channel carrying ArrayBuffers (DESIGN §2.7 data
 * plane): a MessagePort between workers, a WebSocket, a TCP socket with length framing...
 * Flow control is not the transport's job: the migration protocol acknowledges windows of stream
 * bytes, so a fast sender can never queue unbounded data inside a transport.
 */
export interface TransportHandlers {
  message(data: ArrayBuffer): void;
  /** The channel is gone (peer closed it, or it broke). Called at most once. */
  close(error: Error | null): void;
}

export interface MessageTransport {
  /** Sends one message. Ownership of `data` passes to the transport, which may transfer it. */
  send(data: ArrayBuffer): void;
  /** Installs the receiver. Messages that arrive earlier are queued until then. */
  listen(handlers: TransportHandlers): void;
  /** Closes both directions; the peer's close handler runs. Idempotent. */
  close(reason?: string): void;
  readonly closed: boolean;
}

export class TransportClosedError extends Error {
  override readonly name = 'TransportClosedError';
}
