/**
 * String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE (SDM vol. 2).
 * i.op = element size (1, 2, 4); i.seg = source segment (DS unless overridden; the destination
 * is always ES); i.a32 selects ESI/EDI/ECX over SI/DI/CX.
 *
 * A REP instruction runs at most CHUNK iterations per execution and then re-executes itself
 * (EIP is moved back), so a long copy cannot hold the run loop for seconds. A fault mid-way
 * leaves the index and count registers at the interrupted iteration, as on hardware.
 */
import * as mmuModule from '@ferry86/mmu';
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';
import * as insnModule from '../insn.ts';
import * as ioModule from './io.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { PageKind, TLB_WRITE_SUPERVISOR, TLB_WRITE_USER } = mmuModule;
const { ES } = constantsModule;
const { getZF, K_SUB, SZ16, SZ32, SZ8 } = flagsModule;
const { REP_E, REP_NONE } = insnModule;
const { checkIo } = ioModule;

const CHUNK = 65536;

function sizeCode(size: number): number {
  return size === 1 ? SZ8 : size === 2 ? SZ16 : SZ32;
}

function load(c: Cpu, seg: number, off: number, size: number): number {
  return size === 1 ? c.rd8(seg, off) : size === 2 ? c.rd16(seg, off) : c.rd32(seg, off);
}

function store(c: Cpu, seg: number, off: number, size: number, v: number): void {
  if (size === 1) c.wr8(seg, off, v);
  else if (size === 2) c.wr16(seg, off, v);
  else c.wr32(seg, off, v);
}

function accumulator(c: Cpu, size: number): number {
  return size === 1 ? c.r8[0]! : size === 2 ? c.r16[0]! : c.r32[0]!;
}

/** Moves EIP back to this instruction so the remaining iterations run next time. */
function again(c: Cpu, i: Insn): void {
  c.eip = c.code32 ? (c.eip - i.len) >>> 0 : (c.eip - i.len) & 0xffff;
}

function getCount(c: Cpu, i: Insn): number {
  return i.a32 ? c.r32[1]! >>> 0 : c.r16[2]!;
}
function setCount(c: Cpu, i: Insn, n: number): void {
  if (i.a32) c.r32[1] = n;
  else c.r16[2] = n;
}
function getSi(c: Cpu, i: Insn): number {
  return i.a32 ? c.r32[6]! : c.r16[12]!;
}
function setSi(c: Cpu, i: Insn, v: number): void {
  if (i.a32) c.r32[6] = v;
  else c.r16[12] = v;
}
function getDi(c: Cpu, i: Insn): number {
  return i.a32 ? c.r32[7]! : c.r16[14]!;
}
function setDi(c: Cpu, i: Insn, v: number): void {
  if (i.a32) c.r32[7] = v;
  else c.r16[14] = v;
}
function adv(i: Insn, v: number, step: number): number {
  return i.a32 ? (v + step) | 0 : (v + step) & 0xffff;
}

// ---- bulk fast paths (DESIGN §3) ------------------------------------------------------------------
// A forward REP MOVS/STOS whose next elements stay within one page of RAM on both sides, inside
// the segment limits, is done as one typed-array copy or fill. Anything else (backwards, MMIO,
// page or segment edges, overlapping forward copies) takes the element loop, which faults exactly.

/** Physical address of a writable RAM byte at `lin` (write-translating it), or -1. */
function writableRam(c: Cpu, lin: number): number {
  const mmu = c.mmu;
  mmu.probeWrite(lin, 1);
  const e = mmu.tlb.entries[lin >>> 12]!;
  if ((e & (c.cpl === 3 ? TLB_WRITE_USER : TLB_WRITE_SUPERVISOR)) === 0) return -1;
  return ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
}

/** Elements of `size` that fit from offset `lin` to the end of its page. */
function roomInPage(lin: number, size: number): number {
  return ((4096 - (lin & 0xfff)) / size) | 0;
}

/** Up to `n` STOS elements at ES:di in one fill; returns how many were stored (0 = use the loop). */
function stosFast(c: Cpu, i: Insn, size: number, n: number, di: number, v: number): number {
  const lin = (c.segBase[ES]! + di) | 0;
  let cnt = roomInPage(lin, size);
  if (cnt > n) cnt = n;
  if (cnt < 2) return 0;
  const bytes = cnt * size;
  const off = i.a32 ? di >>> 0 : di;
  if (off + bytes - 1 > (i.a32 ? c.segWLim[ES]! : Math.min(c.segWLim[ES]!, 0xffff))) return 0;
  const p = writableRam(c, lin);
  if (p < 0) return 0;
  const phys = c.mmu.phys;
  if (size === 1) phys.ram.fill(v, p, p + bytes);
  else if (size === 4 && (p & 3) === 0) phys.ram32.fill(v, p >>> 2, (p + bytes) >>> 2);
  else if (size === 2 && (p & 1) === 0) phys.ram16.fill(v, p >>> 1, (p + bytes) >>> 1);
  else {
    const ram = phys.ram;
    for (let k = 0; k < bytes; k++) ram[p + k] = v >>> ((k % size) * 8);
  }
  return cnt;
}

