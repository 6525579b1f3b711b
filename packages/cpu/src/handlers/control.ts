/**
 * Near and far control transfer handlers: JMP, Jcc, LOOP/JCXZ, CALL, RET, RETF, IRET, INT n,
 * INT3, INTO, INT1, BOUND. A near target beyond the CS limit raises #GP(0) at the branch, as the
 * SDM specifies (the branch faults, not the target).
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as farcontrolModule from '../farcontrol.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';
import * as interruptsModule from '../interrupts.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { CS, EXC_BP, EXC_BR, EXC_DB, EXC_OF, IOPL, SS, VM } = constantsModule;
const { farCall, farJump, farReturn, iret } = farcontrolModule;
const { getOF, testCC } = flagsModule;
const { deliverInterrupt, INT_ICEBP, INT_SOFTWARE } = interruptsModule;

// ---- target prediction for indirect transfers ---------------------------------------------------
//
// The run loop follows `i.target` when a branch lands on `i.targetOff` in the same linear page, and
// otherwise looks the target up (page translation, code-page map, record map) and links it as
// the new `i.target`. RET and indirect CALL/JMP land on several places in turn (the return sites
// of a recursive function, a dispatch table), so the single link keeps missing. These handlers
// remember the records the loop linked for them in a small table keyed by page offset and CS.D,
// and point `i.target` at the one for the address they are about to jump to. A record is only used
// if it belongs to the same code-page object as the branch (so to the same physical page, and
// not to a page whose records were dropped since) and sits at exactly that offset, which is all
// the loop's own link guarantees.

const SITES: (Insn | null)[] = new Array<Insn | null>(0x2000).fill(null);

function predict(c: Cpu, i: Insn, t: number): void {
  const k = c.code32 ? 0x1000 : 0;
  const cur = i.target;
  if (cur !== null) SITES[i.targetOff | k] = cur;
  const off = (c.segBase[CS]! + t) & 0xfff;
  const s = SITES[off | k]!;
  if (s !== null && s !== cur && s.page === i.page && s.pageOff === off) {
    i.target = s;
    i.targetOff = off;
  }
}

function go16(c: Cpu, t: number): void {
  if (t > c.segLimit[CS]!) c.gp(0);
  c.eip = t;
}
function go32(c: Cpu, t: number): void {
  if (t > c.segLimit[CS]!) c.gp(0);
  c.eip = t;
}

// ---- JMP / Jcc -------------------------------------------------------------------------------------

export function jmpRel16(c: Cpu, i: Insn): void {
  go16(c, (c.eip + i.imm) & 0xffff);
}
export function jmpRel32(c: Cpu, i: Insn): void {
  go32(c, (c.eip + i.imm) >>> 0);
}
export function jccRel16(c: Cpu, i: Insn): void {
  if (testCC(c, i.op)) go16(c, (c.eip + i.imm) & 0xffff);
}
export function jccRel32(c: Cpu, i: Insn): void {
  if (testCC(c, i.op)) go32(c, (c.eip + i.imm) >>> 0);
}
export function jmpEw(c: Cpu, i: Insn): void {
  go16(c, i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i)));
}
export function jmpEd(c: Cpu, i: Insn): void {
  const t = (i.rm >= 0 ? c.r32[i.rm]! : c.rd32(i.seg, c.ea(i))) >>> 0;
  go32(c, t);
  predict(c, i, t);
}

/** LOOPNE (op 0), LOOPE (1), LOOP (2), JCXZ/JECXZ (3); the counter is CX or ECX by address size. */
export function loopOrJcxz(c: Cpu, i: Insn): void {
  let count = i.a32 ? c.r32[1]! : c.r16[2]!;
  if (i.op !== 3) count = i.a32 ? (count - 1) | 0 : (count - 1) & 0xffff;
  let take: boolean;
  switch (i.op) {
    case 0:
      take = count !== 0 && !testCC(c, 4);
      break;
    case 1:
      take = count !== 0 && testCC(c, 4);
      break;
    case 2:
      take = count !== 0;
      break;
    default:
      take = count === 0;
      break;
  }
  if (take) {
    const t = i.o32 ? (c.eip + i.imm) >>> 0 : (c.eip + i.imm) & 0xffff;
    if (t > c.segLimit[CS]!) c.gp(0);
    c.eip = t;
  }
  // The counter is committed after the only possible fault (the target check).
  if (i.op !== 3) {
    if (i.a32) c.r32[1] = count;
    else c.r16[2] = count;
  }
}

// ---- CALL / RET near -------------------------------------------------------------------------------

