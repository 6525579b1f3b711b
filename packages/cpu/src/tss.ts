/**
 * What the CPU reads from the current task-state segment without a task switch: the privileged
 * stack pointers (SDM vol. 3A §7.2.1, figures 7-2 and 7-11) and the I/O permission bitmap
 * (vol. 1 §19.5.2). The task switch itself is in taskswitch.ts.
 */
import * as constantsModule from './constants.ts';
import type { Cpu } from './cpu.ts';
import type { Descriptor } from './segmentation.ts';
import * as segmentationModule from './segmentation.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { EXC_SS, EXC_TS, SYS_TSS16_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_AVAIL, SYS_TSS32_BUSY } = constantsModule;
const { fetchDescriptor } = segmentationModule;

/** Results of readTssStack (one preallocated holder: no allocation per interrupt). */
export const tssStack = { ss: 0, sp: 0 };

/** Reads SSn:ESPn for privilege level `level` from the current TSS; #TS if it is not there. */
export function readTssStack(c: Cpu, level: number, ext: number): void {
  const type = c.trAttr & 0xf;
  const err = (c.trSel & 0xfffc) + ext;
  if (type === SYS_TSS32_AVAIL || type === SYS_TSS32_BUSY) {
    const off = 4 + level * 8;
    if (off + 5 > c.trLimit) c.raise(EXC_TS, err);
    tssStack.sp = c.mmu.readSys32((c.trBase + off) | 0) >>> 0;
    tssStack.ss = c.mmu.readSys16((c.trBase + off + 4) | 0);
  } else if (type === SYS_TSS16_AVAIL || type === SYS_TSS16_BUSY) {
    const off = 2 + level * 4;
    if (off + 3 > c.trLimit) c.raise(EXC_TS, err);
    tssStack.sp = c.mmu.readSys16((c.trBase + off) | 0);
    tssStack.ss = c.mmu.readSys16((c.trBase + off + 2) | 0);
  } else {
    c.raise(EXC_TS, err);
  }
}

/** The checks on a stack segment taken from the TSS for an inward transfer (#TS / #SS). */
export function checkTssStackSegment(c: Cpu, sel: number, cpl: number, ext: number, d: Descriptor): void {
  if ((sel & 0xfffc) === 0) c.raise(EXC_TS, ext);
  const err = (sel & 0xfffc) + ext;
  if (!fetchDescriptor(c, sel, d)) c.raise(EXC_TS, err);
  if ((sel & 3) !== cpl || d.dpl !== cpl || !d.isSegment || d.isCode || !d.rw) c.raise(EXC_TS, err);
  if (!d.present) c.raise(EXC_SS, err);
}

/**
 * I/O permission bitmap check for IN/OUT/INS/OUTS when CPL > IOPL: every bit for the accessed
 * ports must be 0, and the bitmap bytes must lie within the TSS limit. A 16-bit TSS has no bitmap.
 */
export function ioPermitted(c: Cpu, port: number, size: number): boolean {
  const type = c.trAttr & 0xf;
  if (type !== SYS_TSS32_AVAIL && type !== SYS_TSS32_BUSY) return false;
  if (0x67 > c.trLimit) return false;
  const mapBase = c.mmu.readSys16((c.trBase + 0x66) | 0);
  const byteOff = mapBase + (port >>> 3);
  if (byteOff + 1 > c.trLimit) return false;
  const bits = c.mmu.readSys16((c.trBase + byteOff) | 0);
  const mask = ((1 << size) - 1) << (port & 7);
  return (bits & mask) === 0;
}
