/**
 * IN/OUT. In protected mode with CPL > IOPL the TSS I/O permission bitmap decides (SDM vol. 1
 * §19.5). Any port access ends the decoded run so a newly asserted interrupt line is seen at once.
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import * as tssModule from '../tss.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { CR0_PE, VM } = constantsModule;
const { ioPermitted } = tssModule;

export function checkIo(c: Cpu, port: number, size: number): void {
  if ((c.cr0 & CR0_PE) === 0) return;
  if ((c.flags & VM) === 0 && c.cpl <= ((c.flags >> 12) & 3)) return;
  if (!ioPermitted(c, port, size)) c.gp(0);
}

/** IN AL/AX/EAX, imm8 or DX: i.op = size in bytes, i.imm = port or -1 for DX. */
export function inHandler(c: Cpu, i: Insn): void {
  const port = i.imm >= 0 ? i.imm : c.r16[4]!;
  checkIo(c, port, i.op);
  if (i.op === 1) c.r8[0] = c.io.in8(port);
  else if (i.op === 2) c.r16[0] = c.io.in16(port);
  else c.r32[0] = c.io.in32(port);
  c.exit = true;
}

export function outHandler(c: Cpu, i: Insn): void {
  const port = i.imm >= 0 ? i.imm : c.r16[4]!;
  checkIo(c, port, i.op);
  if (i.op === 1) c.io.out8(port, c.r8[0]!);
  else if (i.op === 2) c.io.out16(port, c.r16[0]!);
  else c.io.out32(port, c.r32[0]!);
  c.exit = true;
}
