import { TransportClosedError, type MessageTransport, type TransportHandlers } from './MessageTransport.ts';

/** What a loopback link does with one message: deliver it, or break the link before it. */
export type LinkFault = (data: ArrayBuffer, index: number) => 'deliver' | 'close';

/**
 * An in-process pair of transports with asynchronous delivery (like postMessage): migration
 * within one thread, and tests that inject faults at a chosen message.
 */
export class LoopbackTransport implements MessageTransport {
  peer!: LoopbackTransport;
  private handlers: TransportHandlers | null = null;
  private readonly early: ArrayBuffer[] = [];
  private pendingClose: Error | null | undefined = undefined;
  private isClosed = false;
  private sent = 0;
  /** Optional fault injection on messages sent from this end. */
  fault: LinkFault | null = null;

  get closed(): boolean {
    return this.isClosed;
  }

  /** Messages sent from this end so far. */
  get sentMessages(): number {
    return this.sent;
  }

  send(data: ArrayBuffer): void {
    if (this.isClosed) throw new TransportClosedError('the loopback transport is closed');
    const index = this.sent++;
    if (this.fault?.(data, index) === 'close') {
      // The link breaks: both ends learn it, as with a real channel.
      this.close('link broken (fault injected)');
      setTimeout(() => this.closeLocal(new TransportClosedError('link broken (fault injected)')), 0);
      return;
    }
    const peer = this.peer;
    setTimeout(() => peer.deliver(data), 0);
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers;
    for (const m of this.early.splice(0)) handlers.message(m);
    if (this.pendingClose !== undefined) this.closeLocal(this.pendingClose);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const peer = this.peer;
    setTimeout(() => peer.closeLocal(new TransportClosedError(`the peer closed the channel: ${reason}`)), 0);
  }

  private deliver(data: ArrayBuffer): void {
    if (this.isClosed) return;
    if (this.handlers) this.handlers.message(data);
    else this.early.push(data);
  }

  private closeLocal(error: Error | null): void {
    if (this.isClosed && this.pendingClose === undefined && !this.handlers) return;
    this.isClosed = true;
    if (!this.handlers) {
      this.pendingClose = error;
      return;
    }
    const h = this.handlers;
    this.handlers = null;
    h.close(error);
  }
}

export function createLoopbackPair(): [LoopbackTransport, LoopbackTransport] {
  const a = new LoopbackTransport();
  const b = new LoopbackTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
