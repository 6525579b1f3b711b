/**
 * The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP, numbered as in the opcode
 * map and the group-1 /reg field) and the other flag-producing arithmetic, recording lazy flags.
 *
 * Register forms call `alu`, which sets flags at once. Memory forms call `aluResult`, write the
 * result (which may fault), then `aluFlags`, so a faulting write leaves the flags untouched.
 */
import type { Cpu } from './cpu.ts';
import * as flagsModule from './flags.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { getCF, K_ADC, K_ADD, K_DEC, K_INC, K_LOGIC, K_SBB, K_SUB } = flagsModule;

export const OP_ADD = 0;
export const OP_OR = 1;
export const OP_ADC = 2;
export const OP_SBB = 3;
export const OP_AND = 4;
export const OP_SUB = 5;
export const OP_XOR = 6;
export const OP_CMP = 7;

/** The result of `a op b` before truncation (ADC/SBB read the current CF). */
export function aluResult(c: Cpu, op: number, a: number, b: number): number {
  switch (op) {
    case OP_ADD:
      return (a + b) | 0;
    case OP_OR:
      return a | b;
    case OP_ADC:
      return (a + b + getCF(c)) | 0;
    case OP_SBB:
      return (a - b - getCF(c)) | 0;
    case OP_AND:
      return a & b;
    case OP_XOR:
      return a ^ b;
    default:
      return (a - b) | 0;
  }
}

/** Records the lazy flags of `a op b = r` for operand size `sz` (SZ8/SZ16/SZ32). */
export function aluFlags(c: Cpu, op: number, a: number, b: number, r: number, sz: number): void {
  switch (op) {
    case OP_ADD:
      c.fOp = K_ADD | sz;
      break;
    case OP_ADC:
      c.fCin = getCF(c);
      c.fOp = K_ADC | sz;
      break;
    case OP_SBB:
      c.fCin = getCF(c);
      c.fOp = K_SBB | sz;
      break;
    case OP_SUB:
    case OP_CMP:
      c.fOp = K_SUB | sz;
      break;
    default:
      c.fOp = K_LOGIC | sz;
      break;
  }
  c.fA = a;
  c.fB = b;
  c.fRes = r;
}

/** `a op b` with flags; the caller stores the result unless op is CMP. */
export function alu(c: Cpu, op: number, a: number, b: number, sz: number): number {
  const r = aluResult(c, op, a, b);
  aluFlags(c, op, a, b, r, sz);
  return r;
}

export function setLogicFlags(c: Cpu, r: number, sz: number): void {
  c.fOp = K_LOGIC | sz;
  c.fA = 0;
  c.fB = 0;
  c.fRes = r;
}

export function setSubFlags(c: Cpu, a: number, b: number, r: number, sz: number): void {
  c.fOp = K_SUB | sz;
  c.fA = a;
  c.fB = b;
  c.fRes = r;
}

export function setAddFlags(c: Cpu, a: number, b: number, r: number, sz: number): void {
  c.fOp = K_ADD | sz;
  c.fA = a;
  c.fB = b;
  c.fRes = r;
}

/** INC/DEC: like ADD/SUB 1 but CF is preserved (kept in fCin). */
export function setIncFlags(c: Cpu, a: number, r: number, sz: number): void {
  c.fCin = getCF(c);
  c.fOp = K_INC | sz;
  c.fA = a;
  c.fB = 1;
  c.fRes = r;
}

export function setDecFlags(c: Cpu, a: number, r: number, sz: number): void {
  c.fCin = getCF(c);
  c.fOp = K_DEC | sz;
  c.fA = a;
  c.fB = 1;
  c.fRes = r;
}
