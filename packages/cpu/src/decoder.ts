/**
 * The x86 decoder: prefixes, one- and two-byte opcode maps (Intel SDM vol. 2 appendix A), ModRM,
 * immediates. It fills an Insn with the handler for the exact form (operand size, register or
 * memory operand) so handlers do not re-decide at run time.
 *
 * Decoding never raises #UD: an undefined opcode decodes to a record whose handler raises #UD
 * when executed. It can raise #GP(0) (length over 15 bytes, CS limit) and #PF while fetching.
 */
import { OP_ADD, OP_CMP, OP_SUB, OP_XOR } from './alu.ts';
import { CS, DS, ES, FS, GS, SS } from './constants.ts';
import type { Cpu } from './cpu.ts';
import * as A from './handlers/arith.ts';
import * as B from './handlers/bits.ts';
import * as D from './handlers/bcd.ts';
import * as C from './handlers/control.ts';
import * as M from './handlers/datamov.ts';
import * as IO from './handlers/io.ts';
import { nop, udHandler } from './handlers/invalid.ts';
import * as SH from './handlers/shift.ts';
import * as ST from './handlers/stack.ts';
import * as STR from './handlers/string.ts';
import * as SYS from './handlers/system.ts';
import * as FPU from './fpu/exec.ts';
import * as FPU_FAST from './fpu/fast.ts';
import { REP_E, REP_NE, REP_NONE, type Handler, type Insn } from './insn.ts';
import { fCount, fCrossed, fetchBegin, i32, mMod, mReg, mRm, readModrm, reg16, reg8, s16, s8, u16, u8 } from './modrm.ts';

// Decoder state for the instruction being decoded (module-level: no allocation).
let o32 = false;
let a32 = false;
let segOv = -1;
let rep = REP_NONE;
let lock = false;
/** The decoded form accepts a LOCK prefix (memory-destination read-modify-write). */
let lockable = false;
/** The CPU being decoded for has an x87 FPU. */
let hasFpu = false;

/**
 * Decodes the instruction at CS:eip into `i`. Returns true if its bytes crossed a page boundary
 * (the record must then not be cached under the first page).
 */
export function decodeInstruction(c: Cpu, i: Insn, eip: number): boolean {
  fetchBegin(c, eip);
  const code32 = c.code32;
  o32 = code32;
  a32 = code32;
  segOv = -1;
  rep = REP_NONE;
  lock = false;
  lockable = false;
  hasFpu = c.fpu !== null;
  let op: number;
  for (;;) {
    op = u8();
    switch (op) {
      case 0x26:
        segOv = ES;
        continue;
      case 0x2e:
        segOv = CS;
        continue;
      case 0x36:
        segOv = SS;
        continue;
      case 0x3e:
        segOv = DS;
        continue;
      case 0x64:
        segOv = FS;
        continue;
      case 0x65:
        segOv = GS;
        continue;
      case 0x66:
        o32 = !code32;
        continue;
      case 0x67:
        a32 = !code32;
        continue;
      case 0xf0:
        lock = true;
        continue;
      case 0xf2:
        rep = REP_NE;
        continue;
      case 0xf3:
        rep = REP_E;
        continue;
    }
    break;
  }
  i.o32 = o32;
  i.a32 = a32;
  i.seg = segOv >= 0 ? segOv : DS;
  i.rep = rep;
  i.rm = -1;
  if (op === 0x0f) {
    const op2 = u8();
    i.opcode = 0x0f00 | op2;
    decodeTwoByte(i, op2);
  } else {
    i.opcode = op;
    decodeOneByte(i, op);
  }
  if (lock && !lockable) i.exec = udHandler;
  i.len = fCount;
  return fCrossed;
}

// ---- helpers -----------------------------------------------------------------------------------

function modrm(i: Insn): boolean {
  readModrm(i, a32, segOv);
  return mMod === 3;
}

