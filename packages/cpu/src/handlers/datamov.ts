/** Data movement: MOV, XCHG, LEA, MOVZX/MOVSX, CBW/CWD, LAHF/SAHF, XLAT, BSWAP, CMOVcc, SETcc. */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { AF, CF, FLAGS_FIXED_ONE, OF, PF, SF, ZF } = constantsModule;
const { getOF, materializeFlags, testCC } = flagsModule;

// ---- MOV -------------------------------------------------------------------------------------------

export function movR8R8(c: Cpu, i: Insn): void {
  c.r8[i.rm] = c.r8[i.reg]!;
}
export function movR16R16(c: Cpu, i: Insn): void {
  c.r16[i.rm] = c.r16[i.reg]!;
}
export function movR32R32(c: Cpu, i: Insn): void {
  c.r32[i.rm] = c.r32[i.reg]!;
}
export function movEbGbM(c: Cpu, i: Insn): void {
  c.wr8(i.seg, c.ea(i), c.r8[i.reg]!);
}
export function movEwGwM(c: Cpu, i: Insn): void {
  c.wr16(i.seg, c.ea(i), c.r16[i.reg]!);
}
export function movEdGdM(c: Cpu, i: Insn): void {
  c.wr32(i.seg, c.ea(i), c.r32[i.reg]!);
}
export function movGbEbM(c: Cpu, i: Insn): void {
  c.r8[i.reg] = c.rd8(i.seg, c.ea(i));
}
export function movGwEwM(c: Cpu, i: Insn): void {
  c.r16[i.reg] = c.rd16(i.seg, c.ea(i));
}
export function movGdEdM(c: Cpu, i: Insn): void {
  c.r32[i.reg] = c.rd32(i.seg, c.ea(i));
}
export function movR8I(c: Cpu, i: Insn): void {
  c.r8[i.rm] = i.imm;
}
export function movR16I(c: Cpu, i: Insn): void {
  c.r16[i.rm] = i.imm;
}
export function movR32I(c: Cpu, i: Insn): void {
  c.r32[i.rm] = i.imm;
}
export function movM8I(c: Cpu, i: Insn): void {
  c.wr8(i.seg, c.ea(i), i.imm);
}
export function movM16I(c: Cpu, i: Insn): void {
  c.wr16(i.seg, c.ea(i), i.imm);
}
export function movM32I(c: Cpu, i: Insn): void {
  c.wr32(i.seg, c.ea(i), i.imm);
}

// ---- LEA ---------------------------------------------------------------------------------------------

export function lea16(c: Cpu, i: Insn): void {
  c.r16[i.reg] = c.ea(i);
}
export function lea32(c: Cpu, i: Insn): void {
  c.r32[i.reg] = c.ea(i);
}

// ---- XCHG (a memory XCHG is locked on real hardware; single-threaded here) -----------------------

export function xchgR8(c: Cpu, i: Insn): void {
  const t = c.r8[i.rm]!;
  c.r8[i.rm] = c.r8[i.reg]!;
  c.r8[i.reg] = t;
}
export function xchgR16(c: Cpu, i: Insn): void {
  const t = c.r16[i.rm]!;
  c.r16[i.rm] = c.r16[i.reg]!;
  c.r16[i.reg] = t;
}
export function xchgR32(c: Cpu, i: Insn): void {
  const t = c.r32[i.rm]!;
  c.r32[i.rm] = c.r32[i.reg]!;
  c.r32[i.reg] = t;
}
export function xchgM8(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const t = c.rd8(i.seg, off);
  c.wr8(i.seg, off, c.r8[i.reg]!);
  c.r8[i.reg] = t;
}
export function xchgM16(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const t = c.rd16(i.seg, off);
  c.wr16(i.seg, off, c.r16[i.reg]!);
  c.r16[i.reg] = t;
}
export function xchgM32(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const t = c.rd32(i.seg, off);
  c.wr32(i.seg, off, c.r32[i.reg]!);
  c.r32[i.reg] = t;
}

// ---- MOVZX / MOVSX (0F B6/B7/BE/BF); i.rm < 0 means a memory source --------------------------------