/** Up to `n` MOVS elements in one copy; returns how many were moved (0 = use the loop). */
function movsFast(c: Cpu, i: Insn, size: number, n: number, si: number, di: number): number {
  const srcLin = (c.segBase[i.seg]! + si) | 0;
  const dstLin = (c.segBase[ES]! + di) | 0;
  let cnt = roomInPage(srcLin, size);
  const room = roomInPage(dstLin, size);
  if (room < cnt) cnt = room;
  if (cnt > n) cnt = n;
  if (cnt < 2) return 0;
  const bytes = cnt * size;
  const srcOff = i.a32 ? si >>> 0 : si;
  const dstOff = i.a32 ? di >>> 0 : di;
  const cap = i.a32 ? 0xffffffff : 0xffff;
  if (srcOff + bytes - 1 > Math.min(c.segRLim[i.seg]!, cap)) return 0;
  if (dstOff + bytes - 1 > Math.min(c.segWLim[ES]!, cap)) return 0;
  const mmu = c.mmu;
  const src = mmu.translateFetch(srcLin);
  const kind = mmu.phys.kind[src >>> 12];
  if (kind !== PageKind.Ram && kind !== PageKind.RamReadOnly) return 0;
  const dst = writableRam(c, dstLin);
  if (dst < 0) return 0;
  // A forward copy onto an overlapping higher destination replicates data element by element.
  if (dst > src && dst < src + bytes) return 0;
  mmu.phys.ram.copyWithin(dst, src, src + bytes);
  return cnt;
}

// ---- MOVS ----------------------------------------------------------------------------------------

export function movs(c: Cpu, i: Insn): void {
  const size = i.op;
  const step = c.df ? -size : size;
  if (i.rep === REP_NONE) {
    const si = getSi(c, i);
    const di = getDi(c, i);
    store(c, ES, di, size, load(c, i.seg, si, size));
    setSi(c, i, adv(i, si, step));
    setDi(c, i, adv(i, di, step));
    return;
  }
  let n = getCount(c, i);
  if (n === 0) return;
  let si = getSi(c, i);
  let di = getDi(c, i);
  let budget = CHUNK;
  try {
    while (n !== 0 && budget > 0) {
      if (step > 0) {
        const k = movsFast(c, i, size, n < budget ? n : budget, si, di);
        if (k > 0) {
          si = adv(i, si, k * size);
          di = adv(i, di, k * size);
          n -= k;
          budget -= k;
          continue;
        }
      }
      store(c, ES, di, size, load(c, i.seg, si, size));
      si = adv(i, si, step);
      di = adv(i, di, step);
      n--;
      budget--;
    }
  } finally {
    setSi(c, i, si);
    setDi(c, i, di);
    setCount(c, i, n);
  }
  if (n !== 0) again(c, i);
}

// ---- STOS / LODS ---------------------------------------------------------------------------------

export function stos(c: Cpu, i: Insn): void {
  const size = i.op;
  const step = c.df ? -size : size;
  const v = accumulator(c, size);
  if (i.rep === REP_NONE) {
    const di = getDi(c, i);
    store(c, ES, di, size, v);
    setDi(c, i, adv(i, di, step));
    return;
  }
  let n = getCount(c, i);
  if (n === 0) return;
  let di = getDi(c, i);
  let budget = CHUNK;
  try {
    while (n !== 0 && budget > 0) {
      if (step > 0) {
        const k = stosFast(c, i, size, n < budget ? n : budget, di, v);
        if (k > 0) {
          di = adv(i, di, k * size);
          n -= k;
          budget -= k;
          continue;
        }
      }
      store(c, ES, di, size, v);
      di = adv(i, di, step);
      n--;
      budget--;
    }
  } finally {
    setDi(c, i, di);
    setCount(c, i, n);
  }
  if (n !== 0) again(c, i);
}