/** Register operand indices for the r/m (when a register) and reg fields, by operand size. */
function regs8(i: Insn): void {
  if (mMod === 3) i.rm = reg8(mRm);
  i.reg = reg8(mReg);
}
function regsV(i: Insn): void {
  if (o32) {
    if (mMod === 3) i.rm = mRm;
    i.reg = mReg;
  } else {
    if (mMod === 3) i.rm = reg16(mRm);
    i.reg = reg16(mReg);
  }
}
/** r/m register index for size v (o32 ? 32 : 16). */
function rmV(n: number): number {
  return o32 ? n : reg16(n);
}
function immV(): number {
  return o32 ? i32() : u16();
}
/** A sign-extended imm8 for an operand of size v. */
function immSxV(): number {
  const v = s8();
  return o32 ? v : v & 0xffff;
}
function pick(reg: boolean, r: Handler, m: Handler): Handler {
  return reg ? r : m;
}
function byV(h16: Handler, h32: Handler): Handler {
  return o32 ? h32 : h16;
}

// ---- one-byte opcode map --------------------------------------------------------------------

function decodeOneByte(i: Insn, op: number): void {
  if (op < 0x40 && (op & 7) < 6) {
    decodeAlu(i, op);
    return;
  }
  switch (op) {
    // PUSH/POP segment registers
    case 0x06:
    case 0x0e:
    case 0x16:
    case 0x1e:
      i.reg = op >> 3;
      i.exec = byV(ST.pushSeg16, ST.pushSeg32);
      return;
    case 0x07:
    case 0x17:
    case 0x1f:
      i.reg = op >> 3;
      i.exec = byV(ST.popSeg16, ST.popSeg32);
      return;
    case 0x27:
      i.exec = D.daa;
      return;
    case 0x2f:
      i.exec = D.das;
      return;
    case 0x37:
      i.exec = D.aaa;
      return;
    case 0x3f:
      i.exec = D.aas;
      return;
  }
  if (op >= 0x40 && op <= 0x4f) {
    i.rm = rmV(op & 7);
    i.exec = op < 0x48 ? byV(A.incR16, A.incR32) : byV(A.decR16, A.decR32);
    return;
  }
  if (op >= 0x50 && op <= 0x57) {
    i.rm = rmV(op & 7);
    i.exec = byV(ST.pushR16, ST.pushR32);
    return;
  }
  if (op >= 0x58 && op <= 0x5f) {
    i.rm = rmV(op & 7);
    i.exec = byV(ST.popR16, ST.popR32);
    return;
  }
  if (op >= 0x70 && op <= 0x7f) {
    i.op = op & 15;
    i.imm = s8();
    i.exec = byV(C.jccRel16, C.jccRel32);
    return;
  }
  if (op >= 0x91 && op <= 0x97) {
    i.rm = rmV(op & 7);
    i.reg = rmV(0);
    i.exec = byV(M.xchgR16, M.xchgR32);
    return;
  }
  if (op >= 0xb0 && op <= 0xb7) {
    i.rm = reg8(op & 7);
    i.imm = u8();
    i.exec = M.movR8I;
    return;
  }
  if (op >= 0xb8 && op <= 0xbf) {
    i.rm = rmV(op & 7);
    i.imm = immV();
    i.exec = byV(M.movR16I, M.movR32I);
    return;
  }
  if (op >= 0xd8 && op <= 0xdf) {
    // x87 escape. Without an FPU only the length matters (the handler raises #NM or does nothing).
    const reg = modrm(i);
    if (!hasFpu) {
      i.exec = SYS.fpuEscape;
      return;
    }
    i.op = ((op & 7) << 3) | mReg;
    i.rm = mRm;
    // FOP: the 11 low bits of the opcode and ModRM bytes (SDM vol. 1 §8.1.9).
    i.imm = ((op & 7) << 8) | (mMod << 6) | (mReg << 3) | mRm;
    i.exec = FPU_FAST.fpuHandler(i.op, mRm, reg);
    return;
  }
  switch (op) {
    case 0x60:
      i.exec = byV(ST.pusha16, ST.pusha32);
      return;
    case 0x61:
      i.exec = byV(ST.popa16, ST.popa32);
      return;
    case 0x62: {
      const reg = modrm(i);
      regsV(i);
      i.exec = reg ? udHandler : byV(C.bound16, C.bound32);
      return;
    }
    case 0x63: {
      const reg = modrm(i);
      if (reg) i.rm = reg16(mRm);
      i.reg = reg16(mReg);
      i.exec = SYS.arpl;
      lockable = false;
      return;
    }
    case 0x68:
      i.imm = immV();
      i.exec = byV(ST.pushI16, ST.pushI32);
      return;
    case 0x6a:
      i.imm = immSxV();
      i.exec = byV(ST.pushI16, ST.pushI32);
      return;
    case 0x69:
    case 0x6b: {
      modrm(i);
      regsV(i);
      i.imm = op === 0x69 ? immV() : immSxV();
      i.imm2 = 1; // three-operand form
      i.exec = byV(A.imulGwEw, A.imulGdEd);
      return;
    }
    case 0x6c:
    case 0x6d:
      i.op = op === 0x6c ? 1 : o32 ? 4 : 2;
      i.exec = STR.ins;
      return;
    case 0x6e:
    case 0x6f:
      i.op = op === 0x6e ? 1 : o32 ? 4 : 2;
      i.exec = STR.outs;
      return;
    case 0x80:
    case 0x82: {
      const reg = modrm(i);
      regs8(i);
      i.op = mReg;
      i.imm = u8();
      i.exec = pick(reg, A.aluEbIbR, A.aluEbIbM);
      lockable = !reg && mReg !== OP_CMP;
      return;
    }
    case 0x81:
    case 0x83: {
      const reg = modrm(i);
      regsV(i);
      i.op = mReg;
      i.imm = op === 0x81 ? immV() : immSxV();
      if (o32) {
        if (reg && mReg === OP_CMP) i.exec = A.cmpEdIdR;
        else if (reg && mReg === OP_ADD) i.exec = A.addEdIdR;
        else if (reg && mReg === OP_SUB) i.exec = A.subEdIdR;
        else i.exec = pick(reg, A.aluEdIdR, A.aluEdIdM);
      } else {
        i.exec = pick(reg, A.aluEwIwR, A.aluEwIwM);
      }
      lockable = !reg && mReg !== OP_CMP;
      return;
    }
    case 0x84: {
      const reg = modrm(i);
      regs8(i);
      i.exec = pick(reg, A.testEbGbR, A.testEbGbM);
      return;
    }
    case 0x85: {
      const reg = modrm(i);
      regsV(i);
      i.exec = o32 ? pick(reg, A.testEdGdR, A.testEdGdM) : pick(reg, A.testEwGwR, A.testEwGwM);
      return;
    }
    case 0x86: {
      const reg = modrm(i);
      regs8(i);
      i.exec = pick(reg, M.xchgR8, M.xchgM8);
      lockable = !reg;
      return;
    }
    case 0x87: {
      const reg = modrm(i);
      regsV(i);
      i.exec = o32 ? pick(reg, M.xchgR32, M.xchgM32) : pick(reg, M.xchgR16, M.xchgM16);
      lockable = !reg;
      return;
    }
    case 0x88: {
      const reg = modrm(i);
      regs8(i);
      i.exec = pick(reg, M.movR8R8, M.movEbGbM);
      return;
    }
    case 0x89: {
      const reg = modrm(i);
      regsV(i);
      i.exec = o32 ? pick(reg, M.movR32R32, M.movEdGdM) : pick(reg, M.movR16R16, M.movEwGwM);
      return;
    }
    case 0x8a: {
      const reg = modrm(i);
      regs8(i);
      if (reg) swapRegRm(i);
      i.exec = pick(reg, M.movR8R8, M.movGbEbM);
      return;
    }
    case 0x8b: {
      const reg = modrm(i);
      regsV(i);
      if (reg) swapRegRm(i);
      i.exec = o32 ? pick(reg, M.movR32R32, M.movGdEdM) : pick(reg, M.movR16R16, M.movGwEwM);
      return;
    }
    case 0x8c: {
      const reg = modrm(i);
      if (reg) i.rm = rmV(mRm);
      i.reg = mReg;
      i.exec = mReg > 5 ? udHandler : SYS.movEwSreg;
      return;
    }
    case 0x8d: {
      const reg = modrm(i);
      regsV(i);
      i.exec = reg ? udHandler : byV(M.lea16, M.lea32);
      return;
    }
    case 0x8e: {
      const reg = modrm(i);
      if (reg) i.rm = reg16(mRm);
      i.reg = mReg;
      i.exec = mReg > 5 || mReg === CS ? udHandler : SYS.movSregEw;
      return;
    }
    case 0x8f: {
      const reg = modrm(i);
      if (mReg !== 0) {
        i.exec = udHandler;
        return;
      }
      if (reg) {
        i.rm = rmV(mRm);
        i.exec = byV(ST.popR16, ST.popR32);
      } else {
        i.exec = byV(ST.popM16, ST.popM32);
      }
      return;
    }
    case 0x90:
      i.exec = nop; // NOP, and PAUSE with F3
      return;
    case 0x98:
      i.exec = byV(M.cbw, M.cwde);
      return;
    case 0x99:
      i.exec = byV(M.cwd, M.cdq);
      return;
    case 0x9a:
    case 0xea:
      i.imm = o32 ? i32() >>> 0 : u16();
      i.imm2 = u16();
      i.op = op === 0xea ? 0 : 1;
      i.exec = C.farDirect;
      return;
    case 0x9b:
      i.exec = hasFpu ? FPU.fwait : SYS.wait;
      return;
    case 0x9c:
      i.exec = byV(ST.pushf16, ST.pushf32);
      return;
    case 0x9d:
      i.exec = byV(ST.popf16, ST.popf32);
      return;
    case 0x9e:
      i.exec = M.sahf;
      return;
    case 0x9f:
      i.exec = M.lahf;
      return;
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      // MOV with a direct offset (moffs): an address-size-wide displacement, no ModRM.
      i.a32 = a32;
      i.base = a32 ? 8 : 16;
      i.index = a32 ? 8 : 16;
      i.scale = 0;
      i.disp = a32 ? i32() : u16();
      i.seg = segOv >= 0 ? segOv : DS;
      if (op === 0xa0) {
        i.reg = 0;
        i.exec = M.movGbEbM;
      } else if (op === 0xa1) {
        i.reg = 0;
        i.exec = byV(M.movGwEwM, M.movGdEdM);
      } else if (op === 0xa2) {
        i.reg = 0;
        i.exec = M.movEbGbM;
      } else {
        i.reg = 0;
        i.exec = byV(M.movEwGwM, M.movEdGdM);
      }
      return;
    }
    case 0xa4:
    case 0xa5:
      i.op = op === 0xa4 ? 1 : o32 ? 4 : 2;
      i.exec = STR.movs;
      return;
    case 0xa6:
    case 0xa7:
      i.op = op === 0xa6 ? 1 : o32 ? 4 : 2;
      i.exec = STR.cmps;
      return;
    case 0xa8:
      i.rm = 0;
      i.imm = u8();
      i.exec = A.testEbIbR;
      return;
    case 0xa9:
      i.rm = 0;
      i.imm = immV();
      i.exec = byV(A.testEwIwR, A.testEdIdR);
      return;
    case 0xaa:
    case 0xab:
      i.op = op === 0xaa ? 1 : o32 ? 4 : 2;
      i.exec = STR.stos;
      return;
    case 0xac:
    case 0xad:
      i.op = op === 0xac ? 1 : o32 ? 4 : 2;
      i.exec = STR.lods;
      return;
    case 0xae:
    case 0xaf:
      i.op = op === 0xae ? 1 : o32 ? 4 : 2;
      i.exec = STR.scas;
      return;
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const reg = modrm(i);
      const byte = (op & 1) === 0;
      if (byte) regs8(i);
      else regsV(i);
      i.op = mReg;
      i.imm = op <= 0xc1 ? u8() : op <= 0xd1 ? 1 : -1;
      i.exec = byte ? SH.shift8 : byV(SH.shift16, SH.shift32);
      if (!reg) i.rm = -1;
      return;
    }
    case 0xc2:
      i.imm = u16();
      i.exec = byV(C.ret16, C.ret32);
      return;
    case 0xc3:
      i.imm = 0;
      i.exec = byV(C.ret16, C.ret32);
      return;
    case 0xc4:
    case 0xc5: {
      const reg = modrm(i);
      regsV(i);
      i.op = op === 0xc4 ? ES : DS;
      i.exec = reg ? udHandler : SYS.loadFarPointer;
      return;
    }
    case 0xc6: {
      const reg = modrm(i);
      regs8(i);
      i.imm = u8();
      i.exec = mReg !== 0 ? udHandler : pick(reg, M.movR8I, M.movM8I);
      return;
    }
    case 0xc7: {
      const reg = modrm(i);
      regsV(i);
      i.imm = immV();
      i.exec = mReg !== 0 ? udHandler : o32 ? pick(reg, M.movR32I, M.movM32I) : pick(reg, M.movR16I, M.movM16I);
      return;
    }
    case 0xc8:
      i.imm = u16();
      i.imm2 = u8();
      i.exec = ST.enter;
      return;
    case 0xc9:
      i.exec = byV(ST.leave16, ST.leave32);
      return;
    case 0xca:
      i.imm = u16();
      i.exec = C.retFar;
      return;
    case 0xcb:
      i.imm = 0;
      i.exec = C.retFar;
      return;
    case 0xcc:
      i.exec = C.int3;
      return;
    case 0xcd:
      i.imm = u8();
      i.exec = C.intN;
      return;
    case 0xce:
      i.exec = C.into;
      return;
    case 0xcf:
      i.exec = C.iretHandler;
      return;
    case 0xd4:
      i.imm = u8();
      i.exec = D.aam;
      return;
    case 0xd5:
      i.imm = u8();
      i.exec = D.aad;
      return;
    case 0xd6:
      i.exec = M.salc;
      return;
    case 0xd7:
      i.exec = M.xlat;
      return;
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0xe3:
      i.op = op & 3;
      i.imm = s8();
      i.exec = C.loopOrJcxz;
      return;
    case 0xe4:
    case 0xe5:
      i.op = op === 0xe4 ? 1 : o32 ? 4 : 2;
      i.imm = u8();
      i.exec = IO.inHandler;
      return;
    case 0xe6:
    case 0xe7:
      i.op = op === 0xe6 ? 1 : o32 ? 4 : 2;
      i.imm = u8();
      i.exec = IO.outHandler;
      return;
    case 0xec:
    case 0xed:
      i.op = op === 0xec ? 1 : o32 ? 4 : 2;
      i.imm = -1;
      i.exec = IO.inHandler;
      return;
    case 0xee:
    case 0xef:
      i.op = op === 0xee ? 1 : o32 ? 4 : 2;
      i.imm = -1;
      i.exec = IO.outHandler;
      return;
    case 0xe8:
      i.imm = o32 ? i32() : s16();
      i.exec = byV(C.callRel16, C.callRel32);
      return;
    case 0xe9:
      i.imm = o32 ? i32() : s16();
      i.exec = byV(C.jmpRel16, C.jmpRel32);
      return;
    case 0xeb:
      i.imm = s8();
      i.exec = byV(C.jmpRel16, C.jmpRel32);
      return;
    case 0xf1:
      i.exec = C.int1;
      return;
    case 0xf4:
      i.exec = SYS.hlt;
      return;
    case 0xf5:
      i.exec = SYS.cmc;
      return;
    case 0xf6:
    case 0xf7:
      decodeGroup3(i, op === 0xf6);
      return;
    case 0xf8:
      i.exec = SYS.clc;
      return;
    case 0xf9:
      i.exec = SYS.stc;
      return;
    case 0xfa:
      i.exec = SYS.cli;
      return;
    case 0xfb:
      i.exec = SYS.sti;
      return;
    case 0xfc:
      i.exec = SYS.cld;
      return;
    case 0xfd:
      i.exec = SYS.std;
      return;
    case 0xfe: {
      const reg = modrm(i);
      regs8(i);
      i.op = mReg;
      if (mReg > 1) i.exec = udHandler;
      else if (reg) i.exec = mReg === 0 ? A.incR8 : A.decR8;
      else {
        i.exec = A.incDecM8;
        lockable = true;
      }
      return;
    }
    case 0xff:
      decodeGroup5(i);
      return;
  }
  i.exec = udHandler;
}

