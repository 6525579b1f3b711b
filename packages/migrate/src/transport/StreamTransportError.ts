export type StreamTransportErrorCode =
  /** A frame announced more bytes than the receiver accepts (a hostile peer, or not ferry86 at all). */
  | 'frame-too-large'
  /** The byte stream ended inside a frame: the peer died mid-message or the stream was cut. */
  | 'truncated'
  /** The peer ended the stream between frames but without the close notice. */
  | 'no-close-notice'
  /** The close notice itself was malformed. */
  | 'bad-close-notice'
  /** The socket (or pipe) failed: reset, broken pipe, TLS error... (cause: the stream's error). */
  | 'stream-error'
  /** More bytes were queued for sending than allowed: the peer stopped reading. */
  | 'send-overflow';

/** Why a byte-stream transport broke (a plain close by the peer is a TransportClosedError). */
export class StreamTransportError extends Error {
  override readonly name = 'StreamTransportError';

  constructor(
    readonly code: StreamTransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
