/**
 * The CPU's section ("cpu0") of a snapshot: every piece of architectural state, with flags
 * materialised. The decoded-instruction cache is not state; it is rebuilt on demand.
 */
import { StateError, type SectionSchema, type StateRecord } from '@ferry86/mmu';
import type { Cpu } from './cpu.ts';
import { CR4_SUPPORTED, FLAGS_FIXED_ONE } from './constants.ts';

export const CPU_STATE_SCHEMA: SectionSchema = {
  type: 'cpu-i386',
  version: 3,
  minVersion: 1,
  fields: {
    gpr: 'i32[]',
    eip: 'u32',
    eflags: 'u32',
    segSel: 'u16[]',
    segBase: 'u32[]',
    segLimit: 'u32[]',
    segAttr: 'u16[]',
    segValid: 'bytes',
    cr0: 'u32',
    cr2: 'u32',
    cr3: 'u32',
    cr4: 'u32',
    dr: 'u32[]',
    gdtrBase: 'u32',
    gdtrLimit: 'u32',
    idtrBase: 'u32',
    idtrLimit: 'u32',
    ldtrSel: 'u16',
    ldtrBase: 'u32',
    ldtrLimit: 'u32',
    ldtrAttr: 'u16',
    trSel: 'u16',
    trBase: 'u32',
    trLimit: 'u32',
    trAttr: 'u16',
    cpl: 'u8',
    halted: 'bool',
    shadow: 'bool',
    shutdown: 'bool',
    pendingIrq: 'i32',
    instructionCount: 'f64',
    tscOffset: 'u64',
    // IA32_BIOS_SIGN_ID (version 3).
    biosSignId: 'u64',
    // x87 (version 2). Saved as the FNINIT state by a CPU without an FPU.
    fpuCw: 'u16',
    /** Status word including TOP. */
    fpuSw: 'u16',
    /** Full tag word; only "empty" (11) versus not matters on load. */
    fpuTag: 'u16',
    /** Physical registers R0..R7, 10 bytes each: significand (little-endian), then sign:exponent. */
    fpuRegs: 'bytes',
    fpuFip: 'u32',
    fpuFcs: 'u16',
    fpuFdp: 'u32',
    fpuFds: 'u16',
    fpuFop: 'u16',
  },
  upgrade: (from: number, r: StateRecord): StateRecord => {
    let out = r;
    // v1 -> v2: a CPU saved before the x87 existed gets the state FNINIT leaves.
    if (from < 2) {
      out = { ...out, fpuCw: 0x037f, fpuSw: 0, fpuTag: 0xffff, fpuRegs: new Uint8Array(80), fpuFip: 0, fpuFcs: 0, fpuFdp: 0, fpuFds: 0, fpuFop: 0 };
    }
    // v2 -> v3: IA32_BIOS_SIGN_ID as reset leaves it.
    if (from < 3) out = { ...out, biosSignId: 0n };
    return out;
  },
};

function saveFpu(c: Cpu): StateRecord {
  const f = c.fpu;
  const regs = new Uint8Array(80);
  if (f === null) return { fpuCw: 0x037f, fpuSw: 0, fpuTag: 0xffff, fpuRegs: regs, fpuFip: 0, fpuFcs: 0, fpuFdp: 0, fpuFds: 0, fpuFop: 0 };
  f.materializeAll();
  const dv = new DataView(regs.buffer);
  for (let p = 0; p < 8; p++) {
    dv.setBigUint64(p * 10, f.man[p]!, true);
    dv.setUint16(p * 10 + 8, (f.sgn[p]! << 15) | f.exp[p]!, true);
  }
  return {
    fpuCw: f.cw,
    fpuSw: f.statusWord,
    fpuTag: f.tagWord,
    fpuRegs: regs,
    fpuFip: f.fip >>> 0,
    fpuFcs: f.fcs & 0xffff,
    fpuFdp: f.fdp >>> 0,
    fpuFds: f.fds & 0xffff,
    fpuFop: f.fop & 0x7ff,
  };
}

function loadFpu(c: Cpu, r: StateRecord): void {
  const f = c.fpu;
  if (f === null) return;
  const dv = new DataView((r.fpuRegs as Uint8Array).buffer, (r.fpuRegs as Uint8Array).byteOffset, 80);
  f.dstate.fill(0);
  for (let p = 0; p < 8; p++) {
    f.man[p] = dv.getBigUint64(p * 10, true);
    const se = dv.getUint16(p * 10 + 8, true);
    f.sgn[p] = se >> 15;
    f.exp[p] = se & 0x7fff;
  }
  f.cw = r.fpuCw as number;
  f.statusWord = r.fpuSw as number;
  f.tagWord = r.fpuTag as number;
  f.fip = (r.fpuFip as number) | 0;
  f.fcs = r.fpuFcs as number;
  f.fdp = (r.fpuFdp as number) | 0;
  f.fds = r.fpuFds as number;
  f.fop = r.fpuFop as number;
  // FERR# follows the loaded status word (ES); the board's IRQ 13 latch has its own state.
  f.ferr = (f.sw & 0x80) !== 0;
}