function swapRegRm(i: Insn): void {
  const t = i.rm;
  i.rm = i.reg;
  i.reg = t;
}

/** 00-3D: ADD OR ADC SBB AND SUB XOR CMP in their six forms. */
function decodeAlu(i: Insn, op: number): void {
  const aluOp = op >> 3;
  i.op = aluOp;
  switch (op & 7) {
    case 0: {
      const reg = modrm(i);
      regs8(i);
      i.exec = pick(reg, A.aluEbGbR, A.aluEbGbM);
      lockable = !reg && aluOp !== OP_CMP;
      return;
    }
    case 1: {
      const reg = modrm(i);
      regsV(i);
      if (o32) {
        if (reg && aluOp === OP_CMP) i.exec = A.cmpEdGdR;
        else if (reg && aluOp === OP_XOR) i.exec = A.xorEdGdR;
        else i.exec = pick(reg, A.aluEdGdR, A.aluEdGdM);
      } else {
        i.exec = pick(reg, A.aluEwGwR, A.aluEwGwM);
      }
      lockable = !reg && aluOp !== OP_CMP;
      return;
    }
    case 2: {
      const reg = modrm(i);
      regs8(i);
      if (reg) {
        swapRegRm(i);
        i.exec = A.aluEbGbR;
      } else {
        i.exec = A.aluGbEbM;
      }
      return;
    }
    case 3: {
      const reg = modrm(i);
      regsV(i);
      if (reg) {
        swapRegRm(i);
        if (o32 && aluOp === OP_CMP) i.exec = A.cmpEdGdR;
        else if (o32 && aluOp === OP_XOR) i.exec = A.xorEdGdR;
        else i.exec = byV(A.aluEwGwR, A.aluEdGdR);
      } else {
        i.exec = byV(A.aluGwEwM, A.aluGdEdM);
      }
      return;
    }
    case 4:
      i.rm = 0;
      i.imm = u8();
      i.exec = A.aluEbIbR;
      return;
    default:
      i.rm = 0;
      i.imm = immV();
      if (o32 && aluOp === OP_CMP) i.exec = A.cmpEdIdR;
      else if (o32 && aluOp === OP_ADD) i.exec = A.addEdIdR;
      else if (o32 && aluOp === OP_SUB) i.exec = A.subEdIdR;
      else i.exec = byV(A.aluEwIwR, A.aluEdIdR);
      return;
  }
}