export function lods(c: Cpu, i: Insn): void {
  const size = i.op;
  const step = c.df ? -size : size;
  let n = i.rep === REP_NONE ? 1 : getCount(c, i);
  if (n === 0) return;
  let si = getSi(c, i);
  let budget = CHUNK;
  try {
    while (n !== 0 && budget-- > 0) {
      const v = load(c, i.seg, si, size);
      if (size === 1) c.r8[0] = v;
      else if (size === 2) c.r16[0] = v;
      else c.r32[0] = v;
      si = adv(i, si, step);
      n--;
    }
  } finally {
    setSi(c, i, si);
    if (i.rep !== REP_NONE) setCount(c, i, n);
  }
  if (n !== 0) again(c, i);
}

// ---- CMPS / SCAS -----------------------------------------------------------------------------------

function setCmpFlags(c: Cpu, a: number, b: number, size: number): void {
  c.fOp = K_SUB | sizeCode(size);
  c.fA = a;
  c.fB = b;
  c.fRes = (a - b) | 0;
}

export function cmps(c: Cpu, i: Insn): void {
  const size = i.op;
  const step = c.df ? -size : size;
  let n = i.rep === REP_NONE ? 1 : getCount(c, i);
  if (n === 0) return;
  let si = getSi(c, i);
  let di = getDi(c, i);
  let budget = CHUNK;
  const wantZ = i.rep === REP_E ? 1 : 0;
  let stop = false;
  try {
    while (n !== 0 && budget-- > 0) {
      const a = load(c, i.seg, si, size);
      const b = load(c, ES, di, size);
      setCmpFlags(c, a, b, size);
      si = adv(i, si, step);
      di = adv(i, di, step);
      n--;
      if (i.rep !== REP_NONE && getZF(c) !== wantZ) {
        stop = true;
        break;
      }
    }
  } finally {
    setSi(c, i, si);
    setDi(c, i, di);
    if (i.rep !== REP_NONE) setCount(c, i, n);
  }
  if (n !== 0 && !stop) again(c, i);
}

export function scas(c: Cpu, i: Insn): void {
  const size = i.op;
  const step = c.df ? -size : size;
  let n = i.rep === REP_NONE ? 1 : getCount(c, i);
  if (n === 0) return;
  let di = getDi(c, i);
  const a = accumulator(c, size);
  let budget = CHUNK;
  const wantZ = i.rep === REP_E ? 1 : 0;
  let stop = false;
  try {
    while (n !== 0 && budget-- > 0) {
      const b = load(c, ES, di, size);
      setCmpFlags(c, a, b, size);
      di = adv(i, di, step);
      n--;
      if (i.rep !== REP_NONE && getZF(c) !== wantZ) {
        stop = true;
        break;
      }
    }
  } finally {
    setDi(c, i, di);
    if (i.rep !== REP_NONE) setCount(c, i, n);
  }
  if (n !== 0 && !stop) again(c, i);
}

// ---- INS / OUTS ---------------------------------------------------------------------------------------

export function ins(c: Cpu, i: Insn): void {
  const size = i.op;
  const port = c.r16[4]!;
  checkIo(c, port, size);
  const step = c.df ? -size : size;
  let n = i.rep === REP_NONE ? 1 : getCount(c, i);
  if (n === 0) return;
  let di = getDi(c, i);
  let budget = CHUNK;
  try {
    while (n !== 0 && budget-- > 0) {
      // The destination is checked before the port is read, so a fault loses no input.
      if (size === 1) {
        c.probeWrite(ES, di, 1);
        c.wr8(ES, di, c.io.in8(port));
      } else if (size === 2) {
        c.probeWrite(ES, di, 2);
        c.wr16(ES, di, c.io.in16(port));
      } else {
        c.probeWrite(ES, di, 4);
        c.wr32(ES, di, c.io.in32(port));
      }
      di = adv(i, di, step);
      n--;
    }
  } finally {
    setDi(c, i, di);
    if (i.rep !== REP_NONE) setCount(c, i, n);
  }
  if (n !== 0) again(c, i);
  c.exit = true;
}

export function outs(c: Cpu, i: Insn): void {
  const size = i.op;
  const port = c.r16[4]!;
  checkIo(c, port, size);
  const step = c.df ? -size : size;
  let n = i.rep === REP_NONE ? 1 : getCount(c, i);
  if (n === 0) return;
  let si = getSi(c, i);
  let budget = CHUNK;
  try {
    while (n !== 0 && budget-- > 0) {
      const v = load(c, i.seg, si, size);
      if (size === 1) c.io.out8(port, v);
      else if (size === 2) c.io.out16(port, v);
      else c.io.out32(port, v);
      si = adv(i, si, step);
      n--;
    }
  } finally {
    setSi(c, i, si);
    if (i.rep !== REP_NONE) setCount(c, i, n);
  }
  if (n !== 0) again(c, i);
  c.exit = true;
}

