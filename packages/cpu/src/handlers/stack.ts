/**
 * Stack instructions: PUSH/POP of registers, immediates, memory and segment registers,
 * PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE. The stack pointer is SP or ESP by SS.B; the operand size
 * picks 2- or 4-byte slots. Memory is written before ESP moves (restartable).
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import * as segmentationModule from '../segmentation.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { AC, AF, CF, CR0_PE, DF, ID, IF, IOPL, NT, OF, PF, RF, SF, SS, TF, VM, ZF } = constantsModule;
const { loadSegment } = segmentationModule;

export function pushR16(c: Cpu, i: Insn): void {
  c.push16(c.r16[i.rm]!);
}
export function pushR32(c: Cpu, i: Insn): void {
  const v = c.r32[i.rm]!;
  if (c.ssBig) {
    // ESP (SS.B = 1), the common case spelled out: one test of the stack size, not three.
    const sp = (c.r32[4]! - 4) | 0;
    c.wr32(SS, sp, v);
    c.r32[4] = sp;
  } else c.push32(v);
}
export function popR16(c: Cpu, i: Insn): void {
  const v = c.peek16(0);
  c.setSp(c.spAdd(2));
  c.r16[i.rm] = v;
}
export function popR32(c: Cpu, i: Insn): void {
  if (c.ssBig) {
    const sp = c.r32[4]!;
    const v = c.rd32(SS, sp);
    c.r32[4] = (sp + 4) | 0;
    c.r32[i.rm] = v; // after the increment: POP ESP loads the popped value
    return;
  }
  const v = c.peek32(0);
  c.setSp(c.spAdd(4));
  c.r32[i.rm] = v;
}
export function pushI16(c: Cpu, i: Insn): void {
  c.push16(i.imm);
}
export function pushI32(c: Cpu, i: Insn): void {
  c.push32(i.imm);
}
export function pushM16(c: Cpu, i: Insn): void {
  c.push16(c.rd16(i.seg, c.ea(i)));
}
export function pushM32(c: Cpu, i: Insn): void {
  c.push32(c.rd32(i.seg, c.ea(i)));
}

/** POP r/m in memory: the address is computed with ESP already incremented (SDM POP). */
export function popM16(c: Cpu, i: Insn): void {
  const old = c.getSp();
  const v = c.peek16(0);
  c.setSp(c.spAdd(2));
  try {
    c.wr16(i.seg, c.ea(i), v);
  } catch (e) {
    c.setSp(old);
    throw e;
  }
}
export function popM32(c: Cpu, i: Insn): void {
  const old = c.getSp();
  const v = c.peek32(0);
  c.setSp(c.spAdd(4));
  try {
    c.wr32(i.seg, c.ea(i), v);
  } catch (e) {
    c.setSp(old);
    throw e;
  }
}

/** PUSH Sreg (i.reg = segment number). A 32-bit push stores the selector zero-extended. */
export function pushSeg16(c: Cpu, i: Insn): void {
  c.push16(c.segSel[i.reg]!);
}
export function pushSeg32(c: Cpu, i: Insn): void {
  c.push32(c.segSel[i.reg]!);
}
export function popSeg16(c: Cpu, i: Insn): void {
  const v = c.peek16(0);
  loadSegment(c, i.reg, v);
  c.setSp(c.spAdd(2));
}
export function popSeg32(c: Cpu, i: Insn): void {
  const v = c.peek32(0) & 0xffff;
  loadSegment(c, i.reg, v);
  c.setSp(c.spAdd(4));
}

// ---- PUSHA / POPA ---------------------------------------------------------------------------------

export function pusha16(c: Cpu, _i: Insn): void {
  const sp0 = c.r16[8]!;
  for (let r = 0; r < 8; r++) {
    const v = r === 4 ? sp0 : c.r16[r * 2]!;
    c.wr16(SS, c.spAdd(-2 * (r + 1)), v);
  }
  c.setSp(c.spAdd(-16));
}
export function pusha32(c: Cpu, _i: Insn): void {
  const sp0 = c.r32[4]!;
  for (let r = 0; r < 8; r++) {
    const v = r === 4 ? sp0 : c.r32[r]!;
    c.wr32(SS, c.spAdd(-4 * (r + 1)), v);
  }
  c.setSp(c.spAdd(-32));
}
const popaTmp = new Int32Array(8);
export function popa16(c: Cpu, _i: Insn): void {
  for (let r = 7; r >= 0; r--) popaTmp[r] = c.peek16(2 * (7 - r));
  for (let r = 0; r < 8; r++) if (r !== 4) c.r16[r * 2] = popaTmp[r]!;
  c.setSp(c.spAdd(16));
}
export function popa32(c: Cpu, _i: Insn): void {
  for (let r = 7; r >= 0; r--) popaTmp[r] = c.peek32(4 * (7 - r));
  for (let r = 0; r < 8; r++) if (r !== 4) c.r32[r] = popaTmp[r]!;
  c.setSp(c.spAdd(32));
}