/** F6/F7: TEST NOT NEG MUL IMUL DIV IDIV (/1 is an alias of TEST on Intel parts). */
function decodeGroup3(i: Insn, byte: boolean): void {
  const reg = modrm(i);
  if (byte) regs8(i);
  else regsV(i);
  const r = mReg;
  if (r <= 1) {
    i.imm = byte ? u8() : immV();
    if (byte) i.exec = pick(reg, A.testEbIbR, A.testEbIbM);
    else i.exec = o32 ? pick(reg, A.testEdIdR, A.testEdIdM) : pick(reg, A.testEwIwR, A.testEwIwM);
    return;
  }
  if (r === 2 || r === 3) lockable = !reg;
  if (byte) {
    i.exec = [udHandler, udHandler, pick(reg, A.notR8, A.notM8), pick(reg, A.negR8, A.negM8), A.mul8, A.imul8, A.div8, A.idiv8][r]!;
  } else if (o32) {
    i.exec = [udHandler, udHandler, pick(reg, A.notR32, A.notM32), pick(reg, A.negR32, A.negM32), A.mul32, A.imul32, A.div32, A.idiv32][r]!;
  } else {
    i.exec = [udHandler, udHandler, pick(reg, A.notR16, A.notM16), pick(reg, A.negR16, A.negM16), A.mul16, A.imul16, A.div16, A.idiv16][r]!;
  }
}

