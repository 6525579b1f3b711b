/**
 * Interrupt and exception delivery (Intel SDM vol. 3A §6.12 and vol. 2 "INT n/INTO/INT3"):
 * through the real-mode IVT, or the protected-mode IDT via interrupt and trap gates, with a stack
 * switch from the TSS when the handler is more privileged (from virtual-8086 mode with the
 * 9-slot frame, SDM vol. 3A §20.3.1.1), and task gates (taskswitch.ts).
 *
 * Delivery is transactional: every read, check and push happens before CS, SS, ESP, EIP, CPL or
 * EFLAGS change, so a fault (or an absent page) during delivery leaves the state as it was.
 */
import * as constantsModule from './constants.ts';
import type { Cpu } from './cpu.ts';
import * as taskSwitchModule from './taskswitch.ts';
import * as tssModule from './tss.ts';
import { Descriptor } from './segmentation.ts';
import * as segmentationModule from './segmentation.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const {
  ATTR_DB, CS, DS, ES, FS, GS, EXC_GP, EXC_NP, EXC_SS, IF, NT, RF, SS, SYS_INT_GATE16, SYS_INT_GATE32, SYS_TASK_GATE,
  SYS_TRAP_GATE16, SYS_TRAP_GATE32, TF, VM, AC, CR0_PE
} = constantsModule;
const { interruptTaskSwitch } = taskSwitchModule;
const { checkTssStackSegment, readTssStack, tssStack } = tssModule;
const { fetchDescriptor, markAccessed, stackFits } = segmentationModule;

/** A fault or trap detected by the processor (errors get EXT=1 if delivery fails). */
export const INT_EXCEPTION = 0;
/** INT n / INT3 / INTO: the gate's DPL is checked against CPL. */
export const INT_SOFTWARE = 1;
/** A hardware interrupt from the PIC. */
export const INT_EXTERNAL = 2;
/** INT1 (ICEBP, F1): like an exception, no DPL check. */
export const INT_ICEBP = 3;

const csDesc = new Descriptor();
const ssDesc = new Descriptor();

export function deliverExternal(c: Cpu, vector: number): void {
  deliverInterrupt(c, vector, INT_EXTERNAL, false, 0);
}

/**
 * Delivers interrupt `vector`. EIP must already be the return address (the faulting instruction
 * for faults, the next one for traps and INT n).
 */
export function deliverInterrupt(c: Cpu, vector: number, kind: number, hasError: boolean, errorCode: number): void {
  if ((c.cr0 & CR0_PE) === 0) deliverReal(c, vector);
  else deliverProtected(c, vector, kind, hasError, errorCode);
  c.halted = false;
}

/** Real mode (SDM vol. 2 INT n, "REAL-ADDRESS-MODE"): IVT entry of 4 bytes, 16-bit frame. */
function deliverReal(c: Cpu, vector: number): void {
  const entry = vector * 4;
  if (entry + 3 > c.idtrLimit) c.raise(EXC_GP, vector * 8 + 2);
  const ip = c.mmu.readSys16((c.idtrBase + entry) | 0);
  const cs = c.mmu.readSys16((c.idtrBase + entry + 2) | 0);
  const flags = c.getEflags();
  const sp1 = c.spAdd(-2);
  const sp2 = c.spAdd(-4);
  const sp3 = c.spAdd(-6);
  c.wr16(SS, sp1, flags);
  c.wr16(SS, sp2, c.segSel[CS]!);
  c.wr16(SS, sp3, c.eip);
  c.setSp(sp3);
  c.flags &= ~(IF | TF | AC | RF);
  c.setSegReal(CS, cs);
  c.eip = ip;
  c.exit = true;
}