export function saveCpuState(c: Cpu): StateRecord {
  return {
    gpr: Int32Array.from(c.r32.subarray(0, 8)),
    eip: c.eip >>> 0,
    eflags: c.getEflags(),
    segSel: Uint16Array.from(c.segSel),
    segBase: Uint32Array.from(c.segBase, (v) => v >>> 0),
    segLimit: Uint32Array.from(c.segLimit),
    segAttr: Uint16Array.from(c.segAttr),
    segValid: Uint8Array.from(c.segValid),
    cr0: c.cr0 >>> 0,
    cr2: c.cr2 >>> 0,
    cr3: c.cr3 >>> 0,
    cr4: c.cr4 >>> 0,
    dr: Uint32Array.from(c.dr, (v) => v >>> 0),
    gdtrBase: c.gdtrBase >>> 0,
    gdtrLimit: c.gdtrLimit >>> 0,
    idtrBase: c.idtrBase >>> 0,
    idtrLimit: c.idtrLimit >>> 0,
    ldtrSel: c.ldtrSel & 0xffff,
    ldtrBase: c.ldtrBase >>> 0,
    ldtrLimit: c.ldtrLimit >>> 0,
    ldtrAttr: c.ldtrAttr & 0xffff,
    trSel: c.trSel & 0xffff,
    trBase: c.trBase >>> 0,
    trLimit: c.trLimit >>> 0,
    trAttr: c.trAttr & 0xffff,
    cpl: c.cpl,
    halted: c.halted,
    shadow: c.shadow,
    shutdown: c.shutdown,
    pendingIrq: c.pendingIrq,
    instructionCount: c.instructionCount,
    tscOffset: BigInt.asUintN(64, c.tscOffset),
    biosSignId: c.biosSignId,
    ...saveFpu(c),
  };
}

export function checkCpuState(c: Cpu, r: StateRecord): void {
  const name = c.sectionName;
  const len = (field: string, n: number): void => {
    const v = r[field] as ArrayLike<number>;
    if (v.length !== n) throw new StateError(name, `field "${field}" must have ${n} entries, has ${v.length}`);
  };
  len('gpr', 8);
  len('segSel', 6);
  len('segBase', 6);
  len('segLimit', 6);
  len('segAttr', 6);
  len('segValid', 6);
  len('dr', 8);
  if ((r.cpl as number) > 3) throw new StateError(name, `CPL ${r.cpl} is not 0..3`);
  if (((r.cr4 as number) & ~CR4_SUPPORTED) !== 0) throw new StateError(name, `CR4 0x${(r.cr4 as number).toString(16)} sets bits this CPU lacks`);
  const pi = r.pendingIrq as number;
  if (pi < -1 || pi > 255) throw new StateError(name, `pending interrupt vector ${pi} is not -1..255`);
  // A count past 2^53 stops advancing (count + n === count), so the run loop's slice would never end.
  const count = r.instructionCount as number;
  if (!(Number.isSafeInteger(count) && count >= 0)) throw new StateError(name, `instruction count ${count} is not a non-negative safe integer`);
  if ((r.fpuRegs as Uint8Array).length !== 80) throw new StateError(name, `x87 register file is ${(r.fpuRegs as Uint8Array).length} bytes, not 8 x 10`);
}

export function loadCpuState(c: Cpu, r: StateRecord): void {
  c.r32.set(r.gpr as Int32Array);
  c.r32[8] = 0;
  c.eip = r.eip as number;
  c.fOp = 0;
  c.flags = ((r.eflags as number) | FLAGS_FIXED_ONE) | 0;
  c.cr0 = (r.cr0 as number) | 0;
  c.cr2 = (r.cr2 as number) | 0;
  c.cr3 = (r.cr3 as number) | 0;
  c.cr4 = (r.cr4 as number) | 0;
  c.dr.set(Int32Array.from(r.dr as Uint32Array, (v) => v | 0));
  c.gdtrBase = (r.gdtrBase as number) | 0;
  c.gdtrLimit = r.gdtrLimit as number;
  c.idtrBase = (r.idtrBase as number) | 0;
  c.idtrLimit = r.idtrLimit as number;
  c.ldtrSel = r.ldtrSel as number;
  c.ldtrBase = (r.ldtrBase as number) | 0;
  c.ldtrLimit = r.ldtrLimit as number;
  c.ldtrAttr = r.ldtrAttr as number;
  c.trSel = r.trSel as number;
  c.trBase = (r.trBase as number) | 0;
  c.trLimit = r.trLimit as number;
  c.trAttr = r.trAttr as number;
  const sel = r.segSel as Uint16Array;
  const base = r.segBase as Uint32Array;
  const limit = r.segLimit as Uint32Array;
  const attr = r.segAttr as Uint16Array;
  const valid = r.segValid as Uint8Array;
  c.mmu.setControl(c.cr0, c.cr3, c.cr4);
  for (let s = 0; s < 6; s++) {
    if (valid[s] === 0) c.setSegNull(s, sel[s]!);
    else c.setSegCache(s, sel[s]!, base[s]! | 0, limit[s]!, attr[s]!);
  }
  c.cpl = r.cpl as number;
  c.halted = r.halted as boolean;
  c.shadow = r.shadow as boolean;
  c.shutdown = r.shutdown as boolean;
  c.pendingIrq = r.pendingIrq as number;
  c.instructionCount = r.instructionCount as number;
  c.tscOffset = BigInt.asIntN(64, r.tscOffset as bigint);
  c.biosSignId = r.biosSignId as bigint;
  loadFpu(c, r);
  c.armBreakpoints();
  c.codeCache.clear();
}
