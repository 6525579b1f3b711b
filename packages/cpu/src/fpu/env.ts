/**
 * The FPU environment and save-area images of FSTENV/FLDENV/FSAVE/FRSTOR (Intel SDM vol. 1
 * §8.1.10, figures 8-9 to 8-12): 14 bytes (16-bit operand size) or 28 bytes (32-bit), in a
 * protected-mode layout (selector:offset pointers) or a real-mode layout (20/32-bit linear
 * pointers with FOP folded in). FSAVE/FRSTOR add ST(0)..ST(7), 10 bytes each, after it.
 *
 * The reserved upper halves of the 32-bit layout's CW/SW/TW/FDS dwords are written as 0xFFFF,
 * as P6-family processors (and Bochs) do.
 */
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { EXP_MAX, type Fpu } from './fpu.ts';

function at(i: Insn, ea: number, k: number): number {
  return i.a32 ? (ea + k) | 0 : (ea + k) & 0xffff;
}

function realLayout(c: Cpu): boolean {
  return !c.protectedMode || c.v86;
}

export function envSize(i: Insn): number {
  return i.o32 ? 28 : 14;
}

export function storeEnv(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  const size = envSize(i);
  c.probeWrite(i.seg, ea, size);
  const real = realLayout(c);
  const w = new Array<number>(7);
  w[0] = f.cw;
  w[1] = f.statusWord;
  w[2] = f.tagWord;
  if (real) {
    const ip = ((f.fcs << 4) + f.fip) >>> 0;
    const dp = ((f.fds << 4) + f.fdp) >>> 0;
    w[3] = ip & 0xffff;
    w[5] = dp & 0xffff;
    if (i.o32) {
      w[4] = ((ip >>> 16) << 12) | (f.fop & 0x7ff);
      w[6] = (dp >>> 16) << 12;
    } else {
      w[4] = (((ip >>> 16) & 0xf) << 12) | (f.fop & 0x7ff);
      w[6] = ((dp >>> 16) & 0xf) << 12;
    }
  } else if (i.o32) {
    w[3] = f.fip;
    w[4] = f.fcs | ((f.fop & 0x7ff) << 16);
    w[5] = f.fdp;
    w[6] = f.fds;
  } else {
    w[3] = f.fip & 0xffff;
    w[4] = f.fcs;
    w[5] = f.fdp & 0xffff;
    w[6] = f.fds;
  }
  if (i.o32) {
    for (let k = 0; k < 7; k++) {
      let v = w[k]!;
      if (k < 3 || (k === 6 && !real)) v = (v & 0xffff) | 0xffff0000;
      c.wr32(i.seg, at(i, ea, k * 4), v | 0);
    }
  } else {
    for (let k = 0; k < 7; k++) c.wr16(i.seg, at(i, ea, k * 2), w[k]! & 0xffff);
  }
}

export function loadEnv(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  const real = realLayout(c);
  const w = new Array<number>(7);
  for (let k = 0; k < 7; k++) w[k] = i.o32 ? c.rd32(i.seg, at(i, ea, k * 4)) >>> 0 : c.rd16(i.seg, at(i, ea, k * 2));
  f.cw = (w[0]! & 0x1f7f) | 0x40;
  f.statusWord = w[1]! & 0xffff;
  f.tagWord = w[2]! & 0xffff;
  if (real) {
    const hiMask = i.o32 ? 0xffff : 0xf;
    f.fcs = 0;
    f.fds = 0;
    f.fip = (w[3]! & 0xffff) | (((w[4]! >>> 12) & hiMask) << 16);
    f.fop = w[4]! & 0x7ff;
    f.fdp = (w[5]! & 0xffff) | (((w[6]! >>> 12) & hiMask) << 16);
  } else if (i.o32) {
    f.fip = w[3]! | 0;
    f.fcs = w[4]! & 0xffff;
    f.fop = (w[4]! >>> 16) & 0x7ff;
    f.fdp = w[5]! | 0;
    f.fds = w[6]! & 0xffff;
  } else {
    f.fip = w[3]!;
    f.fcs = w[4]!;
    f.fdp = w[5]!;
    f.fds = w[6]!;
  }
  f.updateSummary();
}

/** FSAVE: ST(0)..ST(7) after the environment. The caller probed nothing yet for this part. */
export function saveRegs(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  const base = envSize(i);
  c.probeWrite(i.seg, at(i, ea, base), 80);
  for (let n = 0; n < 8; n++) {
    const p = f.phys(n);
    const o = base + n * 10;
    const m = f.man[p]!;
    c.wr32(i.seg, at(i, ea, o), Number(m & 0xffffffffn) | 0);
    c.wr32(i.seg, at(i, ea, o + 4), Number(m >> 32n) | 0);
    c.wr16(i.seg, at(i, ea, o + 8), (f.sgn[p]! << 15) | f.exp[p]!);
  }
}

/** FRSTOR: reads all 80 bytes first, then installs them (restart rule). */
export function restoreRegs(c: Cpu, f: Fpu, i: Insn, ea: number): void {
  const base = envSize(i);
  for (let n = 0; n < 8; n++) {
    const o = base + n * 10;
    const lo = c.rd32(i.seg, at(i, ea, o)) >>> 0;
    const hi = c.rd32(i.seg, at(i, ea, o + 4)) >>> 0;
    const se = c.rd16(i.seg, at(i, ea, o + 8));
    const p = f.phys(n);
    f.sgn[p] = se >> 15;
    f.exp[p] = se & EXP_MAX;
    f.man[p] = (BigInt(hi) << 32n) | BigInt(lo);
  }
}
