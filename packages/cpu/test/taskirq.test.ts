/**
 * Hardware interrupts and task switching / virtual-8086 mode: an IRQ through a task gate in the
 * IDT (nested task: link, NT, busy bits, CR0.TS, the interrupted task's state saved in its TSS),
 * and an IRQ taken in virtual-8086 mode (ring-0 handler, 9-slot frame, data segments nulled).
 */
import type { PhysicalMemory } from '@ferry86/mmu';
import { describe, expect, it } from 'vitest';
import type { InterruptController } from '../src/index.ts';
import { FLAT_GDT, gateDescriptor, makeMachine, runToHalt, segDescriptor, writeDescriptor } from './helpers.ts';

class OneIrq implements InterruptController {
  pending = false;
  hasInterrupt(): boolean {
    return this.pending;
  }
  acknowledge(): number {
    this.pending = false;
    return 0x20;
  }
}

const MAIN_TSS = 0x7000;
const TASK_TSS = 0x7100;
const IDT = 0x8000;

/** Flat ring-0 machine with a GDT (0x08 code, 0x10 data, 0x18 main TSS busy, 0x20 second TSS). */
function machine(code: number[]) {
  const pic = new OneIrq();
  const m = makeMachine({ pic });
  const { phys, cpu } = m;
  phys.writeBytes(0x1000, Uint8Array.from(code));
  writeDescriptor(phys, FLAT_GDT + 0x08, segDescriptor(0, 0xfffff, 0x9b, 0xc));
  writeDescriptor(phys, FLAT_GDT + 0x10, segDescriptor(0, 0xfffff, 0x93, 0xc));
  writeDescriptor(phys, FLAT_GDT + 0x18, segDescriptor(MAIN_TSS, 0x67, 0x8b, 0));
  writeDescriptor(phys, FLAT_GDT + 0x20, segDescriptor(TASK_TSS, 0x67, 0x89, 0));
  cpu.enterFlatProtectedMode(0x1000);
  cpu.gdtrBase = FLAT_GDT;
  cpu.gdtrLimit = 0x27;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 0x21 * 8 - 1;
  cpu.trSel = 0x18;
  cpu.trBase = MAIN_TSS;
  cpu.trLimit = 0x67;
  cpu.trAttr = 0x8b;
  cpu.regs.esp = 0x80000;
  phys.writePhys32(MAIN_TSS + 4, 0x70000); // ESP0
  phys.writePhys32(MAIN_TSS + 8, 0x10); // SS0
  return { ...m, pic };
}

function byte(phys: PhysicalMemory, a: number): number {
  return phys.readPhys32(a & ~3) >>> (8 * (a & 3)) & 0xff;
}

describe('IRQ through a task gate', () => {
  it('switches to the gate task as a nested task and saves the interrupted one', () => {
    // sti ; jmp $
    const { phys, cpu, pic } = machine([0xfb, 0xeb, 0xfe]);
    phys.writePhys32(IDT + 0x20 * 8, 0x0020_0000); // task gate -> TSS 0x20
    phys.writePhys32(IDT + 0x20 * 8 + 4, 0x8500);
    phys.writePhys32(TASK_TSS + 0x20, 0x2000); // EIP
    phys.writePhys32(TASK_TSS + 0x24, 2); // EFLAGS
    phys.writePhys32(TASK_TSS + 0x38, 0x60000); // ESP
    for (const [off, sel] of [[0x48, 0x10], [0x4c, 0x08], [0x50, 0x10], [0x54, 0x10], [0x58, 0x10], [0x5c, 0x10]]) {
      phys.writePhys32(TASK_TSS + off!, sel!);
    }
    phys.writeBytes(0x2000, Uint8Array.from([0xf4])); // hlt
    cpu.regs.ebx = 0x1234abcd;
    cpu.run(10);
    pic.pending = true;
    expect(runToHalt(cpu, 1000)).toBe('halt');
    expect(cpu.trSel).toBe(0x20);
    expect(cpu.eip).toBe(0x2001);
    expect(cpu.getEflags() & 0x4000).toBe(0x4000); // NT
    expect(cpu.cr0 & 8).toBe(8); // CR0.TS
    expect(phys.readPhys32(TASK_TSS) & 0xffff).toBe(0x18); // link
    expect(byte(phys, FLAT_GDT + 0x18 + 5)).toBe(0x8b); // the interrupted task stays busy
    expect(byte(phys, FLAT_GDT + 0x20 + 5)).toBe(0x8b);
    expect(phys.readPhys32(MAIN_TSS + 0x20)).toBe(0x1001); // interrupted at jmp $
    expect(phys.readPhys32(MAIN_TSS + 0x24) & 0x200).toBe(0x200); // with IF set
    expect(phys.readPhys32(MAIN_TSS + 0x34)).toBe(0x1234abcd); // EBX
  });
});

describe('IRQ in virtual-8086 mode', () => {
  it('goes to the ring-0 handler with the 9-slot frame and null data segments', () => {
    // Enter V86 at 2000:0000 by IRETD: push gs fs ds es ss esp eflags cs eip ; iretd
    const push = (v: number) => [0x68, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    const code = [
      ...push(0x5555), ...push(0x4444), ...push(0x3333), ...push(0x2222), ...push(0x3000), ...push(0xfff0),
      ...push(0x20202), ...push(0x2000), ...push(0), 0xcf,
    ];
    const { phys, cpu, pic } = machine(code);
    const [lo, hi] = gateDescriptor(0x08, 0x3000, 0x8e);
    phys.writePhys32(IDT + 0x20 * 8, lo);
    phys.writePhys32(IDT + 0x20 * 8 + 4, hi);
    phys.writeBytes(0x3000, Uint8Array.from([0xf4])); // ring-0 handler: hlt
    phys.writeBytes(0x20000, Uint8Array.from([0x40, 0xeb, 0xfd])); // l: inc ax ; jmp l
    cpu.run(20);
    expect(cpu.v86).toBe(true);
    expect(cpu.cpl).toBe(3);
    pic.pending = true;
    expect(runToHalt(cpu, 1000)).toBe('halt');
    expect(cpu.v86).toBe(false);
    expect(cpu.cpl).toBe(0);
    expect(cpu.regs.esp).toBe(0x70000 - 36);
    const frame = Array.from({ length: 9 }, (_, k) => phys.readPhys32(0x70000 - 36 + 4 * k) >>> 0);
    const [eip, cs, eflags, esp, ss, es, ds, fs, gs] = frame;
    expect([cs, esp, ss, es, ds, fs, gs]).toEqual([0x2000, 0xfff0, 0x3000, 0x2222, 0x3333, 0x4444, 0x5555]);
    expect([0, 1, 3]).toContain(eip);
    expect(eflags! & 0x20000).toBe(0x20000);
    expect([cpu.regs.ds, cpu.regs.es, cpu.regs.fs, cpu.regs.gs]).toEqual([0, 0, 0, 0]);
  });
});