export function movzxGwEb(c: Cpu, i: Insn): void {
  c.r16[i.reg] = i.rm >= 0 ? c.r8[i.rm]! : c.rd8(i.seg, c.ea(i));
}
export function movzxGdEb(c: Cpu, i: Insn): void {
  c.r32[i.reg] = i.rm >= 0 ? c.r8[i.rm]! : c.rd8(i.seg, c.ea(i));
}
export function movzxGdEw(c: Cpu, i: Insn): void {
  c.r32[i.reg] = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
}
export function movzxGwEw(c: Cpu, i: Insn): void {
  c.r16[i.reg] = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
}
export function movsxGwEb(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r8[i.rm]! : c.rd8(i.seg, c.ea(i));
  c.r16[i.reg] = (v << 24) >> 24;
}
export function movsxGdEb(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r8[i.rm]! : c.rd8(i.seg, c.ea(i));
  c.r32[i.reg] = (v << 24) >> 24;
}
export function movsxGdEw(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  c.r32[i.reg] = (v << 16) >> 16;
}

// ---- CBW/CWDE/CWD/CDQ --------------------------------------------------------------------------------

export function cbw(c: Cpu, _i: Insn): void {
  c.r16[0] = (c.r8[0]! << 24) >> 24;
}
export function cwde(c: Cpu, _i: Insn): void {
  c.r32[0] = (c.r16[0]! << 16) >> 16;
}
export function cwd(c: Cpu, _i: Insn): void {
  c.r16[4] = (c.r16[0]! & 0x8000) !== 0 ? 0xffff : 0;
}
export function cdq(c: Cpu, _i: Insn): void {
  c.r32[2] = c.r32[0]! >> 31;
}

// ---- LAHF / SAHF / SALC -----------------------------------------------------------------------------

const SAHF_MASK = SF | ZF | AF | PF | CF;

export function lahf(c: Cpu, _i: Insn): void {
  materializeFlags(c);
  c.r8[1] = (c.flags & SAHF_MASK) | FLAGS_FIXED_ONE;
}
export function sahf(c: Cpu, _i: Insn): void {
  // SF ZF AF PF CF come from AH; of the lazy flags only OF survives, so only OF is computed.
  let fl = c.flags;
  if (c.fOp !== 0) {
    fl = (fl & ~OF) | (getOF(c) << 11);
    c.fOp = 0;
  }
  c.flags = (fl & ~SAHF_MASK) | (c.r8[1]! & SAHF_MASK);
}
/** SALC (D6, undocumented on every Intel part since the 8086): AL = CF ? FF : 00. */
export function salc(c: Cpu, _i: Insn): void {
  c.r8[0] = testCC(c, 2) ? 0xff : 0;
}

// ---- XLAT: AL = [seg:(E)BX + AL] ---------------------------------------------------------------------

export function xlat(c: Cpu, i: Insn): void {
  const off = i.a32 ? (c.r32[3]! + c.r8[0]!) | 0 : (c.r16[6]! + c.r8[0]!) & 0xffff;
  c.r8[0] = c.rd8(i.seg, off);
}

// ---- BSWAP (486) ---------------------------------------------------------------------------------

export function bswap32(c: Cpu, i: Insn): void {
  const v = c.r32[i.rm]!;
  c.r32[i.rm] = ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
}
/** BSWAP with a 16-bit operand is undefined; Intel parts clear the low word. */
export function bswap16(c: Cpu, i: Insn): void {
  c.r16[i.rm] = 0;
}

// ---- SETcc / CMOVcc -----------------------------------------------------------------------------------

export function setccR(c: Cpu, i: Insn): void {
  c.r8[i.rm] = testCC(c, i.op) ? 1 : 0;
}
export function setccM(c: Cpu, i: Insn): void {
  c.wr8(i.seg, c.ea(i), testCC(c, i.op) ? 1 : 0);
}
/** CMOVcc reads its source even when the condition is false (so a bad address faults). */
export function cmov16(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  if (testCC(c, i.op)) c.r16[i.reg] = v;
}
export function cmov32(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r32[i.rm]! : c.rd32(i.seg, c.ea(i));
  if (testCC(c, i.op)) c.r32[i.reg] = v;
}

