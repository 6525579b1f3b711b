/** Test helpers: a small flat-memory machine around the real Mmu. */
import { Mmu, PhysicalMemory } from '@ferry86/mmu';
import { Cpu, type InterruptController, type IoPorts, NO_INTERRUPTS, NO_IO } from '../src/index.ts';

export interface TestMachine {
  phys: PhysicalMemory;
  mmu: Mmu;
  cpu: Cpu;
}

export function makeMachine(opts: { ramSize?: number; io?: IoPorts; pic?: InterruptController; fpu?: boolean } = {}): TestMachine {
  const phys = new PhysicalMemory({ ramSize: opts.ramSize ?? 4 << 20 });
  const mmu = new Mmu(phys);
  const cpu = new Cpu(mmu, opts.io ?? NO_IO, opts.pic ?? NO_INTERRUPTS, { fpu: opts.fpu === true });
  return { phys, mmu, cpu };
}

/** Where flatMachine puts its GDT: null, 0x08 flat code, 0x10 flat data (all DPL 0). */
export const FLAT_GDT = 0x6000;

/** Loads `code` at `addr`, enters flat 32-bit protected mode at it with a matching GDT loaded. */
export function flatMachine(code: ArrayLike<number>, addr = 0x1000, opts: { ramSize?: number; fpu?: boolean } = {}): TestMachine {
  const m = makeMachine(opts);
  m.phys.writeBytes(addr, Uint8Array.from(code));
  writeDescriptor(m.phys, FLAT_GDT + 0x08, segDescriptor(0, 0xfffff, 0x9b, 0xc));
  writeDescriptor(m.phys, FLAT_GDT + 0x10, segDescriptor(0, 0xfffff, 0x93, 0xc));
  m.cpu.enterFlatProtectedMode(addr);
  m.cpu.gdtrBase = FLAT_GDT;
  m.cpu.gdtrLimit = 0x17;
  m.cpu.regs.esp = 0x80000;
  return m;
}

/** Runs until HLT (or the budget runs out) and returns the stop reason. */
export function runToHalt(cpu: Cpu, budget = 1_000_000): string {
  let n = 0;
  while (n < budget) {
    n += cpu.run(budget - n);
    if (cpu.stopReason !== 'limit') return cpu.stopReason;
  }
  return 'limit';
}

/** 8-byte segment descriptor (SDM vol. 3A figure 3-8); `access` = P DPL S type, `flags` = G D/B L AVL. */
export function segDescriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

/** 8-byte gate descriptor (interrupt/trap/call gate). */
export function gateDescriptor(sel: number, offset: number, access: number, params = 0): [number, number] {
  const lo = ((sel & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | ((access & 0xff) << 8) | (params & 0x1f);
  return [lo >>> 0, hi >>> 0];
}

export function writeDescriptor(phys: PhysicalMemory, addr: number, d: [number, number]): void {
  phys.writePhys32(addr, d[0]);
  phys.writePhys32(addr + 4, d[1]);
}
