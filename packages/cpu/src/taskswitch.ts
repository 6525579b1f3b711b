/**
 * Hardware task switching (Intel SDM vol. 3A §7.3, table 7-1; vol. 2 JMP/CALL/INT/IRET "TASK-GATE"
 * and "SWITCH-TASKS"). The callers check the gate / descriptor privilege and busy state; this file
 * does the switch itself:
 *
 *  - before the commit point (faults are raised in the old task, nothing has changed): TSS present
 *    (#NP), busy state (#GP, #TS for IRET), TSS limits (#TS), then the outgoing state is written to
 *    the old TSS, the link field, and the whole new TSS read (any of them can #PF and restart);
 *  - the commit: busy bits, NT, TR, CR0.TS, DR7's local enables cleared, CR3 (32-bit TSS with
 *    paging on);
 *  - after the commit the registers hold the new task's values and the LDT and segment loads are
 *    checked; their faults (#TS/#NP/#SS/#GP with the selector) are delivered in the new task, at
 *    its first instruction (`Cpu.restartEip`).
 *
 * Upper halves of general registers loaded from a 16-bit TSS read as FFFFh, as Bochs does (the SDM
 * leaves them undefined); a 16-bit TSS loads FS and GS null. CR3 is loaded only while paging is on
 * (as Bochs). Known limit: an absent page (post-copy, DESIGN §2.2) touched after the commit point
 * — the new task's descriptors or stack — cannot be restarted cleanly.
 */
import * as constantsModule from './constants.ts';
import type { Cpu } from './cpu.ts';
import { Descriptor } from './segmentation.ts';
import * as segmentationModule from './segmentation.ts';

const {
  ATTR_DPL_SHIFT, ATTR_REAL_CODE, ATTR_REAL_DATA, CR0_PG, CR0_TS, CS, DS, ES, EXC_DB, EXC_GP, EXC_NP, EXC_SS,
  EXC_TS, FLAGS_SUPPORTED, FS, GS, NT, SS, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_AVAIL,
  SYS_TSS32_BUSY, SYS_TASK_GATE, VM
} = constantsModule;
const { fetchDescriptor, markAccessed } = segmentationModule;

/** Why the task switch happens: decides busy bits, NT and the link field (SDM §7.3 steps 4-10). */
export const SWITCH_JMP = 0;
export const SWITCH_CALL = 1;
/** INT n, exception or hardware interrupt through a task gate: nests like CALL. */
export const SWITCH_INT = 2;
export const SWITCH_IRET = 3;

const tssDesc = new Descriptor();
const segDesc = new Descriptor();
/** The incoming task's registers, read before the commit point. */
const gpr = new Int32Array(8);
const sel = new Uint16Array(6);

/** Mark (or clear) the busy bit (type bit 1) of the TSS descriptor at `addr` in the GDT. */
function setBusy(c: Cpu, addr: number, busy: boolean): void {
  const b = c.mmu.readSys8((addr + 5) | 0);
  c.mmu.writeSys8((addr + 5) | 0, busy ? b | 2 : b & ~2);
}

/** Fetches a TSS selector's descriptor from the GDT: false if LDT-relative or beyond the limit. */
export function fetchTss(c: Cpu, s: number, d: Descriptor): boolean {
  if ((s & 4) !== 0) return false;
  return fetchDescriptor(c, s, d);
}

/**
 * JMP/CALL to a TSS descriptor or task gate (SDM JMP/CALL "TASK-GATE" / "TASK-STATE-SEGMENT").
 * `d` holds the descriptor `s` names (already fetched, S = 0).
 */
export function farTaskSwitch(c: Cpu, s: number, d: Descriptor, reason: number): void {
  const cpl = c.cpl;
  if (d.dpl < cpl || d.dpl < (s & 3)) c.gp(s & 0xfffc);
  let tssSel = s;
  if (d.type === SYS_TASK_GATE) {
    if (!d.present) c.raise(EXC_NP, s & 0xfffc);
    tssSel = d.lo >>> 16;
    if (!fetchTss(c, tssSel, tssDesc)) c.gp(tssSel & 0xfffc);
    const t = tssDesc.type;
    if (tssDesc.isSegment || (t !== SYS_TSS16_AVAIL && t !== SYS_TSS32_AVAIL)) c.gp(tssSel & 0xfffc);
    if (!tssDesc.present) c.raise(EXC_NP, tssSel & 0xfffc);
  } else {
    tssDesc.parse(d.lo, d.hi);
    tssDesc.addr = d.addr;
    if (!tssDesc.present) c.raise(EXC_NP, s & 0xfffc);
  }
  switchTasks(c, tssSel, tssDesc, reason, false, 0, 0);
}

