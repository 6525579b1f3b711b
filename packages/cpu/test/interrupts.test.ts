/**
 * Interrupt and exception delivery: hardware interrupts through the IDT (same privilege and from
 * ring 3 with a TSS stack switch), the STI shadow, HLT wake-up, double and triple faults.
 */
import { describe, expect, it } from 'vitest';
import type { InterruptController } from '../src/index.ts';
import { flatMachine, gateDescriptor, makeMachine, runToHalt, segDescriptor, writeDescriptor } from './helpers.ts';

class FakePic implements InterruptController {
  pending = false;
  vector = 0x20;
  acks = 0;
  hasInterrupt(): boolean {
    return this.pending;
  }
  acknowledge(): number {
    this.pending = false;
    this.acks++;
    return this.vector;
  }
}

const IDT = 0x7000;
const HANDLER = 0x2000;
const COUNTER = 0x9000;
// inc dword [0x9000] ; iretd
const IRQ_HANDLER = [0xff, 0x05, 0x00, 0x90, 0x00, 0x00, 0xcf];

function setupIdt(phys: { writePhys32(a: number, v: number): void }, vector: number, handler: number, access = 0x8e): void {
  const [lo, hi] = gateDescriptor(0x08, handler, access);
  phys.writePhys32(IDT + vector * 8, lo);
  phys.writePhys32(IDT + vector * 8 + 4, hi);
}

describe('hardware interrupts', () => {
  // sti ; mov ecx, 1000 ; l: inc eax ; loop l ; hlt ; hlt
  const code = [0xfb, 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x40, 0xe2, 0xfd, 0xf4, 0xf4];

  function machine() {
    const pic = new FakePic();
    const m = flatMachine(code);
    m.cpu.pic = pic;
    m.phys.writeBytes(HANDLER, Uint8Array.from(IRQ_HANDLER));
    setupIdt(m.phys, 0x20, HANDLER);
    m.cpu.idtrBase = IDT;
    m.cpu.idtrLimit = 0x800 - 1;
    return { ...m, pic };
  }

  it('holds an interrupt off for one instruction after STI', () => {
    const { cpu, phys, pic } = machine();
    pic.pending = true;
    expect(cpu.run(1)).toBe(1); // STI
    expect(pic.acks).toBe(0);
    expect(cpu.run(1)).toBe(1); // MOV ECX: still in the STI shadow
    expect(pic.acks).toBe(0);
    expect(cpu.regs.eip).toBe(0x1006);
    cpu.run(1); // interrupt taken, then the handler's INC
    expect(pic.acks).toBe(1);
    expect(phys.readPhys32(COUNTER)).toBe(1);
    // The frame holds the interrupted EIP (the INC EAX of the loop).
    expect(phys.readPhys32(cpu.regs.esp)).toBe(0x1006);
    cpu.run(1); // IRET
    expect(cpu.regs.eip).toBe(0x1006);
    expect(cpu.regs.eflags & 0x200).toBe(0x200);
  });

  it('wakes from HLT when an interrupt arrives and resumes after it', () => {
    const { cpu, phys, pic } = machine();
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.ecx).toBe(0);
    expect(cpu.regs.eax).toBe(1000);
    expect(cpu.run(100)).toBe(0); // still halted, nothing pending
    expect(cpu.stopReason).toBe('halt');
    pic.pending = true;
    expect(runToHalt(cpu)).toBe('halt');
    expect(phys.readPhys32(COUNTER)).toBe(1);
    expect(cpu.regs.eip).toBe(0x100b); // the second HLT retired
  });

  it('is not taken while IF is clear', () => {
    const { cpu, pic } = machine();
    cpu.regs.eip = 0x1001; // skip STI
    pic.pending = true;
    expect(runToHalt(cpu)).toBe('halt');
    expect(pic.acks).toBe(0);
  });
});

