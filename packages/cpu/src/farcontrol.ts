/**
 * Far control transfers: JMP/CALL ptr, RETF, IRET (Intel SDM vol. 2 pseudo-code of each;
 * vol. 3A §5.8 privilege-level changes, call gates). Every check and every stack write happens
 * before CS/SS/ESP/EIP/CPL change. Task switches (TSS or task-gate targets, IRET with NT=1) are
 * done by taskswitch.ts; IRET also enters and runs in virtual-8086 mode (SDM vol. 3A §20.2-20.3).
 */
import * as constantsModule from './constants.ts';
import type { Cpu } from './cpu.ts';
import { Descriptor } from './segmentation.ts';
import * as segmentationModule from './segmentation.ts';
import * as tssModule from './tss.ts';
import * as taskSwitchModule from './taskswitch.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const {
  AC, AF, ATTR_DB, ATTR_DPL_SHIFT, ATTR_REAL_CODE, ATTR_REAL_DATA, CF, CR0_PE, CS, DF, DS, ES, FS, GS, EXC_NP, EXC_SS, ID, IF, IOPL, NT, OF, PF, RF, SF, SS,
  SYS_CALL_GATE16, SYS_CALL_GATE32, SYS_TASK_GATE, SYS_TSS16_AVAIL, SYS_TSS32_AVAIL, TF, VM, ZF
} = constantsModule;
const { farTaskSwitch, iretTaskSwitch, SWITCH_CALL, SWITCH_JMP } = taskSwitchModule;
const {
  checkStackSegment, fetchDescriptor, markAccessed, nullInaccessibleSegments, stackFits
} = segmentationModule;
const { checkTssStackSegment, readTssStack, tssStack } = tssModule;

const csDesc = new Descriptor();
const ssDesc = new Descriptor();
const gateDesc = new Descriptor();
/** Call-gate parameters copied between stacks (at most 31). */
const params = new Int32Array(32);

