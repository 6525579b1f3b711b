/**
 * A decoded instruction. Decoding happens once per instruction per physical code page; the run
 * loop then calls `exec` with the record. Every field is initialised in the constructor, in one
 * order, so all records share one hidden class and field loads stay monomorphic.
 *
 * Register operands are stored as indices into the register view of the operand's size
 * (see Cpu.r8/r16/r32), so handlers index the view directly without shifting.
 */
import type { Cpu } from './cpu.ts';
import type { CodePage } from './codecache.ts';

export type Handler = (c: Cpu, i: Insn) => void;

/** REP prefix recorded on string instructions. */
export const REP_NONE = 0;
export const REP_E = 1; // F3: REP / REPE / REPZ
export const REP_NE = 2; // F2: REPNE / REPNZ

export class Insn {
  exec: Handler;
  /** Length in bytes, prefixes included. */
  len = 0;
  /** Sub-operation: ALU op, condition code, group /reg field, string element size ... */
  op = 0;
  /** ModRM reg operand as a view index (or the raw field for Sreg/CRn/DRn operands). */
  reg = 0;
  /** ModRM rm operand as a view index when it is a register. */
  rm = 0;
  /** Effective segment of the memory operand (override or default). */
  seg = 3;
  /** Effective-address parts: base and index register view indices (8/16 = zero slot). */
  base = 8;
  index = 8;
  scale = 0;
  disp = 0;
  /** 32-bit address size. */
  a32 = false;
  /** 32-bit operand size. */
  o32 = false;
  imm = 0;
  imm2 = 0;
  rep = REP_NONE;
  /** Offset of the first byte within its physical page. */
  pageOff = 0;
  /** The code page that owns this record (null for uncached records). */
  page: CodePage | null = null;
  /** The next instruction in the same page, once seen (fall-through chaining). */
  next: Insn | null = null;
  /** Cached taken-branch target in the same page and its page offset. */
  target: Insn | null = null;
  targetOff = -1;
  /** Guest-visible disassembly aid for errors and traces: the opcode (0x0Fxx for two-byte). */
  opcode = 0;
  /** In a checked code page: the real handler (exec verifies the bytes first) and the bytes. */
  realExec: Handler;
  bytes: Uint8Array | null = null;
  /** Bytes 0..3 and 4..7 as little-endian words, and masks for instructions shorter than 8. */
  vLo = 0;
  vHi = 0;
  mLo = 0;
  mHi = 0;

  constructor(exec: Handler) {
    this.exec = exec;
    this.realExec = exec;
  }

  reset(exec: Handler): void {
    this.exec = exec;
    this.len = 0;
    this.op = 0;
    this.reg = 0;
    this.rm = 0;
    this.seg = 3;
    this.base = 8;
    this.index = 8;
    this.scale = 0;
    this.disp = 0;
    this.a32 = false;
    this.o32 = false;
    this.imm = 0;
    this.imm2 = 0;
    this.rep = REP_NONE;
    this.pageOff = 0;
    this.page = null;
    this.next = null;
    this.target = null;
    this.targetOff = -1;
    this.opcode = 0;
    this.realExec = exec;
    this.bytes = null;
    this.vLo = 0;
    this.vHi = 0;
    this.mLo = 0;
    this.mHi = 0;
  }
}