/**
 * INT n / exception / IRQ through a task gate in the IDT (SDM INT "TASK-GATE"): `gateLo` is the
 * gate's low dword, `ext` the EXT bit for error codes.
 */
export function interruptTaskSwitch(c: Cpu, gateLo: number, ext: number, hasError: boolean, errorCode: number): void {
  const tssSel = gateLo >>> 16;
  if (!fetchTss(c, tssSel, tssDesc)) c.raise(EXC_GP, (tssSel & 0xfffc) + ext);
  const t = tssDesc.type;
  if (tssDesc.isSegment || (t !== SYS_TSS16_AVAIL && t !== SYS_TSS32_AVAIL)) c.raise(EXC_GP, (tssSel & 0xfffc) + ext);
  if (!tssDesc.present) c.raise(EXC_NP, (tssSel & 0xfffc) + ext);
  switchTasks(c, tssSel, tssDesc, SWITCH_INT, hasError, errorCode, ext);
}

/** IRET with NT = 1: back to the task named by the current TSS's link field. */
export function iretTaskSwitch(c: Cpu): void {
  const link = c.mmu.readSys16(c.trBase);
  if (!fetchTss(c, link, tssDesc)) c.raise(EXC_TS, link & 0xfffc);
  const t = tssDesc.type;
  if (tssDesc.isSegment || (t !== SYS_TSS16_BUSY && t !== SYS_TSS32_BUSY)) c.raise(EXC_TS, link & 0xfffc);
  if (!tssDesc.present) c.raise(EXC_NP, link & 0xfffc);
  switchTasks(c, link, tssDesc, SWITCH_IRET, false, 0, 0);
}

