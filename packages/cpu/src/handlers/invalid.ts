/** Opcodes that do not exist on this CPU: #UD when executed (decoding them is not a fault). */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';

export function udHandler(c: Cpu, _i: Insn): void {
  c.ud();
}

export function nop(_c: Cpu, _i: Insn): void {}