describe('interrupt from ring 3 through the TSS stack', () => {
  it('switches to SS0:ESP0, pushes the ring-3 frame and returns with IRET', () => {
    const pic = new FakePic();
    const m = makeMachine({ pic });
    const { cpu, phys } = m;
    const GDT = 0x6000;
    const TSS = 0x6800;
    writeDescriptor(phys, GDT + 0x08, segDescriptor(0, 0xfffff, 0x9a, 0xc));
    writeDescriptor(phys, GDT + 0x10, segDescriptor(0, 0xfffff, 0x92, 0xc));
    writeDescriptor(phys, GDT + 0x18, segDescriptor(0, 0xfffff, 0xfa, 0xc));
    writeDescriptor(phys, GDT + 0x20, segDescriptor(0, 0xfffff, 0xf2, 0xc));
    writeDescriptor(phys, GDT + 0x28, segDescriptor(TSS, 0x67, 0x89, 0));
    phys.writePhys32(TSS + 4, 0x90000); // ESP0
    phys.writePhys32(TSS + 8, 0x10); // SS0
    // Ring-3 code: l: inc eax ; jmp l
    phys.writeBytes(0x1000, Uint8Array.from([0x40, 0xeb, 0xfd]));
    phys.writeBytes(HANDLER, Uint8Array.from(IRQ_HANDLER));
    setupIdt(phys, 0x20, HANDLER);
    cpu.enterFlatProtectedMode(0x1000);
    cpu.gdtrBase = GDT;
    cpu.gdtrLimit = 0x2f;
    cpu.idtrBase = IDT;
    cpu.idtrLimit = 0x7ff;
    cpu.trSel = 0x28;
    cpu.trBase = TSS;
    cpu.trLimit = 0x67;
    cpu.trAttr = 0x8b;
    for (const seg of [0, 2, 3, 4, 5]) cpu.setSegCache(seg, 0x23, 0, 0xffffffff, 0xf3 | 0xc000);
    cpu.setSegCache(1, 0x1b, 0, 0xffffffff, 0xfb | 0xc000);
    cpu.cpl = 3;
    cpu.regs.esp = 0x70000;
    cpu.regs.eflags = 0x202;
    cpu.run(10);
    pic.pending = true;
    cpu.run(1); // delivery + the handler's INC at CPL 0
    expect(cpu.cpl).toBe(0);
    expect(cpu.regs.ss).toBe(0x10);
    const esp = cpu.regs.esp;
    expect(esp).toBe(0x90000 - 20);
    const frame = [0, 4, 8, 12, 16].map((o) => phys.readPhys32(esp + o));
    expect(frame[1]).toBe(0x1b); // CS
    expect(frame[2]! & 0x200).toBe(0x200); // EFLAGS.IF
    expect(frame[3]).toBe(0x70000); // ESP
    expect(frame[4]).toBe(0x23); // SS
    cpu.run(1); // IRET back to ring 3
    expect(cpu.cpl).toBe(3);
    expect(cpu.regs.cs).toBe(0x1b);
    expect(cpu.regs.ss).toBe(0x23);
    expect(cpu.regs.esp).toBe(0x70000);
    expect(phys.readPhys32(COUNTER)).toBe(1);
    cpu.run(10);
    expect(cpu.cpl).toBe(3);
  });
});

describe('double and triple faults', () => {
  it('delivers #DF when #GP cannot be delivered (gate not present)', () => {
    // mov ax, 0x1000 ; mov ds, ax ; hlt
    const m = flatMachine([0x66, 0xb8, 0x00, 0x10, 0x8e, 0xd8, 0xf4]);
    const { cpu, phys } = m;
    // #DF handler: hlt
    phys.writeBytes(0x3000, Uint8Array.from([0xf4]));
    setupIdt(phys, 8, 0x3000);
    setupIdt(phys, 13, 0x3000, 0x0e); // present bit clear
    cpu.idtrBase = IDT;
    cpu.idtrLimit = 0x7ff;
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.eip).toBe(0x3001);
    expect(phys.readPhys32(cpu.regs.esp)).toBe(0); // #DF error code
    expect(phys.readPhys32(cpu.regs.esp + 4)).toBe(0x1004); // the faulting MOV DS
  });

  it('stops with "shutdown" on a triple fault', () => {
    // lidt [z] ; int 3 ; z: dw 0, dd 0
    const m = flatMachine([0x0f, 0x01, 0x1d, 0x09, 0x10, 0x00, 0x00, 0xcd, 0x03, 0, 0, 0, 0, 0, 0]);
    expect(runToHalt(m.cpu)).toBe('shutdown');
    expect(m.cpu.shutdown).toBe(true);
    expect(m.cpu.run(10)).toBe(0);
    expect(m.cpu.stopReason).toBe('shutdown');
    m.cpu.reset();
    expect(m.cpu.shutdown).toBe(false);
  });
});

describe('real mode', () => {
  it('starts at F000:FFF0 with CS base FFFF0000 (ROM at the top of 4 GiB)', () => {
    const m = makeMachine();
    const rom = new Uint8Array(0x10000);
    rom.set([0xb8, 0x34, 0x12, 0xf4], 0xfff0); // mov ax, 0x1234 ; hlt
    m.phys.mapRom(0xffff0000, rom);
    m.cpu.reset();
    expect(runToHalt(m.cpu)).toBe('halt');
    expect(m.cpu.regs.eax & 0xffff).toBe(0x1234);
    expect(m.cpu.regs.cs).toBe(0xf000);
  });

  it('delivers INT n through the IVT and returns with IRET', () => {
    const m = makeMachine();
    const { cpu, phys } = m;
    // IVT[0x21] = 0000:0600 ; handler: mov bx, 0x55 ; iret
    phys.writePhys16(0x21 * 4, 0x0600);
    phys.writePhys16(0x21 * 4 + 2, 0);
    phys.writeBytes(0x600, Uint8Array.from([0xbb, 0x55, 0x00, 0xcf]));
    // at 0000:0500: int 0x21 ; hlt
    phys.writeBytes(0x500, Uint8Array.from([0xcd, 0x21, 0xf4]));
    cpu.regs.cs = 0;
    cpu.regs.eip = 0x500;
    cpu.regs.ss = 0;
    cpu.regs.esp = 0x7000;
    cpu.idtrLimit = 0x3ff;
    expect(runToHalt(cpu)).toBe('halt');
    expect(cpu.regs.ebx & 0xffff).toBe(0x55);
    expect(cpu.regs.eip).toBe(0x503);
    expect(cpu.regs.esp).toBe(0x7000);
  });
});
