import { describe, expect, it } from 'vitest';
import { PcMachine } from '../src/pc-machine.ts';
import { loadMultiboot } from '../src/multiboot.ts';
import { assemble } from './guests.ts';

// The CPU is P6-class: "an unmasked floating-point exception always causes the FERR# pin to be
// asserted upon completion of the instruction that caused the exception" (Intel SDM vol. 3,
// Architecture Compatibility, "Assertion of the FERR# Pin"). QEMU asserts it only at the next
// waiting x87 instruction (the 486/Pentium option), so this guest, which has none after the
// FDIV, prints nothing there: the SDM, not QEMU, is the reference for this case.
describe('x87 error reporting on the PC/AT path (CR0.NE=0)', () => {
  it('delivers an unmasked x87 exception as IRQ13, released by a write to port 0xF0', () => {
    const out: number[] = [];
    const m = new PcMachine({ debugcon: [{ port: 0xe9, sink: (b) => out.push(b) }] });
    loadMultiboot(m, assemble('ferr'), '');
    let exit = m.run(1_000_000);
    while (exit.reason === 'limit') exit = m.run(1_000_000);
    expect(exit.reason).toBe('halted'); // the handler ends with cli; hlt
    expect(String.fromCharCode(...out)).toBe('F');
    // The latch was released: IRQ13's line is low again, so nothing is pending.
    expect(m.pic.hasInterrupt()).toBe(false);
  });
});
