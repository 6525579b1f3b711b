/**
 * Measures ferry86's interpreter on a multiboot guest, in-process, between two serial markers —
 * the same markers the peer run uses, so both figures cover the same guest work.
 */
import { loadMultiboot, PcMachine } from '@ferry86/devices';

export interface InterpreterRun {
  label: string;
  instructions: number;
  ms: number;
  mips: number;
  /** Everything the guest printed on COM1. */
  output: string;
}

export interface InterpreterOptions {
  image: Uint8Array;
  memoryMiB?: number;
  cmdline?: string;
  startMarker: string;
  endMarker?: string;
  /** Wall-clock budget after the start marker when there is no end marker. */
  runMs?: number;
}

const STEP = 1_000_000;

export function runFerry86(opts: InterpreterOptions): InterpreterRun {
  const machine = new PcMachine({ memoryMiB: opts.memoryMiB ?? 64, pacing: 'deterministic' });
  loadMultiboot(machine, opts.image, opts.cmdline ?? '');
  let out = '';
  machine.onSerialOutput((b) => {
    out += String.fromCharCode(b);
  });
  let startMs = 0;
  let startInstr = 0;
  let spent = 0;
  for (;;) {
    // Small steps until the start marker so the measured window starts close to it.
    const exit = machine.run(startMs ? STEP : 10_000);
    spent += exit.instructions;
    if (!startMs && out.includes(opts.startMarker)) {
      startMs = performance.now();
      startInstr = machine.cpu.instructionCount;
    } else if (startMs) {
      const ms = performance.now() - startMs;
      const ended = opts.endMarker ? out.includes(opts.endMarker) : ms >= (opts.runMs ?? 5000);
      if (ended) {
        const instructions = machine.cpu.instructionCount - startInstr;
        return { label: 'ferry86', instructions, ms, mips: instructions / ms / 1000, output: out };
      }
    }
    if (exit.reason !== 'limit' && exit.reason !== 'idle') {
      throw new Error(`ferry86: guest stopped (${exit.reason}) after ${spent} instructions; output: ${JSON.stringify(out.slice(-500))}`);
    }
  }
}
