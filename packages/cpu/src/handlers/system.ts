/**
 * System instructions: flag control (CLC STC CMC CLD STD CLI STI), HLT, descriptor-table and task
 * registers (LGDT LIDT SGDT SIDT LLDT SLDT LTR STR), LMSW/SMSW/CLTS, MOV CRn/DRn, INVLPG,
 * INVD/WBINVD, VERR/VERW/LAR/LSL/ARPL, segment-register moves and LDS-style loads, CPUID,
 * RDTSC, RDMSR/WRMSR, WAIT and the x87 escapes (no FPU is present).
 */
import * as constantsModule from '../constants.ts';
import * as cpuidModule from '../cpuid.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';
import { Descriptor } from '../segmentation.ts';
import * as segmentationModule from '../segmentation.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const {
  ATTR_S, ATTR_TYPE_CODE, ATTR_TYPE_EC, CF, CR0_CD, CR0_EM, CR0_ET, CR0_MP, CR0_NW, CR0_PE, CR0_PG, CR0_TS,
  CR4_SUPPORTED, CR4_TSD, DF, EXC_NM, EXC_NP, IF, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS32_AVAIL, VM, ZF
} = constantsModule;
const { cpuid } = cpuidModule;
const { materializeFlags } = flagsModule;
const { fetchDescriptor, loadSegment } = segmentationModule;

function protectedMode(c: Cpu): boolean {
  return (c.cr0 & CR0_PE) !== 0;
}

/** Instructions that need CPL 0 in protected mode (#GP(0) otherwise). */
function requireCpl0(c: Cpu): void {
  if (protectedMode(c) && (c.cpl !== 0 || (c.flags & VM) !== 0)) c.gp(0);
}

/** Instructions that exist only in protected mode (#UD in real and virtual-8086 mode). */
function requireProtected(c: Cpu): void {
  if (!protectedMode(c) || (c.flags & VM) !== 0) c.ud();
}

// ---- flag control ---------------------------------------------------------------------------------

export function clc(c: Cpu, _i: Insn): void {
  materializeFlags(c);
  c.flags &= ~CF;
}
export function stc(c: Cpu, _i: Insn): void {
  materializeFlags(c);
  c.flags |= CF;
}
export function cmc(c: Cpu, _i: Insn): void {
  materializeFlags(c);
  c.flags ^= CF;
}
export function cld(c: Cpu, _i: Insn): void {
  c.flags &= ~DF;
}
export function std(c: Cpu, _i: Insn): void {
  c.flags |= DF;
}
/** CLI/STI need CPL <= IOPL in protected mode (no VME/PVI on this CPU). */
function checkIopl(c: Cpu): void {
  if (protectedMode(c) && c.cpl > ((c.flags >> 12) & 3)) c.gp(0);
}
export function cli(c: Cpu, _i: Insn): void {
  checkIopl(c);
  c.flags &= ~IF;
}
export function sti(c: Cpu, _i: Insn): void {
  checkIopl(c);
  if ((c.flags & IF) === 0) {
    c.flags |= IF;
    // Interrupts stay blocked until after the next instruction (SDM STI).
    c.shadow = true;
    c.exit = true;
  }
}

export function hlt(c: Cpu, _i: Insn): void {
  requireCpl0(c);
  c.halted = true;
  c.exit = true;
}

// ---- segment registers ------------------------------------------------------------------------------

/** MOV Sreg, r/m16 (8E); i.reg = segment (CS and 6/7 are #UD, decided by the decoder). */
export function movSregEw(c: Cpu, i: Insn): void {
  const v = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  loadSegment(c, i.reg, v);
}
/** MOV r/m16, Sreg (8C). A 32-bit register destination gets the selector zero-extended. */
export function movEwSreg(c: Cpu, i: Insn): void {
  const v = c.segSel[i.reg]!;
  if (i.rm >= 0) {
    if (i.o32) c.r32[i.rm] = v;
    else c.r16[i.rm] = v;
  } else {
    c.wr16(i.seg, c.ea(i), v);
  }
}
/** LDS/LES/LSS/LFS/LGS r, m16:16/32; i.op = segment register. */
export function loadFarPointer(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  let v: number;
  let sel: number;
  if (i.o32) {
    v = c.rd32(i.seg, off);
    sel = c.rd16(i.seg, i.a32 ? (off + 4) | 0 : (off + 4) & 0xffff);
  } else {
    v = c.rd16(i.seg, off);
    sel = c.rd16(i.seg, i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff);
  }
  loadSegment(c, i.op, sel);
  if (i.o32) c.r32[i.reg] = v;
  else c.r16[i.reg] = v;
}