export function callRel16(c: Cpu, i: Insn): void {
  const t = (c.eip + i.imm) & 0xffff;
  if (t > c.segLimit[CS]!) c.gp(0);
  c.push16(c.eip);
  c.eip = t;
}
export function callRel32(c: Cpu, i: Insn): void {
  const t = (c.eip + i.imm) >>> 0;
  if (t > c.segLimit[CS]!) c.gp(0);
  if (c.ssBig) {
    const sp = (c.r32[4]! - 4) | 0;
    c.wr32(SS, sp, c.eip);
    c.r32[4] = sp;
  } else c.push32(c.eip);
  c.eip = t;
}
export function callEw(c: Cpu, i: Insn): void {
  const t = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  if (t > c.segLimit[CS]!) c.gp(0);
  c.push16(c.eip);
  c.eip = t;
}
export function callEd(c: Cpu, i: Insn): void {
  const t = (i.rm >= 0 ? c.r32[i.rm]! : c.rd32(i.seg, c.ea(i))) >>> 0;
  if (t > c.segLimit[CS]!) c.gp(0);
  c.push32(c.eip);
  c.eip = t;
  predict(c, i, t);
}
/** RET / RET imm16 (imm = bytes to release after popping). */
export function ret16(c: Cpu, i: Insn): void {
  const t = c.peek16(0);
  if (t > c.segLimit[CS]!) c.gp(0);
  c.setSp(c.spAdd(2 + i.imm));
  c.eip = t;
}
export function ret32(c: Cpu, i: Insn): void {
  let t: number;
  if (c.ssBig) {
    const sp = c.r32[4]!;
    t = c.rd32(SS, sp) >>> 0;
    if (t > c.segLimit[CS]!) c.gp(0);
    c.r32[4] = (sp + 4 + i.imm) | 0;
  } else {
    t = c.peek32(0) >>> 0;
    if (t > c.segLimit[CS]!) c.gp(0);
    c.setSp(c.spAdd(4 + i.imm));
  }
  c.eip = t;
  predict(c, i, t);
}

// ---- far -------------------------------------------------------------------------------------------

/** JMP/CALL ptr16:16/32 (EA, 9A): offset in imm, selector in imm2. op 0 = JMP, 1 = CALL. */
export function farDirect(c: Cpu, i: Insn): void {
  if (i.op === 0) farJump(c, i.imm2, i.imm, i.o32);
  else farCall(c, i.imm2, i.imm, i.o32);
  c.exit = true;
}
/** JMP/CALL m16:16/32 (FF /5, FF /3). op 0 = JMP, 1 = CALL. */
export function farIndirect(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  let target: number;
  let sel: number;
  if (i.o32) {
    target = c.rd32(i.seg, off);
    sel = c.rd16(i.seg, (off + 4) | 0);
  } else {
    target = c.rd16(i.seg, off);
    sel = c.rd16(i.seg, i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff);
  }
  if (i.op === 0) farJump(c, sel, target, i.o32);
  else farCall(c, sel, target, i.o32);
  c.exit = true;
}
export function retFar(c: Cpu, i: Insn): void {
  farReturn(c, i.o32, i.imm);
  c.exit = true;
}
export function iretHandler(c: Cpu, i: Insn): void {
  iret(c, i.o32);
  c.exit = true;
}

// ---- software interrupts ------------------------------------------------------------------------

export function intN(c: Cpu, i: Insn): void {
  // IOPL-sensitive in virtual-8086 mode (CR4.VME = 0; INT3 and INTO are not): #GP(0).
  if ((c.flags & VM) !== 0 && (c.flags & IOPL) !== IOPL) c.gp(0);
  deliverInterrupt(c, i.imm, INT_SOFTWARE, false, 0);
}
export function int3(c: Cpu, _i: Insn): void {
  deliverInterrupt(c, EXC_BP, INT_SOFTWARE, false, 0);
}
export function into(c: Cpu, _i: Insn): void {
  if (getOF(c) !== 0) deliverInterrupt(c, EXC_OF, INT_SOFTWARE, false, 0);
}
/** INT1 / ICEBP (F1): a #DB trap without the gate DPL check. */
export function int1(c: Cpu, _i: Insn): void {
  deliverInterrupt(c, EXC_DB, INT_ICEBP, false, 0);
}

/** BOUND r, m16&16 / m32&32: #BR (a fault) if the signed index is outside [lower, upper]. */
export function bound16(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const lo = (c.rd16(i.seg, off) << 16) >> 16;
  const hi = (c.rd16(i.seg, i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff) << 16) >> 16;
  const v = (c.r16[i.reg]! << 16) >> 16;
  if (v < lo || v > hi) c.raise(EXC_BR);
}
export function bound32(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const lo = c.rd32(i.seg, off);
  const hi = c.rd32(i.seg, (off + 4) | 0);
  const v = c.r32[i.reg]!;
  if (v < lo || v > hi) c.raise(EXC_BR);
}
