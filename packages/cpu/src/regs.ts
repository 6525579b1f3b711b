/**
 * Named register accessors for loaders, tests and debuggers (cpu.regs.eax = ...). Not used by the
 * interpreter itself, which indexes the register views directly.
 */
import { CR0_PE, CS, DS, ES, FLAGS_FIXED_ONE, FS, GS, SS, VM } from './constants.ts';
import type { Cpu } from './cpu.ts';

export class CpuRegisters {
  constructor(private readonly c: Cpu) {}

  get eax(): number { return this.c.r32[0]! >>> 0; }
  set eax(v: number) { this.c.r32[0] = v; }
  get ecx(): number { return this.c.r32[1]! >>> 0; }
  set ecx(v: number) { this.c.r32[1] = v; }
  get edx(): number { return this.c.r32[2]! >>> 0; }
  set edx(v: number) { this.c.r32[2] = v; }
  get ebx(): number { return this.c.r32[3]! >>> 0; }
  set ebx(v: number) { this.c.r32[3] = v; }
  get esp(): number { return this.c.r32[4]! >>> 0; }
  set esp(v: number) { this.c.r32[4] = v; }
  get ebp(): number { return this.c.r32[5]! >>> 0; }
  set ebp(v: number) { this.c.r32[5] = v; }
  get esi(): number { return this.c.r32[6]! >>> 0; }
  set esi(v: number) { this.c.r32[6] = v; }
  get edi(): number { return this.c.r32[7]! >>> 0; }
  set edi(v: number) { this.c.r32[7] = v; }

  get eip(): number { return this.c.eip >>> 0; }
  set eip(v: number) {
    this.c.eip = this.c.code32 ? v >>> 0 : v & 0xffff;
    this.c.exit = true;
  }

  /** EFLAGS as the guest would read it with PUSHFD. */
  get eflags(): number { return this.c.getEflags(); }
  /** Writes every implemented EFLAGS bit but VM (loader use: no privilege rules). */
  set eflags(v: number) { this.c.setEflags(v | FLAGS_FIXED_ONE, 0x3d7fd7); }

  get cs(): number { return this.c.segSel[CS]!; }
  get ds(): number { return this.c.segSel[DS]!; }
  get es(): number { return this.c.segSel[ES]!; }
  get ss(): number { return this.c.segSel[SS]!; }
  get fs(): number { return this.c.segSel[FS]!; }
  get gs(): number { return this.c.segSel[GS]!; }
  /** In real mode, segment setters load selector and base = selector << 4. */
  set cs(v: number) { this.setReal(CS, v); }
  set ds(v: number) { this.setReal(DS, v); }
  set es(v: number) { this.setReal(ES, v); }
  set ss(v: number) { this.setReal(SS, v); }
  set fs(v: number) { this.setReal(FS, v); }
  set gs(v: number) { this.setReal(GS, v); }

  private setReal(seg: number, v: number): void {
    if ((this.c.cr0 & CR0_PE) !== 0 && (this.c.flags & VM) === 0) {
      throw new Error('segment register setters work in real mode only; use Cpu.setSegCache in protected mode');
    }
    this.c.setSegReal(seg, v);
  }
}