function switchTasks(
  c: Cpu, newSel: number, d: Descriptor, reason: number, hasError: boolean, errorCode: number, ext: number,
): void {
  const mmu = c.mmu;
  const new32 = (d.type & 8) !== 0;
  // Table 7-1 "TSS segment limit": 67h for a 32-bit TSS, 2Bh for a 16-bit one.
  if (d.limit < (new32 ? 0x67 : 0x2b)) c.raise(EXC_TS, (newSel & 0xfffc) + ext);
  const nb = d.base;
  // The outgoing TSS must hold the dynamic fields (Bochs checks 5Fh / 29h, #TS(old TSS)).
  if (c.trLimit < ((c.trAttr & 8) !== 0 ? 0x5f : 0x29)) c.raise(EXC_TS, (c.trSel & 0xfffc) + ext);

  // ---- save the outgoing state into the current TSS (may #PF: still the old task) --------------
  const ob = c.trBase;
  const old32 = (c.trAttr & 8) !== 0;
  let flags = c.getEflags();
  if (reason === SWITCH_IRET) flags &= ~NT;
  if (old32) {
    mmu.writeSys32((ob + 0x20) | 0, c.eip);
    mmu.writeSys32((ob + 0x24) | 0, flags);
    for (let r = 0; r < 8; r++) mmu.writeSys32((ob + 0x28 + 4 * r) | 0, c.r32[r]!);
    for (let s = 0; s < 6; s++) mmu.writeSys16((ob + 0x48 + 4 * s) | 0, c.segSel[s]!);
  } else {
    mmu.writeSys16((ob + 0x0e) | 0, c.eip);
    mmu.writeSys16((ob + 0x10) | 0, flags);
    for (let r = 0; r < 8; r++) mmu.writeSys16((ob + 0x12 + 2 * r) | 0, c.r32[r]!);
    for (let s = 0; s < 4; s++) mmu.writeSys16((ob + 0x22 + 2 * s) | 0, c.segSel[s]!);
  }

  if (reason === SWITCH_CALL || reason === SWITCH_INT) mmu.writeSys16(nb, c.trSel);

  // ---- read the incoming state (may #PF: still the old task) ----------------------------------
  let newEip: number;
  let newFlags: number;
  let newLdt: number;
  let newCr3 = 0;
  let trap = false;
  if (new32) {
    newCr3 = mmu.readSys32((nb + 0x1c) | 0);
    newEip = mmu.readSys32((nb + 0x20) | 0) >>> 0;
    newFlags = mmu.readSys32((nb + 0x24) | 0);
    for (let r = 0; r < 8; r++) gpr[r] = mmu.readSys32((nb + 0x28 + 4 * r) | 0);
    for (let s = 0; s < 6; s++) sel[s] = mmu.readSys16((nb + 0x48 + 4 * s) | 0);
    newLdt = mmu.readSys16((nb + 0x60) | 0);
    trap = (mmu.readSys16((nb + 0x64) | 0) & 1) !== 0;
  } else {
    newEip = mmu.readSys16((nb + 0x0e) | 0);
    newFlags = mmu.readSys16((nb + 0x10) | 0);
    for (let r = 0; r < 8; r++) gpr[r] = 0xffff0000 | mmu.readSys16((nb + 0x12 + 2 * r) | 0);
    for (let s = 0; s < 4; s++) sel[s] = mmu.readSys16((nb + 0x22 + 2 * s) | 0);
    sel[FS] = 0;
    sel[GS] = 0;
    newLdt = mmu.readSys16((nb + 0x2a) | 0);
  }

  // ---- commit ------------------------------------------------------------------------------------
  // Memory is written and read in Bochs' order (old state, link, new state, busy bits), so a
  // switch to the current TSS reads back what was just saved; a #PF up to the busy-bit writes
  // re-runs the whole switch from the old task.
  const oldSel = c.trSel;
  if (reason === SWITCH_CALL || reason === SWITCH_INT) newFlags |= NT;
  if (reason === SWITCH_JMP || reason === SWITCH_IRET) {
    const oldAddr = (c.gdtrBase + (oldSel & 0xfff8)) | 0;
    setBusy(c, oldAddr, false);
  }
  if (reason !== SWITCH_IRET) setBusy(c, d.addr, true);
  c.trSel = newSel;
  c.trBase = nb;
  c.trLimit = d.limit;
  c.trAttr = d.attr | 2;
  c.cr0 |= CR0_TS;
  // Local breakpoint enables (L0-L3, LE) belong to the old task (SDM vol. 3A §17.2.4).
  if ((c.dr[7]! & 0x155) !== 0) {
    c.dr[7] = c.dr[7]! & ~0x155;
    c.armBreakpoints();
  }
  c.shadow = false;
  if (new32 && (c.cr0 & CR0_PG) !== 0) {
    c.cr3 = newCr3 & ~0xfe7;
    mmu.setControl(c.cr0, c.cr3, c.cr4);
  }
  c.exit = true;
  c.eip = newEip;
  for (let r = 0; r < 8; r++) c.r32[r] = gpr[r]!;
  if (!new32) newFlags &= 0xffff;
  // EFLAGS first: VM decides how the segment registers load.
  c.setEflags(newFlags, FLAGS_SUPPORTED);
  // Faults from here on belong to the new task (SDM §7.3 step 12): report them at its first insn.
  c.restartEip = newEip;
  // Selectors are loaded unusable first; each becomes usable once its descriptor passes.
  c.ldtrSel = newLdt;
  c.ldtrBase = 0;
  c.ldtrLimit = 0;
  c.ldtrAttr = 0;
  for (let s = 0; s < 6; s++) c.setSegNull(s, sel[s]!);

  if ((newFlags & VM) !== 0) {
    // Virtual-8086 task (SDM §20.2.5): every segment register loads real-mode style, CPL 3.
    c.cpl = 3;
    loadTaskLdt(c, newLdt);
    for (let s = 0; s < 6; s++) {
      c.setSegCache(s, sel[s]!, sel[s]! << 4, 0xffff, (s === CS ? ATTR_REAL_CODE : ATTR_REAL_DATA) | (3 << ATTR_DPL_SHIFT));
    }
  } else {
    // Bochs' order: LDT and SS while CPL reads 3 (a fault there is delivered through the new
    // TSS's ring-0 stack), then the data segments and CS at CPL = CS.RPL.
    const rpl = sel[CS]! & 3;
    c.cpl = 3;
    loadTaskLdt(c, newLdt);
    loadTaskSs(c, sel[SS]!, rpl);
    c.cpl = rpl;
    loadTaskData(c, DS, sel[DS]!);
    loadTaskData(c, ES, sel[ES]!);
    loadTaskData(c, FS, sel[FS]!);
    loadTaskData(c, GS, sel[GS]!);
    loadTaskCs(c, sel[CS]!);
  }
  if (hasError) {
    // The error code goes on the new task's stack, sized by the new TSS (SDM INT "TASK-GATE").
    if (new32) c.push32(errorCode);
    else c.push16(errorCode);
  }
  if (c.eip > c.segLimit[CS]!) c.raise(EXC_GP, ext);
  c.restartEip = -1;
  if (trap) {
    // T flag: #DB (a trap, DR6.BT) before the new task's first instruction (SDM §7.2.1). B0-B3,
    // BD and BS are reported clear, as Bochs does.
    c.dr[6] = (c.dr[6]! & 0xffff0ff0) | (1 << 15);
    c.restartEip = c.eip;
    c.raise(EXC_DB);
  }
}

