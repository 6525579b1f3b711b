import { createPcMachine, type MigratablePc } from '../src/index.ts';
import { TOYOS } from './toyos.ts';

/** RAM of the toyos machines these tests boot: the least toyos accepts (8448 KiB) rounded up. */
export const TOYOS_MIB = 10;

/** A toyos PC run deterministically to exactly `instructions` retired instructions. */
export function bootToyos(instructions: number, cmdline = 'workers=2', memoryMiB = TOYOS_MIB): { m: MigratablePc; out: () => string } {
  const m = createPcMachine({ memoryMiB });
  m.loadMultiboot(TOYOS, cmdline);
  let text = '';
  m.setSerialOutput((b) => (text += String.fromCharCode(b)));
  runTo(m, instructions);
  return { m, out: () => text };
}

/** Runs until the instruction counter reads exactly `target` (idle exits skip guest time). */
export function runTo(m: MigratablePc, target: number): void {
  while (m.instructionCount < target) {
    const r = m.run(target - m.instructionCount);
    if (r.reason !== 'limit' && r.reason !== 'idle') throw new Error(`toyos stopped: ${r.reason}`);
  }
}
