/**
 * x87 entry checks and memory operand access, shared by every D8-DF handler: #NM and deferred #MF
 * before an instruction, FCS:FIP/FOP bookkeeping, ES/B/FERR# after it, WAIT/FWAIT, and the
 * 64-bit/probe helpers for memory operands.
 */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import * as constantsModule from '../constants.ts';
import { EXC_MASK, type Fpu, SW_B, SW_ES } from './fpu.ts';

const { CR0_EM, CR0_MP, CR0_NE, CR0_TS, EXC_MF, EXC_NM, CS } = constantsModule;

// ---- entry checks ---------------------------------------------------------------------------

/**
 * #NM (SDM vol. 3A §2.5 table 2-2: EM or TS for escapes; MP and TS for WAIT) and the deferred
 * #MF of a pending unmasked exception at a waiting instruction (SDM vol. 1 §8.6; with
 * CR0.NE = 0 the exception was reported on FERR#/IRQ 13 when it happened and we go on, as a
 * PC whose chipset asserts IGNNE# does).
 */
export function enter(c: Cpu, waiting: boolean): Fpu {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) c.raise(EXC_NM);
  const f = c.fpu!;
  if (waiting && (f.sw & SW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) c.raise(EXC_MF);
  return f;
}

/** Records FCS:FIP and FOP (SDM vol. 1 §8.1.8-8.1.9) for a non-control instruction. */
export function noteInsn(c: Cpu, f: Fpu, i: Insn): void {
  f.fcs = c.segSel[CS]!;
  f.fip = (c.eip - i.len) & (c.code32 ? -1 : 0xffff);
  f.fop = i.imm;
}

/** After an instruction: raise ES/B (and FERR#) if it left an unmasked exception flag. */
export function finish(c: Cpu, f: Fpu): void {
  // swBits: only exception bits are looked at, which a pending C1 (Fpu.pend) does not affect.
  const sw = f.swBits;
  if ((sw & ~f.cw & EXC_MASK) !== 0 && (sw & SW_ES) === 0) {
    f.sw |= SW_ES | SW_B;
    f.setFerr(true);
    if ((c.cr0 & CR0_NE) === 0) c.requestInterruptCheck();
  }
}

/** WAIT/FWAIT (9B). */
export function fwait(c: Cpu, _i: Insn): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(EXC_NM);
  const f = c.fpu!;
  if ((f.sw & SW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) c.raise(EXC_MF);
}

// ---- memory operand access ------------------------------------------------------------------

export function off(i: Insn, ea: number, k: number): number {
  return i.a32 ? (ea + k) | 0 : (ea + k) & 0xffff;
}

export function rd64(c: Cpu, i: Insn, ea: number): bigint {
  const lo = c.rd32(i.seg, ea) >>> 0;
  const hi = c.rd32(i.seg, off(i, ea, 4)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function wr64(c: Cpu, i: Insn, ea: number, v: bigint): void {
  c.wr32(i.seg, ea, Number(v & 0xffffffffn) | 0);
  c.wr32(i.seg, off(i, ea, 4), Number((v >> 32n) & 0xffffffffn) | 0);
}

/** Reads the first and last byte of an area so a fault happens before anything changes. */
export function touch(c: Cpu, i: Insn, ea: number, size: number): void {
  c.rd8(i.seg, ea);
  c.rd8(i.seg, off(i, ea, size - 1));
}