function loadTaskLdt(c: Cpu, s: number): void {
  if ((s & 0xfffc) === 0) return;
  if ((s & 4) !== 0 || !fetchDescriptor(c, s, segDesc)) c.raise(EXC_TS, s & 0xfffc);
  if (segDesc.isSegment || segDesc.type !== SYS_LDT) c.raise(EXC_TS, s & 0xfffc);
  if (!segDesc.present) c.raise(EXC_TS, s & 0xfffc);
  c.ldtrBase = segDesc.base;
  c.ldtrLimit = segDesc.limit;
  c.ldtrAttr = segDesc.attr;
}

function loadTaskCs(c: Cpu, s: number): void {
  if ((s & 0xfffc) === 0) c.raise(EXC_TS, 0);
  if (!fetchDescriptor(c, s, segDesc) || !segDesc.isCode) c.raise(EXC_TS, s & 0xfffc);
  const rpl = s & 3;
  if (segDesc.isConforming ? segDesc.dpl > rpl : segDesc.dpl !== rpl) c.raise(EXC_TS, s & 0xfffc);
  if (!segDesc.present) c.raise(EXC_NP, s & 0xfffc);
  markAccessed(c, segDesc);
  c.setSegCache(CS, s, segDesc.base, segDesc.limit, segDesc.attr);
}

function loadTaskSs(c: Cpu, s: number, rpl: number): void {
  if ((s & 0xfffc) === 0) c.raise(EXC_TS, 0);
  if (!fetchDescriptor(c, s, segDesc)) c.raise(EXC_TS, s & 0xfffc);
  if (!segDesc.isSegment || segDesc.isCode || !segDesc.rw) c.raise(EXC_TS, s & 0xfffc);
  if (!segDesc.present) c.raise(EXC_SS, s & 0xfffc);
  if (segDesc.dpl !== rpl || (s & 3) !== segDesc.dpl) c.raise(EXC_TS, s & 0xfffc);
  markAccessed(c, segDesc);
  c.setSegCache(SS, s, segDesc.base, segDesc.limit, segDesc.attr);
}

function loadTaskData(c: Cpu, seg: number, s: number): void {
  if ((s & 0xfffc) === 0) return;
  if (!fetchDescriptor(c, s, segDesc)) c.raise(EXC_TS, s & 0xfffc);
  if (!segDesc.isSegment || (segDesc.isCode && !segDesc.rw)) c.raise(EXC_TS, s & 0xfffc);
  if (!segDesc.isCode || !segDesc.isConforming) {
    if (segDesc.dpl < c.cpl || segDesc.dpl < (s & 3)) c.raise(EXC_TS, s & 0xfffc);
  }
  if (!segDesc.present) c.raise(EXC_NP, s & 0xfffc);
  markAccessed(c, segDesc);
  c.setSegCache(seg, s, segDesc.base, segDesc.limit, segDesc.attr);
}
