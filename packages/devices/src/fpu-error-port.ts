/**
 * Port 0xF0, "clear math coprocessor busy" (IBM PC/AT technical reference): on a PC/AT the x87's
 * ERROR# output sets a latch that drives IRQ13 and holds the coprocessor BUSY; any write to
 * 0xF0 clears it. Only the port is here: the board calls `onClear` so that the x87 error
 * latch (FERR# -> IRQ13, which the CPU package reports through Cpu.onFerr) can be released once
 * it is wired. Until then a write is accepted and has no effect.
 */
import type { IoBus } from './io-bus.ts';

export class FpuErrorPort {
  /** Called on every write to the port. */
  onClear: (() => void) | null = null;

  attach(bus: IoBus, port = 0xf0): void {
    bus.register(port, { out8: () => this.onClear?.() }, 'fpu-error');
  }
}
