/**
 * Yields to the event loop (a macrotask, not a microtask) so that incoming messages — ACKs,
 * READY, control calls — are handled between guest slices. setImmediate where it exists (Node);
 * elsewhere a MessageChannel ping, which unlike setTimeout(0) is not clamped to 4 ms.
 */
let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === 'function') {
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    return new Promise((resolve) => {
      waiting.push(resolve);
      channel!.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Something to await until notify() or a timeout; used to wait for ACKs or READY. */
export class Signal {
  private resolve: (() => void) | null = null;

  notify(): void {
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }

  /** Resolves true on notify, false after timeoutMs. */
  wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.resolve = null;
        resolve(false);
      }, timeoutMs);
      this.resolve = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