function isRealOrV86(c: Cpu): boolean {
  return (c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0;
}

/** Checks a code-segment target of a direct far JMP/CALL (SDM: "IF segment type is code"). */
function checkDirectCodeTarget(c: Cpu, sel: number, d: Descriptor): void {
  const cpl = c.cpl;
  if (d.isConforming) {
    if (d.dpl > cpl) c.gp(sel & 0xfffc);
  } else if ((sel & 3) > cpl || d.dpl !== cpl) {
    c.gp(sel & 0xfffc);
  }
  if (!d.present) c.raise(EXC_NP, sel & 0xfffc);
}

/** Fetches the descriptor for a far JMP/CALL selector; returns the system type or -1 for code. */
function fetchFarTarget(c: Cpu, sel: number, d: Descriptor): number {
  if ((sel & 0xfffc) === 0) c.gp(0);
  if (!fetchDescriptor(c, sel, d)) c.gp(sel & 0xfffc);
  if (d.isSegment) {
    if (!d.isCode) c.gp(sel & 0xfffc);
    return -1;
  }
  return d.type;
}

// ==== far JMP =====================================================================================

export function farJump(c: Cpu, sel: number, off: number, o32: boolean): void {
  if (isRealOrV86(c)) {
    if (off >>> 0 > c.segLimit[CS]!) c.gp(0);
    c.setSegReal(CS, sel);
    c.eip = off >>> 0;
    return;
  }
  const type = fetchFarTarget(c, sel, csDesc);
  if (type < 0) {
    checkDirectCodeTarget(c, sel, csDesc);
    const eip = o32 ? off >>> 0 : off & 0xffff;
    if (eip > csDesc.limit) c.gp(0);
    markAccessed(c, csDesc);
    c.setSegCache(CS, (sel & 0xfffc) | c.cpl, csDesc.base, csDesc.limit, csDesc.attr);
    c.eip = eip;
    return;
  }
  if (type === SYS_CALL_GATE16 || type === SYS_CALL_GATE32) {
    gateDesc.parse(csDesc.lo, csDesc.hi);
    gateDesc.addr = csDesc.addr;
    checkGate(c, sel, gateDesc);
    const target = gateDesc.lo >>> 16;
    const eip = gateOffset(gateDesc);
    fetchGateTarget(c, target, csDesc);
    // A JMP through a call gate never changes privilege.
    if (csDesc.isConforming ? csDesc.dpl > c.cpl : csDesc.dpl !== c.cpl) c.gp(target & 0xfffc);
    if (!csDesc.present) c.raise(EXC_NP, target & 0xfffc);
    if (eip > csDesc.limit) c.gp(0);
    markAccessed(c, csDesc);
    c.setSegCache(CS, (target & 0xfffc) | c.cpl, csDesc.base, csDesc.limit, csDesc.attr);
    c.eip = eip;
    return;
  }
  if (type === SYS_TASK_GATE || type === SYS_TSS16_AVAIL || type === SYS_TSS32_AVAIL) {
    farTaskSwitch(c, sel, csDesc, SWITCH_JMP);
    return;
  }
  c.gp(sel & 0xfffc);
}

function checkGate(c: Cpu, sel: number, g: Descriptor): void {
  if (g.dpl < c.cpl || g.dpl < (sel & 3)) c.gp(sel & 0xfffc);
  if (!g.present) c.raise(EXC_NP, sel & 0xfffc);
}

function gateOffset(g: Descriptor): number {
  const low = g.lo & 0xffff;
  return g.type === SYS_CALL_GATE32 ? (low | (g.hi & 0xffff0000)) >>> 0 : low;
}

function fetchGateTarget(c: Cpu, target: number, d: Descriptor): void {
  if ((target & 0xfffc) === 0) c.gp(0);
  if (!fetchDescriptor(c, target, d)) c.gp(target & 0xfffc);
  if (!d.isCode || d.dpl > c.cpl) c.gp(target & 0xfffc);
}

// ==== far CALL ===================================================================================

export function farCall(c: Cpu, sel: number, off: number, o32: boolean): void {
  const slot = o32 ? 4 : 2;
  if (isRealOrV86(c)) {
    const eip = o32 ? off >>> 0 : off & 0xffff;
    if (eip > c.segLimit[CS]!) c.gp(0);
    pushPair(c, c.segSel[CS]!, c.eip, slot);
    c.setSegReal(CS, sel);
    c.eip = eip;
    return;
  }
  const type = fetchFarTarget(c, sel, csDesc);
  if (type < 0) {
    checkDirectCodeTarget(c, sel, csDesc);
    const eip = o32 ? off >>> 0 : off & 0xffff;
    if (eip > csDesc.limit) c.gp(0);
    pushPair(c, c.segSel[CS]!, c.eip, slot);
    markAccessed(c, csDesc);
    c.setSegCache(CS, (sel & 0xfffc) | c.cpl, csDesc.base, csDesc.limit, csDesc.attr);
    c.eip = eip;
    return;
  }
  if (type === SYS_CALL_GATE16 || type === SYS_CALL_GATE32) {
    callGate(c, sel);
    return;
  }
  if (type === SYS_TASK_GATE || type === SYS_TSS16_AVAIL || type === SYS_TSS32_AVAIL) {
    farTaskSwitch(c, sel, csDesc, SWITCH_CALL);
    return;
  }
  c.gp(sel & 0xfffc);
}

/** Pushes CS then EIP (restartable: both writes before ESP moves). */
function pushPair(c: Cpu, cs: number, eip: number, slot: number): void {
  const sp1 = c.spAdd(-slot);
  const sp2 = c.spAdd(-2 * slot);
  if (slot === 4) {
    c.wr32(SS, sp1, cs);
    c.wr32(SS, sp2, eip);
  } else {
    c.wr16(SS, sp1, cs);
    c.wr16(SS, sp2, eip);
  }
  c.setSp(sp2);
}

/** CALL through a call gate (SDM vol. 3A §5.8.5-5.8.6), with a stack switch when more privileged. */
function callGate(c: Cpu, sel: number): void {
  const g = gateDesc;
  g.parse(csDesc.lo, csDesc.hi);
  g.addr = csDesc.addr;
  checkGate(c, sel, g);
  const target = g.lo >>> 16;
  const eip = gateOffset(g);
  const gate32 = g.type === SYS_CALL_GATE32;
  const slot = gate32 ? 4 : 2;
  fetchGateTarget(c, target, csDesc);
  if (!csDesc.present) c.raise(EXC_NP, target & 0xfffc);
  if (eip > csDesc.limit) c.gp(0);
  const cpl = c.cpl;
  if (!csDesc.isConforming && csDesc.dpl < cpl) {
    const newCpl = csDesc.dpl;
    readTssStack(c, newCpl, 0);
    const newSs = tssStack.ss;
    const newSp = tssStack.sp;
    checkTssStackSegment(c, newSs, newCpl, 0, ssDesc);
    const count = g.hi & 0x1f;
    // Read the parameters from the caller's stack first (they may fault).
    for (let k = 0; k < count; k++) {
      params[k] = slot === 4 ? c.peek32(k * 4) : c.peek16(k * 2);
    }
    const big = (ssDesc.attr & ATTR_DB) !== 0;
    const bytes = (4 + count) * slot;
    if (!stackFits(ssDesc.limit, ssDesc.attr, big, newSp, bytes)) c.raise(EXC_SS, newSs & 0xfffc);
    let p = big ? newSp : newSp & 0xffff;
    const put = (v: number): void => {
      p -= slot;
      const lin = (ssDesc.base + (big ? p : p & 0xffff)) | 0;
      if (slot === 4) c.mmu.writeSys32(lin, v);
      else c.mmu.writeSys16(lin, v);
    };
    put(c.segSel[SS]!);
    put(slot === 4 ? c.r32[4]! : c.r16[8]!);
    for (let k = count - 1; k >= 0; k--) put(params[k]!);
    put(c.segSel[CS]!);
    put(c.eip);
    markAccessed(c, ssDesc);
    markAccessed(c, csDesc);
    c.setSegCache(SS, (newSs & 0xfffc) | newCpl, ssDesc.base, ssDesc.limit, ssDesc.attr);
    c.setSp(big ? p | 0 : p & 0xffff);
    c.setSegCache(CS, (target & 0xfffc) | newCpl, csDesc.base, csDesc.limit, csDesc.attr);
    c.cpl = newCpl;
    c.eip = eip;
    return;
  }
  pushPair(c, c.segSel[CS]!, c.eip, slot);
  markAccessed(c, csDesc);
  c.setSegCache(CS, (target & 0xfffc) | cpl, csDesc.base, csDesc.limit, csDesc.attr);
  c.eip = eip;
}

// ==== RETF ========================================================================================

/** Checks the code selector popped by RETF/IRET (SDM RET: "return code segment checks"). */
function checkReturnCode(c: Cpu, sel: number, d: Descriptor): void {
  if ((sel & 0xfffc) === 0) c.gp(0);
  if (!fetchDescriptor(c, sel, d)) c.gp(sel & 0xfffc);
  const rpl = sel & 3;
  if (!d.isCode || rpl < c.cpl) c.gp(sel & 0xfffc);
  if (d.isConforming ? d.dpl > rpl : d.dpl !== rpl) c.gp(sel & 0xfffc);
  if (!d.present) c.raise(EXC_NP, sel & 0xfffc);
}

export function farReturn(c: Cpu, o32: boolean, imm: number): void {
  const slot = o32 ? 4 : 2;
  const eip = o32 ? c.peek32(0) >>> 0 : c.peek16(0);
  const sel = (o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  if (isRealOrV86(c)) {
    if (eip > c.segLimit[CS]!) c.gp(0);
    c.setSp(c.spAdd(2 * slot + imm));
    c.setSegReal(CS, sel);
    c.eip = eip;
    return;
  }
  checkReturnCode(c, sel, csDesc);
  const rpl = sel & 3;
  if (rpl === c.cpl) {
    if (eip > csDesc.limit) c.gp(0);
    markAccessed(c, csDesc);
    c.setSp(c.spAdd(2 * slot + imm));
    c.setSegCache(CS, sel, csDesc.base, csDesc.limit, csDesc.attr);
    c.eip = eip;
    return;
  }
  // Return to an outer privilege level: the caller's SS:ESP sit above the parameters.
  const at = 2 * slot + imm;
  const newSp = o32 ? c.peek32(at) >>> 0 : c.peek16(at);
  const newSs = (o32 ? c.peek32(at + 4) : c.peek16(at + 2)) & 0xffff;
  checkStackSegment(c, newSs, rpl, ssDesc);
  if (eip > csDesc.limit) c.gp(0);
  markAccessed(c, csDesc);
  markAccessed(c, ssDesc);
  c.setSegCache(CS, sel, csDesc.base, csDesc.limit, csDesc.attr);
  c.cpl = rpl;
  c.setSegCache(SS, newSs, ssDesc.base, ssDesc.limit, ssDesc.attr);
  c.setSp(c.ssBig ? (newSp + imm) | 0 : (newSp + imm) & 0xffff);
  c.eip = eip;
  nullInaccessibleSegments(c);
}

// ==== IRET ==========================================================================================

const FLAGS_ALWAYS = CF | PF | AF | ZF | SF | TF | DF | OF | NT;

export function iret(c: Cpu, o32: boolean): void {
  const slot = o32 ? 4 : 2;
  if ((c.cr0 & CR0_PE) === 0) {
    const eip = o32 ? c.peek32(0) >>> 0 : c.peek16(0);
    const sel = (o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
    const fl = o32 ? c.peek32(8) : c.peek16(4);
    if (eip > c.segLimit[CS]!) c.gp(0);
    c.setSp(c.spAdd(3 * slot));
    c.setSegReal(CS, sel);
    c.eip = eip;
    // Real mode: every flag but VM/VIF/VIP (SDM IRET, "REAL-ADDRESS-MODE").
    if (o32) c.setEflags(fl, 0x257fd5);
    else c.setEflags(fl, 0x7fd5);
    c.exit = true;
    return;
  }
  if ((c.flags & VM) !== 0) {
    iretV86(c, o32);
    return;
  }
  if ((c.flags & NT) !== 0) {
    iretTaskSwitch(c);
    return;
  }
  const eip = o32 ? c.peek32(0) >>> 0 : c.peek16(0);
  const sel = (o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  const fl = o32 ? c.peek32(8) : c.peek16(4);
  if (o32 && (fl & VM) !== 0 && c.cpl === 0) {
    iretToV86(c, eip, sel, fl);
    return;
  }
  checkReturnCode(c, sel, csDesc);
  const rpl = sel & 3;
  const oldCpl = c.cpl;
  let mask = FLAGS_ALWAYS;
  if (o32) mask |= RF | AC | ID;
  if (oldCpl === 0) mask |= IOPL;
  if (oldCpl <= ((c.flags >> 12) & 3)) mask |= IF;
  if (rpl === oldCpl) {
    if (eip > csDesc.limit) c.gp(0);
    markAccessed(c, csDesc);
    c.setSp(c.spAdd(3 * slot));
    c.setSegCache(CS, sel, csDesc.base, csDesc.limit, csDesc.attr);
    c.eip = eip;
    c.setEflags(fl, mask);
    c.exit = true;
    return;
  }
  const newSp = o32 ? c.peek32(3 * slot) >>> 0 : c.peek16(3 * slot);
  const newSs = (o32 ? c.peek32(16) : c.peek16(8)) & 0xffff;
  checkStackSegment(c, newSs, rpl, ssDesc);
  if (eip > csDesc.limit) c.gp(0);
  markAccessed(c, csDesc);
  markAccessed(c, ssDesc);
  c.setSegCache(CS, sel, csDesc.base, csDesc.limit, csDesc.attr);
  c.cpl = rpl;
  c.setSegCache(SS, newSs, ssDesc.base, ssDesc.limit, ssDesc.attr);
  c.setSp(c.ssBig ? newSp | 0 : newSp & 0xffff);
  c.eip = eip;
  c.setEflags(fl, mask);
  nullInaccessibleSegments(c);
  c.exit = true;
}


/**
 * IRET inside virtual-8086 mode (SDM IRET "VIRTUAL-8086-MODE", CR4.VME = 0): a real-mode style
 * return when IOPL = 3 that cannot change IOPL (or VM); #GP(0) to the monitor when IOPL < 3.
 */
function iretV86(c: Cpu, o32: boolean): void {
  if (((c.flags >> 12) & 3) !== 3) c.gp(0);
  const slot = o32 ? 4 : 2;
  const eip = o32 ? c.peek32(0) >>> 0 : c.peek16(0);
  const sel = (o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  const fl = o32 ? c.peek32(8) : c.peek16(4);
  if (eip > c.segLimit[CS]!) c.gp(0);
  c.setSp(c.spAdd(3 * slot));
  c.setSegReal(CS, sel);
  c.eip = eip;
  const mask = FLAGS_ALWAYS | IF | (o32 ? RF | AC | ID : 0);
  c.setEflags(fl, mask);
}

/**
 * IRET at CPL 0 whose EFLAGS image has VM = 1 (SDM IRET "RETURN-TO-VIRTUAL-8086-MODE"): pops the
 * 9-dword frame EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS and loads every segment real-mode style.
 */
function iretToV86(c: Cpu, eip: number, cs: number, fl: number): void {
  const newEsp = c.peek32(12);
  const ss = c.peek32(16) & 0xffff;
  const es = c.peek32(20) & 0xffff;
  const ds = c.peek32(24) & 0xffff;
  const fs = c.peek32(28) & 0xffff;
  const gs = c.peek32(32) & 0xffff;
  // EIP beyond FFFFh is not checked here: as on Bochs, the first fetch in V86 mode raises #GP(0)
  // (to the monitor, with VM = 1 in its frame).
  c.setEflags(fl, FLAGS_ALWAYS | IF | IOPL | VM | RF | AC | ID);
  c.cpl = 3;
  setV86Seg(c, CS, cs);
  setV86Seg(c, SS, ss);
  setV86Seg(c, ES, es);
  setV86Seg(c, DS, ds);
  setV86Seg(c, FS, fs);
  setV86Seg(c, GS, gs);
  c.r32[4] = newEsp;
  c.eip = eip;
}

/** A segment register as virtual-8086 mode holds it: base = selector * 16, 64 KiB, DPL 3. */
export function setV86Seg(c: Cpu, seg: number, sel: number): void {
  c.setSegCache(seg, sel, sel << 4, 0xffff, (seg === CS ? ATTR_REAL_CODE : ATTR_REAL_DATA) | (3 << ATTR_DPL_SHIFT));
}