function deliverProtected(c: Cpu, vector: number, kind: number, hasError: boolean, errorCode: number): void {
  const ext = kind === INT_SOFTWARE ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > c.idtrLimit) c.raise(EXC_GP, idtErr);
  const gateAddr = (c.idtrBase + vector * 8) | 0;
  const lo = c.mmu.readSys32(gateAddr);
  const hi = c.mmu.readSys32((gateAddr + 4) | 0);
  const type = (hi >>> 8) & 0x1f; // includes S, which must be 0
  const dpl = (hi >>> 13) & 3;
  if (
    type !== SYS_INT_GATE32 && type !== SYS_TRAP_GATE32 && type !== SYS_INT_GATE16 &&
    type !== SYS_TRAP_GATE16 && type !== SYS_TASK_GATE
  ) {
    c.raise(EXC_GP, idtErr);
  }
  const v86 = (c.flags & VM) !== 0;
  // INT n in virtual-8086 mode is IOPL-sensitive (CR4.VME = 0): #GP(0) to the monitor.
  if (kind === INT_SOFTWARE && dpl < c.cpl) c.raise(EXC_GP, vector * 8 + 2);
  if ((hi & 0x8000) === 0) c.raise(EXC_NP, idtErr);
  if (type === SYS_TASK_GATE) {
    // A fault's RF goes into the interrupted task's saved EFLAGS (see isFaultClass).
    if (kind === INT_EXCEPTION && isFaultClass(vector)) c.flags |= RF;
    interruptTaskSwitch(c, lo, ext, hasError, errorCode);
    return;
  }

  const gate32 = type === SYS_INT_GATE32 || type === SYS_TRAP_GATE32;
  const sel = lo >>> 16;
  const offset = gate32 ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff;
  if ((sel & 0xfffc) === 0) c.raise(EXC_GP, ext);
  if (!fetchDescriptor(c, sel, csDesc)) c.raise(EXC_GP, (sel & 0xfffc) + ext);
  if (!csDesc.isCode || csDesc.dpl > c.cpl) c.raise(EXC_GP, (sel & 0xfffc) + ext);
  if (!csDesc.present) c.raise(EXC_NP, (sel & 0xfffc) + ext);

  let eflags = c.getEflags();
  const slot = gate32 ? 4 : 2;
  const frameWords = hasError ? 4 : 3;
  const newCpl = csDesc.isConforming ? c.cpl : csDesc.dpl;
  // From virtual-8086 mode only a ring-0 non-conforming handler will do (SDM INT pseudo-code).
  if (v86 && (csDesc.isConforming || csDesc.dpl !== 0)) c.raise(EXC_GP, (sel & 0xfffc) + ext);
  if (kind === INT_EXCEPTION && isFaultClass(vector)) eflags |= RF;

  if (newCpl < c.cpl) {
    // Inter-privilege: new SS:ESP from the TSS for the handler's privilege level.
    readTssStack(c, newCpl, ext);
    const newSs = tssStack.ss;
    const newSp = tssStack.sp;
    checkTssStackSegment(c, newSs, newCpl, ext, ssDesc);
    const big = (ssDesc.attr & ATTR_DB) !== 0;
    const bytes = (frameWords + (v86 ? 6 : 2)) * slot;
    if (!stackFits(ssDesc.limit, ssDesc.attr, big, newSp, bytes)) c.raise(EXC_SS, (newSs & 0xfffc) + ext);
    if (offset > csDesc.limit) c.raise(EXC_GP, ext);
    const top = big ? newSp : newSp & 0xffff;
    let p = top;
    const mmu = c.mmu;
    const base = ssDesc.base;
    // Supervisor pushes (new CPL < 3): the handler's stack is written with ring-0..2 rights.
    if (v86) {
      p -= slot;
      pushSys(mmu, base, p, c.segSel[GS]!, slot, big);
      p -= slot;
      pushSys(mmu, base, p, c.segSel[FS]!, slot, big);
      p -= slot;
      pushSys(mmu, base, p, c.segSel[DS]!, slot, big);
      p -= slot;
      pushSys(mmu, base, p, c.segSel[ES]!, slot, big);
    }
    p -= slot;
    pushSys(mmu, base, p, c.segSel[SS]!, slot, big);
    p -= slot;
    pushSys(mmu, base, p, slot === 4 ? c.r32[4]! : c.r16[8]!, slot, big);
    p -= slot;
    pushSys(mmu, base, p, eflags, slot, big);
    p -= slot;
    pushSys(mmu, base, p, c.segSel[CS]!, slot, big);
    p -= slot;
    pushSys(mmu, base, p, c.eip, slot, big);
    if (hasError) {
      p -= slot;
      pushSys(mmu, base, p, errorCode, slot, big);
    }
    markAccessed(c, ssDesc);
    markAccessed(c, csDesc);
    // Commit.
    if (v86) {
      // Leave V86 first so the caches below are checked as protected-mode segments.
      c.flags &= ~VM;
      c.setSegNull(ES, 0);
      c.setSegNull(DS, 0);
      c.setSegNull(FS, 0);
      c.setSegNull(GS, 0);
    }
    c.setSegCache(SS, (newSs & 0xfffc) | newCpl, ssDesc.base, ssDesc.limit, ssDesc.attr);
    c.setSp(big ? p | 0 : p & 0xffff);
    c.setSegCache(CS, (sel & 0xfffc) | newCpl, csDesc.base, csDesc.limit, csDesc.attr);
    c.cpl = newCpl;
  } else {
    // Same privilege: the frame goes on the current stack.
    if (offset > csDesc.limit) c.raise(EXC_GP, ext);
    const bytes = frameWords * slot;
    const spTop = c.getSp();
    const spNew = c.spAdd(-bytes);
    c.probeWrite(SS, spNew, bytes);
    let p = spTop;
    p = push(c, p, eflags, slot);
    p = push(c, p, c.segSel[CS]!, slot);
    p = push(c, p, c.eip, slot);
    if (hasError) p = push(c, p, errorCode, slot);
    markAccessed(c, csDesc);
    c.setSp(spNew);
    c.setSegCache(CS, (sel & 0xfffc) | c.cpl, csDesc.base, csDesc.limit, csDesc.attr);
  }
  c.eip = offset;
  let clear = TF | NT | RF | VM;
  if (type === SYS_INT_GATE32 || type === SYS_INT_GATE16) clear |= IF;
  c.flags &= ~clear;
  c.exit = true;
}

/**
 * Fault-class exceptions push EFLAGS with RF = 1 so that the faulting instruction, re-run by IRET,
 * is not stopped again by an instruction breakpoint (SDM vol. 3A §17.3.1.1; Bochs does the same
 * for every fault but #DB). #DF is an abort, #BP/#OF traps.
 */
function isFaultClass(v: number): boolean {
  return v === 0 || v === 5 || v === 6 || v === 7 || (v >= 10 && v <= 14) || v === 16 || v === 17;
}

/** Pushes one slot below `p` on the current stack (already probed); returns the new offset. */
function push(c: Cpu, p: number, v: number, slot: number): number {
  const sp = c.ssBig ? (p - slot) | 0 : (p - slot) & 0xffff;
  if (slot === 4) c.wr32(SS, sp, v);
  else c.wr16(SS, sp, v);
  return sp;
}

function pushSys(mmu: Cpu['mmu'], base: number, p: number, v: number, slot: number, big: boolean): void {
  const off = big ? p : p & 0xffff;
  const lin = (base + off) | 0;
  if (slot === 4) mmu.writeSys32(lin, v);
  else mmu.writeSys16(lin, v);
}

