import type { MigratablePc } from '@ferry86/migrate';

/** Where guest output goes: buffered, flushed after every slice. */
export interface ConsoleSink {
  push(byte: number): void;
  flush(): void;
}

/** One slice of the guest: the machine's own run, or a restorer's / pager's that loads pages. */
export type GuestStep = (maxInstructions: number) => { reason: string; instructions: number } | Promise<{ reason: string; instructions: number }>;

/**
 * Runs a guest with COM1 on stdio (stdin → serial input, output → `out`) until `max`
 * instructions, Ctrl-C, a guest stop, or an idle guest whose stdin has closed. Returns why it
 * ended. Errors thrown by `step` propagate after stdio is released.
 */
export async function runOnConsole(m: MigratablePc, step: GuestStep, max: number, out: ConsoleSink): Promise<string> {
  m.setSerialOutput((b) => out.push(b));
  let stdinEnded = false;
  const onData = (chunk: Buffer): void => m.serialInput(new Uint8Array(chunk));
  const onEnd = (): void => {
    stdinEnded = true;
  };
  process.stdin.on('data', onData);
  process.stdin.on('end', onEnd);
  let stopped = false;
  const onSigint = (): void => {
    stopped = true;
  };
  process.on('SIGINT', onSigint);
  const start = m.instructionCount;
  try {
    let waits = 0;
    for (;;) {
      if (stopped) return 'stopped by the user';
      const left = max - (m.instructionCount - start);
      if (left <= 0) return 'instruction limit reached';
      const r = await step(Math.min(500_000, left));
      out.flush();
      if (r.reason === 'limit') {
        waits = 0;
        await new Promise((resolve) => setImmediate(resolve));
      } else if (r.reason === 'idle') {
        if (stdinEnded && r.instructions === 0 && ++waits > 100) return 'the guest waits for input and stdin is closed';
        await new Promise((resolve) => setTimeout(resolve, r.instructions === 0 ? 5 : 0));
      } else {
        return `the guest stopped (${r.reason})`;
      }
    }
  } finally {
    out.flush();
    process.stdin.off('data', onData);
    process.stdin.off('end', onEnd);
    process.stdin.pause();
    process.off('SIGINT', onSigint);
  }
}