/** FF: INC DEC CALL CALLF JMP JMPF PUSH. */
function decodeGroup5(i: Insn): void {
  const reg = modrm(i);
  regsV(i);
  i.op = mReg;
  switch (mReg) {
    case 0:
    case 1:
      if (reg) i.exec = mReg === 0 ? byV(A.incR16, A.incR32) : byV(A.decR16, A.decR32);
      else {
        i.exec = byV(A.incDecM16, A.incDecM32);
        lockable = true;
      }
      return;
    case 2:
      i.exec = byV(C.callEw, C.callEd);
      return;
    case 3:
    case 5:
      i.op = mReg === 3 ? 1 : 0;
      i.exec = reg ? udHandler : C.farIndirect;
      return;
    case 4:
      i.exec = byV(C.jmpEw, C.jmpEd);
      return;
    case 6:
      if (reg) {
        i.exec = byV(ST.pushR16, ST.pushR32);
      } else {
        i.exec = byV(ST.pushM16, ST.pushM32);
      }
      return;
    default:
      i.exec = udHandler;
  }
}

// ---- two-byte opcode map (0F xx) ------------------------------------------------------------------

function decodeTwoByte(i: Insn, op: number): void {
  if (op >= 0x80 && op <= 0x8f) {
    i.op = op & 15;
    i.imm = o32 ? i32() : s16();
    i.exec = byV(C.jccRel16, C.jccRel32);
    return;
  }
  if (op >= 0x90 && op <= 0x9f) {
    const reg = modrm(i);
    if (reg) i.rm = reg8(mRm);
    i.op = op & 15;
    i.exec = pick(reg, M.setccR, M.setccM);
    return;
  }
  if (op >= 0x40 && op <= 0x4f) {
    modrm(i);
    regsV(i);
    i.op = op & 15;
    i.exec = byV(M.cmov16, M.cmov32);
    return;
  }
  if (op >= 0xc8 && op <= 0xcf) {
    i.rm = rmV(op & 7);
    i.exec = byV(M.bswap16, M.bswap32);
    return;
  }
  if (op >= 0x18 && op <= 0x1f) {
    // Hint NOPs (0F 1F /0 is the multi-byte NOP; 0F 18 are prefetches): no memory access.
    modrm(i);
    i.exec = nop;
    return;
  }
  switch (op) {
    case 0x00:
      decodeGroup6(i);
      return;
    case 0x01:
      decodeGroup7(i);
      return;
    case 0x02:
    case 0x03: {
      const reg = modrm(i);
      regsV(i);
      if (reg) i.rm = reg16(mRm);
      i.op = op - 2;
      i.exec = SYS.larLsl;
      return;
    }
    case 0x06:
      i.exec = SYS.clts;
      return;
    case 0x08:
    case 0x09:
      i.exec = SYS.invd;
      return;
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
      // MOV to/from CRn/DRn: the ModRM always names a register, whatever mod says.
      readModrmRegOnly(i);
      i.exec = op === 0x20 ? SYS.movRCr : op === 0x21 ? SYS.movRDr : op === 0x22 ? SYS.movCrR : SYS.movDrR;
      return;
    case 0x30:
      i.exec = SYS.wrmsr;
      return;
    case 0x31:
      i.exec = SYS.rdtsc;
      return;
    case 0x32:
      i.exec = SYS.rdmsr;
      return;
    case 0xa0:
    case 0xa8:
      i.reg = op === 0xa0 ? FS : GS;
      i.exec = byV(ST.pushSeg16, ST.pushSeg32);
      return;
    case 0xa1:
    case 0xa9:
      i.reg = op === 0xa1 ? FS : GS;
      i.exec = byV(ST.popSeg16, ST.popSeg32);
      return;
    case 0xa2:
      i.exec = SYS.cpuidHandler;
      return;
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb: {
      const reg = modrm(i);
      regsV(i);
      i.op = op === 0xa3 ? 0 : op === 0xab ? 1 : op === 0xb3 ? 2 : 3;
      i.imm = -1;
      i.exec = byV(B.bt16, B.bt32);
      lockable = !reg && i.op !== 0;
      return;
    }
    case 0xba: {
      const reg = modrm(i);
      regsV(i);
      i.imm = u8();
      if (mReg < 4) {
        i.exec = udHandler;
        return;
      }
      i.op = mReg - 4;
      i.exec = byV(B.bt16, B.bt32);
      lockable = !reg && i.op !== 0;
      return;
    }
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad: {
      modrm(i);
      regsV(i);
      i.op = op <= 0xa5 ? 0 : 1;
      i.imm = (op & 1) === 0 ? u8() : -1;
      i.exec = byV(SH.shxd16, SH.shxd32);
      return;
    }
    case 0xaf: {
      modrm(i);
      regsV(i);
      i.imm2 = 0;
      i.exec = byV(A.imulGwEw, A.imulGdEd);
      return;
    }
    case 0xb0:
    case 0xb1: {
      const reg = modrm(i);
      if (op === 0xb0) regs8(i);
      else regsV(i);
      i.exec = op === 0xb0 ? B.cmpxchg8 : byV(B.cmpxchg16, B.cmpxchg32);
      lockable = !reg;
      return;
    }
    case 0xb2:
    case 0xb4:
    case 0xb5: {
      const reg = modrm(i);
      regsV(i);
      i.op = op === 0xb2 ? SS : op === 0xb4 ? FS : GS;
      i.exec = reg ? udHandler : SYS.loadFarPointer;
      return;
    }
    case 0xb6:
    case 0xbe: {
      const reg = modrm(i);
      i.reg = o32 ? mReg : reg16(mReg);
      if (reg) i.rm = reg8(mRm);
      i.exec = op === 0xb6 ? byV(M.movzxGwEb, M.movzxGdEb) : byV(M.movsxGwEb, M.movsxGdEb);
      return;
    }
    case 0xb7:
    case 0xbf: {
      const reg = modrm(i);
      i.reg = o32 ? mReg : reg16(mReg);
      if (reg) i.rm = reg16(mRm);
      // With a 16-bit operand size these are plain 16-bit moves.
      i.exec = op === 0xb7 ? byV(M.movzxGwEw, M.movzxGdEw) : byV(M.movzxGwEw, M.movsxGdEw);
      return;
    }
    case 0xbc:
    case 0xbd: {
      modrm(i);
      regsV(i);
      i.op = op - 0xbc;
      i.exec = byV(B.bsf16, B.bsf32);
      return;
    }
    case 0xc0:
    case 0xc1: {
      const reg = modrm(i);
      if (op === 0xc0) regs8(i);
      else regsV(i);
      i.exec = op === 0xc0 ? B.xadd8 : byV(B.xadd16, B.xadd32);
      lockable = !reg;
      return;
    }
    case 0xc7: {
      const reg = modrm(i);
      i.exec = reg || mReg !== 1 ? udHandler : B.cmpxchg8b;
      lockable = !reg;
      return;
    }
  }
  i.exec = udHandler;
}