// ---- descriptor tables (0F 01 /0 /1 /2 /3) -------------------------------------------------------------

/** SGDT (op 0) / SIDT (op 1): 16-bit limit then 32-bit base (24 bits and a zero byte for o16). */
export function sgdtSidt(c: Cpu, i: Insn): void {
  const off = c.ea(i);
  const limit = i.op === 0 ? c.gdtrLimit : c.idtrLimit;
  let base = i.op === 0 ? c.gdtrBase : c.idtrBase;
  if (!i.o32) base &= 0x00ffffff;
  const off2 = i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff;
  c.probeWrite(i.seg, off, 2);
  c.probeWrite(i.seg, off2, 4);
  c.wr16(i.seg, off, limit);
  c.wr32(i.seg, off2, base);
}
/** LGDT (op 2) / LIDT (op 3). */
export function lgdtLidt(c: Cpu, i: Insn): void {
  requireCpl0(c);
  const off = c.ea(i);
  const limit = c.rd16(i.seg, off);
  let base = c.rd32(i.seg, i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff);
  if (!i.o32) base &= 0x00ffffff;
  if (i.op === 2) {
    c.gdtrLimit = limit;
    c.gdtrBase = base | 0;
  } else {
    c.idtrLimit = limit;
    c.idtrBase = base | 0;
  }
}

/** SMSW r/m: the low word of CR0 (a 32-bit register gets all of CR0). */
export function smsw(c: Cpu, i: Insn): void {
  if (i.rm >= 0) {
    if (i.o32) c.r32[i.rm] = c.cr0;
    else c.r16[i.rm] = c.cr0;
  } else {
    c.wr16(i.seg, c.ea(i), c.cr0 & 0xffff);
  }
}
/** LMSW r/m16: loads PE, MP, EM, TS; it can set PE but never clear it (SDM LMSW). */
export function lmsw(c: Cpu, i: Insn): void {
  requireCpl0(c);
  const v = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  const keep = c.cr0 & CR0_PE;
  writeCr0(c, (c.cr0 & ~0xf) | (v & 0xf) | keep);
}
export function clts(c: Cpu, _i: Insn): void {
  requireCpl0(c);
  c.cr0 &= ~CR0_TS;
}

// ---- LDTR / TR (0F 00) ------------------------------------------------------------------------------------

const desc = new Descriptor();

/** SLDT (op 0) / STR (op 1). */
export function sldtStr(c: Cpu, i: Insn): void {
  requireProtected(c);
  const v = i.op === 0 ? c.ldtrSel : c.trSel;
  if (i.rm >= 0) {
    if (i.o32) c.r32[i.rm] = v;
    else c.r16[i.rm] = v;
  } else {
    c.wr16(i.seg, c.ea(i), v);
  }
}

export function lldt(c: Cpu, i: Insn): void {
  requireProtected(c);
  requireCpl0(c);
  const sel = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  if ((sel & 0xfffc) === 0) {
    c.ldtrSel = sel;
    c.ldtrBase = 0;
    c.ldtrLimit = 0;
    c.ldtrAttr = 0;
    return;
  }
  if ((sel & 4) !== 0 || !fetchDescriptor(c, sel, desc)) c.gp(sel & 0xfffc);
  if (desc.isSegment || desc.type !== SYS_LDT) c.gp(sel & 0xfffc);
  if (!desc.present) c.raise(EXC_NP, sel & 0xfffc);
  c.ldtrSel = sel;
  c.ldtrBase = desc.base;
  c.ldtrLimit = desc.limit;
  c.ldtrAttr = desc.attr;
}

export function ltr(c: Cpu, i: Insn): void {
  requireProtected(c);
  requireCpl0(c);
  const sel = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  if ((sel & 0xfffc) === 0) c.gp(0);
  if ((sel & 4) !== 0 || !fetchDescriptor(c, sel, desc)) c.gp(sel & 0xfffc);
  if (desc.isSegment || (desc.type !== SYS_TSS16_AVAIL && desc.type !== SYS_TSS32_AVAIL)) c.gp(sel & 0xfffc);
  if (!desc.present) c.raise(EXC_NP, sel & 0xfffc);
  // Mark the TSS busy in the GDT (type bit 1).
  c.mmu.writeSys8((desc.addr + 5) | 0, ((desc.hi >>> 8) | 2) & 0xff);
  c.trSel = sel;
  c.trBase = desc.base;
  c.trLimit = desc.limit;
  c.trAttr = desc.attr | 2;
}

