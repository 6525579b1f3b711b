import type { MessagePortLike } from '../transport/MessagePortTransport.ts';

/** A batch of guest serial output: bytes [seq, seq + data.length) of the guest's output stream. */
export interface SerialChunk {
  readonly seq: number;
  readonly data: Uint8Array;
}

/**
 * Puts a guest's serial output back together for the embedder, across migrations. Output is
 * numbered by its byte position since the guest booted, and that position migrates with the
 * guest. The source stops emitting at the instant it stops; the destination continues at the same
 * position after the handover. Chunks from several workers (before and after a migration) may
 * arrive in any order: the assembler delivers each byte exactly once, in order, without gaps.
 */
export class SerialAssembler {
  /** Position of the next byte to deliver. */
  next = 0;
  private readonly held = new Map<number, Uint8Array>();

  constructor(private readonly deliver: (bytes: Uint8Array) => void) {}

  push(chunk: SerialChunk): void {
    let { seq, data } = chunk;
    if (seq + data.length <= this.next) return; // already delivered
    if (seq < this.next) {
      data = data.subarray(this.next - seq);
      seq = this.next;
    }
    if (seq > this.next) {
      const prev = this.held.get(seq);
      if (!prev || prev.length < data.length) this.held.set(seq, data);
      return;
    }
    this.emit(data);
    this.drain();
  }

  /** Listens to a port a worker posts SerialChunks on. */
  attach(port: MessagePortLike): void {
    const onData = (v: unknown): void => {
      const c = v as Partial<SerialChunk>;
      if (c && typeof c.seq === 'number' && c.data instanceof Uint8Array) this.push(c as SerialChunk);
    };
    if (typeof port.on === 'function') port.on('message', onData);
    else if (port.addEventListener) {
      port.addEventListener('message', (ev: MessageEvent) => onData(ev.data));
      port.start?.();
    }
  }

  private emit(data: Uint8Array): void {
    if (data.length === 0) return;
    this.next += data.length;
    this.deliver(data);
  }

  private drain(): void {
    while (this.held.size > 0) {
      let progressed = false;
      for (const [seq, data] of this.held) {
        if (seq <= this.next) {
          this.held.delete(seq);
          if (seq + data.length > this.next) this.emit(data.subarray(this.next - seq));
          progressed = true;
        }
      }
      if (!progressed) return;
    }
  }
}