function readModrmRegOnly(i: Insn): void {
  const b = u8();
  i.reg = (b >> 3) & 7;
  i.rm = b & 7;
}

/** 0F 00: SLDT STR LLDT LTR VERR VERW. */
function decodeGroup6(i: Insn): void {
  const reg = modrm(i);
  if (reg) i.rm = rmV(mRm);
  switch (mReg) {
    case 0:
    case 1:
      i.op = mReg;
      i.exec = SYS.sldtStr;
      return;
    case 2:
      if (reg) i.rm = reg16(mRm);
      i.exec = SYS.lldt;
      return;
    case 3:
      if (reg) i.rm = reg16(mRm);
      i.exec = SYS.ltr;
      return;
    case 4:
    case 5:
      if (reg) i.rm = reg16(mRm);
      i.op = mReg;
      i.exec = SYS.verrVerw;
      return;
    default:
      i.exec = udHandler;
  }
}

/** 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG. */
function decodeGroup7(i: Insn): void {
  const reg = modrm(i);
  switch (mReg) {
    case 0:
    case 1:
      i.op = mReg;
      i.exec = reg ? udHandler : SYS.sgdtSidt;
      return;
    case 2:
    case 3:
      i.op = mReg;
      i.exec = reg ? udHandler : SYS.lgdtLidt;
      return;
    case 4:
      if (reg) i.rm = rmV(mRm);
      i.exec = SYS.smsw;
      return;
    case 6:
      if (reg) i.rm = reg16(mRm);
      i.exec = SYS.lmsw;
      return;
    case 7:
      i.exec = reg ? udHandler : SYS.invlpg;
      return;
    default:
      i.exec = udHandler;
  }
}