// ---- VERR / VERW / LAR / LSL / ARPL ---------------------------------------------------------------------

function setZFOnly(c: Cpu, on: boolean): void {
  materializeFlags(c);
  c.flags = on ? c.flags | ZF : c.flags & ~ZF;
}

/** Privilege test shared by VERR/VERW/LAR/LSL: conforming code is always visible. */
function visible(c: Cpu, sel: number): boolean {
  if ((desc.attr & (ATTR_S | ATTR_TYPE_CODE | ATTR_TYPE_EC)) === (ATTR_S | ATTR_TYPE_CODE | ATTR_TYPE_EC)) return true;
  return desc.dpl >= c.cpl && desc.dpl >= (sel & 3);
}

/** VERR (op 4) / VERW (op 5). */
export function verrVerw(c: Cpu, i: Insn): void {
  requireProtected(c);
  const sel = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  let ok = false;
  if ((sel & 0xfffc) !== 0 && fetchDescriptor(c, sel, desc) && desc.isSegment && visible(c, sel)) {
    if (i.op === 4) ok = !desc.isCode || desc.rw;
    else ok = !desc.isCode && desc.rw;
  }
  setZFOnly(c, ok);
}

const LAR_SYSTEM_OK = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 11) | (1 << 12);
const LSL_SYSTEM_OK = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);

/** LAR (op 0) / LSL (op 1) r, r/m16. */
export function larLsl(c: Cpu, i: Insn): void {
  requireProtected(c);
  const sel = i.rm >= 0 ? c.r16[i.rm]! : c.rd16(i.seg, c.ea(i));
  let ok = false;
  if ((sel & 0xfffc) !== 0 && fetchDescriptor(c, sel, desc)) {
    const allowed = i.op === 0 ? LAR_SYSTEM_OK : LSL_SYSTEM_OK;
    ok = (desc.isSegment || ((allowed >> desc.type) & 1) !== 0) && visible(c, sel);
  }
  if (ok) {
    const v = i.op === 0 ? desc.hi & 0x00ffff00 & ~0x000f0000 : desc.limit;
    if (i.o32) c.r32[i.reg] = v;
    else c.r16[i.reg] = v;
  }
  setZFOnly(c, ok);
}

/** ARPL r/m16, r16 (63; #UD outside protected mode). */
export function arpl(c: Cpu, i: Insn): void {
  requireProtected(c);
  const src = c.r16[i.reg]!;
  if (i.rm >= 0) {
    const d = c.r16[i.rm]!;
    const adjust = (d & 3) < (src & 3);
    if (adjust) c.r16[i.rm] = (d & ~3) | (src & 3);
    setZFOnly(c, adjust);
    return;
  }
  const off = c.ea(i);
  const d = c.rd16(i.seg, off);
  const adjust = (d & 3) < (src & 3);
  if (adjust) c.wr16(i.seg, off, (d & ~3) | (src & 3));
  setZFOnly(c, adjust);
}

// ---- control and debug registers ----------------------------------------------------------------------

export function writeCr0(c: Cpu, v: number): void {
  v |= CR0_ET; // hardwired on the 486 and later
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) c.gp(0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) c.gp(0);
  const old = c.cr0;
  c.cr0 = v | 0;
  if (((old ^ v) & (CR0_PE | CR0_PG | (1 << 16))) !== 0) c.mmu.setControl(c.cr0, c.cr3, c.cr4);
  if (((old ^ v) & CR0_PE) !== 0) {
    // The descriptor caches stay; only the checks that apply to them change.
    if ((v & CR0_PE) === 0) c.cpl = 0;
    c.refreshAllSegs();
  }
  c.exit = true;
}