// ---- PUSHF / POPF ---------------------------------------------------------------------------------

/** PUSHF/POPF are IOPL-sensitive in virtual-8086 mode (CR4.VME = 0): #GP(0) when IOPL < 3. */
function checkV86Iopl(c: Cpu): void {
  if ((c.flags & VM) !== 0 && (c.flags & IOPL) !== IOPL) c.gp(0);
}

export function pushf16(c: Cpu, _i: Insn): void {
  checkV86Iopl(c);
  c.push16(c.getEflags() & 0xffff);
}
export function pushf32(c: Cpu, _i: Insn): void {
  checkV86Iopl(c);
  // The pushed image has VM and RF clear (SDM PUSHF).
  c.push32(c.getEflags() & ~(VM | RF));
}

const POPF_BASE = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID;

/** The EFLAGS bits POPF may change at the current privilege (SDM POPF; RF is always cleared). */
function popfMask(c: Cpu): number {
  let mask = POPF_BASE | RF;
  if ((c.cr0 & CR0_PE) === 0) return mask | IF | IOPL;
  const cpl = c.cpl;
  if (cpl === 0) mask |= IOPL;
  if (cpl <= ((c.flags >> 12) & 3)) mask |= IF;
  return mask;
}
export function popf16(c: Cpu, _i: Insn): void {
  checkV86Iopl(c);
  const v = c.peek16(0);
  c.setSp(c.spAdd(2));
  c.setEflags(v, popfMask(c) & 0xffff);
  c.exit = true;
}
export function popf32(c: Cpu, _i: Insn): void {
  checkV86Iopl(c);
  const v = c.peek32(0) & ~RF;
  c.setSp(c.spAdd(4));
  c.setEflags(v, popfMask(c));
  c.exit = true;
}

// ---- ENTER / LEAVE ----------------------------------------------------------------------------------

/** ENTER imm16, imm8 (SDM ENTER): i.imm = frame size, i.imm2 = nesting level. */
export function enter(c: Cpu, i: Insn): void {
  const slot = i.o32 ? 4 : 2;
  const level = i.imm2 & 31;
  const big = c.ssBig;
  let sp = c.getSp();
  let bp = big ? c.r32[5]! : c.r16[10]!;
  const push = (v: number): void => {
    sp = big ? (sp - slot) | 0 : (sp - slot) & 0xffff;
    if (slot === 4) c.wr32(SS, sp, v);
    else c.wr16(SS, sp, v);
  };
  push(i.o32 ? c.r32[5]! : c.r16[10]!);
  const frame = sp;
  if (level > 0) {
    for (let k = 1; k < level; k++) {
      bp = big ? (bp - slot) | 0 : (bp - slot) & 0xffff;
      push(slot === 4 ? c.rd32(SS, bp) : c.rd16(SS, bp));
    }
    push(frame);
  }
  const newSp = big ? (sp - i.imm) | 0 : (sp - i.imm) & 0xffff;
  // The new stack top must be writable (the 386 probes it; later parts check the limit).
  if (i.imm > 0) c.probeWrite(SS, newSp, 1);
  if (i.o32) c.r32[5] = frame;
  else c.r16[10] = frame;
  c.setSp(newSp);
}

export function leave16(c: Cpu, _i: Insn): void {
  const bp = c.ssBig ? c.r32[5]! : c.r16[10]!;
  const v = c.rd16(SS, bp);
  c.setSp(c.ssBig ? (bp + 2) | 0 : (bp + 2) & 0xffff);
  c.r16[10] = v;
}
export function leave32(c: Cpu, _i: Insn): void {
  const bp = c.ssBig ? c.r32[5]! : c.r16[10]!;
  const v = c.rd32(SS, bp);
  c.setSp(c.ssBig ? (bp + 4) | 0 : (bp + 4) & 0xffff);
  c.r32[5] = v;
}
