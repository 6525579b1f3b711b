/**
 * Drives a PcMachine from an event loop: runs it in chunks, yields to the host between chunks
 * (so host input and timers get in), and sleeps when the machine says it is idle — the
 * realtime pacing's "idle = sleep", and HLT with nothing scheduled waiting for host input.
 */
import type { PcMachine, RunExit } from './pc-machine.ts';

export interface RunUntilOptions {
  /** Stop after this many retired instructions in total (default: no limit). */
  maxInstructions?: number;
  /** Instructions per run() call between yields to the event loop (default 2,000,000). */
  chunk?: number;
  /** Stops the loop; it then returns a 'limit' exit. */
  signal?: AbortSignal;
  /**
   * Called when the machine is idle with nothing scheduled (it waits for host input). Return
   * false to stop (the loop then returns that 'idle' exit), true to keep waiting.
   */
  onIdleForever?: () => boolean;
}

/**
 * Runs until the guest halts for good, shuts down, resets, touches an absent page, the
 * instruction budget is spent or the signal aborts. Returns the last exit, with `instructions`
 * counting the whole loop.
 */
export async function runUntilExit(machine: PcMachine, opts: RunUntilOptions = {}): Promise<RunExit> {
  const max = opts.maxInstructions ?? Infinity;
  const chunk = opts.chunk ?? 2_000_000;
  let total = 0;
  for (;;) {
    if (opts.signal?.aborted) return { reason: 'limit', instructions: total };
    const exit = machine.run(Math.min(chunk, max - total));
    total += exit.instructions;
    switch (exit.reason) {
      case 'limit':
        if (total >= max) return { ...exit, instructions: total };
        await yieldToHost();
        break;
      case 'idle':
        if (exit.waitMs === Infinity) {
          if (opts.onIdleForever && !opts.onIdleForever()) return { ...exit, instructions: total };
          await sleep(10, opts.signal);
        } else if ((exit.waitMs ?? 0) > 0) {
          await sleep(Math.min(exit.waitMs!, 50), opts.signal);
        } else {
          await yieldToHost();
        }
        break;
      default:
        return { ...exit, instructions: total };
    }
  }
}

function yieldToHost(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