/** MOV r32, CRn (0F 20): i.reg = n, i.rm = register. */
export function movRCr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  let v: number;
  switch (i.reg) {
    case 0:
      v = c.cr0;
      break;
    case 2:
      v = c.cr2;
      break;
    case 3:
      v = c.cr3;
      break;
    case 4:
      v = c.cr4;
      break;
    default:
      return c.ud();
  }
  c.r32[i.rm] = v;
}
/** MOV CRn, r32 (0F 22). */
export function movCrR(c: Cpu, i: Insn): void {
  requireCpl0(c);
  const v = c.r32[i.rm]!;
  switch (i.reg) {
    case 0:
      writeCr0(c, v);
      return;
    case 2:
      c.cr2 = v;
      return;
    case 3:
      c.cr3 = v & ~0xfe7;
      c.mmu.setControl(c.cr0, c.cr3, c.cr4);
      c.exit = true;
      return;
    case 4:
      if ((v & ~CR4_SUPPORTED) !== 0) c.gp(0);
      c.cr4 = v;
      c.mmu.setControl(c.cr0, c.cr3, c.cr4);
      c.exit = true;
      return;
    default:
      c.ud();
  }
}
/** MOV r32, DRn / MOV DRn, r32 (0F 21 / 0F 23). Instruction breakpoints arm on a DR7 write. */
export function movRDr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  const n = i.reg === 4 ? 6 : i.reg === 5 ? 7 : i.reg;
  c.r32[i.rm] = c.dr[n]!;
}
export function movDrR(c: Cpu, i: Insn): void {
  requireCpl0(c);
  const n = i.reg === 4 ? 6 : i.reg === 5 ? 7 : i.reg;
  let v = c.r32[i.rm]!;
  if (n === 6) v = (v | 0xffff0ff0) & ~0x1000;
  else if (n === 7) v = (v | 0x400) & ~0xd800;
  c.dr[n] = v;
  c.armBreakpoints();
  c.exit = true;
}

export function invlpg(c: Cpu, i: Insn): void {
  requireCpl0(c);
  c.mmu.invlpg((c.segBase[i.seg]! + c.ea(i)) | 0);
  c.exit = true;
}
/** INVD / WBINVD: there are no caches to flush. */
export function invd(c: Cpu, _i: Insn): void {
  requireCpl0(c);
}

// ---- identification and time --------------------------------------------------------------------------

export function cpuidHandler(c: Cpu, _i: Insn): void {
  cpuid(c);
}
export function rdtsc(c: Cpu, _i: Insn): void {
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0 && protectedMode(c)) c.gp(0);
  const t = c.readTsc();
  c.r32[0] = Number(t & 0xffffffffn);
  c.r32[2] = Number(t >> 32n);
}

// The MSRs this model has (SDM vol. 4 table 2-2 lists them for family 6). Any other index raises
// #GP(0), as a processor does for an MSR it lacks; in particular there are no performance
// counters (0xC1/0xC2, 0x186/0x187): Linux then reports a broken PMU and uses software events.
const MSR_TSC = 0x10;
const MSR_BIOS_SIGN_ID = 0x8b;

export function rdmsr(c: Cpu, _i: Insn): void {
  requireCpl0(c);
  let v: bigint;
  switch (c.r32[1]) {
    case MSR_TSC: v = c.readTsc(); break;
    case MSR_BIOS_SIGN_ID: v = c.biosSignId; break;
    default: return c.gp(0);
  }
  c.r32[0] = Number(v & 0xffffffffn);
  c.r32[2] = Number(v >> 32n);
}
export function wrmsr(c: Cpu, _i: Insn): void {
  requireCpl0(c);
  const want = (BigInt(c.r32[2]! >>> 0) << 32n) | BigInt(c.r32[0]! >>> 0);
  switch (c.r32[1]) {
    case MSR_TSC:
      c.tscOffset = 0n;
      c.tscOffset = want - c.readTsc();
      return;
    case MSR_BIOS_SIGN_ID:
      c.biosSignId = want;
      return;
    default:
      c.gp(0);
  }
}

// ---- x87 without an FPU -------------------------------------------------------------------------------

/** WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; otherwise nothing to wait for. */
export function wait(c: Cpu, _i: Insn): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(EXC_NM);
}
/**
 * D8-DF escapes: #NM when CR0.EM or CR0.TS is set (so an OS can emulate or lazily switch the
 * FPU). With both clear the instruction does nothing, as on a board with an empty coprocessor
 * socket: FNSTSW/FNSTCW to memory leave it unchanged, which is how OSes detect "no FPU".
 */
export function fpuEscape(c: Cpu, _i: Insn): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) c.raise(EXC_NM);
}

