/**
 * x87 system behaviour: #NM and #MF delivery by CR0 (EM, MP, TS, NE), FERR# for legacy error
 * reporting, FSAVE/FRSTOR/FSTENV images, stack faults, FCMOV/FCOMI, BCD and 64-bit integer round
 * trips, the transcendentals' accuracy, CPUID, and the cpu0 state section (v1 upgrade).
 * Bit-exact arithmetic is checked against real hardware in fpu-host.test.ts.
 */
import { loadStateful, upgradeRecord, validateRecord } from '@ferry86/mmu';
import { describe, expect, it } from 'vitest';
import { CPU_STATE_SCHEMA } from '../src/index.ts';
import { flatMachine, gateDescriptor, makeMachine, runToHalt, type TestMachine } from './helpers.ts';

const IDT = 0x7000;
const NM_HANDLER = 0x2000;
const MF_HANDLER = 0x2100;
const SEEN = 0x9000;
const D = 0x5000; // data area
const abs = (a: number): number[] => [a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, (a >>> 24) & 0xff];

const FLD1 = [0xd9, 0xe8];
const FLDZ = [0xd9, 0xee];
const FLDPI = [0xd9, 0xeb];
const FDIVP = [0xde, 0xf9];
const FWAIT = [0x9b];
const HLT = [0xf4];
const fldcw = (a: number): number[] => [0xd9, 0x2d, ...abs(a)];
const fnsave = (a: number): number[] => [0xdd, 0x35, ...abs(a)];
const frstor = (a: number): number[] => [0xdd, 0x25, ...abs(a)];
const fnstenv = (a: number): number[] => [0xd9, 0x35, ...abs(a)];
const fstpQ = (a: number): number[] => [0xdd, 0x1d, ...abs(a)];
const fldQ = (a: number): number[] => [0xdd, 0x05, ...abs(a)];

/** A flat 32-bit machine with an FPU, #NM and #MF handlers that record the vector and halt. */
function machine(code: number[], opts: { fpu?: boolean } = {}): TestMachine {
  const m = flatMachine(code, 0x1000, { fpu: opts.fpu ?? true });
  for (const [vec, h] of [[7, NM_HANDLER], [16, MF_HANDLER]] as const) {
    const [lo, hi] = gateDescriptor(0x08, h, 0x8e);
    m.phys.writePhys32(IDT + vec * 8, lo);
    m.phys.writePhys32(IDT + vec * 8 + 4, hi);
    // mov dword [SEEN], vec ; hlt
    m.phys.writeBytes(h, Uint8Array.from([0xc7, 0x05, ...abs(SEEN), vec, 0, 0, 0, 0xf4]));
  }
  m.cpu.idtrBase = IDT;
  m.cpu.idtrLimit = 0x7ff;
  m.phys.writePhys32(SEEN, 0xffffffff);
  m.cpu.fpu?.init(); // as a BIOS or OS would (FNINIT) before handing over
  return m;
}

/** The vector a handler saw (or -1) and the EIP it was given. */
function trap(m: TestMachine): { vector: number; eip: number } {
  const v = m.phys.readPhys32(SEEN) | 0;
  return { vector: v, eip: v < 0 ? -1 : m.phys.readPhys32(m.cpu.regs.esp) };
}

function readF64(m: TestMachine, a: number): number {
  return new DataView(m.phys.ram.buffer, m.phys.ram.byteOffset).getFloat64(a, true);
}
function writeF64(m: TestMachine, a: number, v: number): void {
  new DataView(m.phys.ram.buffer, m.phys.ram.byteOffset).setFloat64(a, v, true);
}

describe('device-not-available (#NM)', () => {
  it('faults every escape when CR0.EM or CR0.TS is set, at the instruction', () => {
    for (const bit of [4, 8]) {
      const m = machine([...FLD1, ...HLT]);
      m.cpu.cr0 |= bit;
      runToHalt(m.cpu);
      expect(trap(m)).toEqual({ vector: 7, eip: 0x1000 });
    }
  });

  it('faults WAIT only when both MP and TS are set (SDM vol. 3A table 2-2)', () => {
    const ts = machine([...FWAIT, ...HLT]);
    ts.cpu.cr0 |= 8;
    runToHalt(ts.cpu);
    expect(trap(ts).vector).toBe(-1);
    const mpts = machine([...FWAIT, ...HLT]);
    mpts.cpu.cr0 |= 8 | 2;
    runToHalt(mpts.cpu);
    expect(trap(mpts)).toEqual({ vector: 7, eip: 0x1000 });
  });

  it('keeps the no-FPU behaviour for a CPU built without one', () => {
    const m = machine([0xdd, 0x3d, ...abs(D), ...HLT], { fpu: false }); // fnstsw [D]
    m.phys.writePhys32(D, 0x1234);
    runToHalt(m.cpu);
    expect(m.phys.readPhys32(D)).toBe(0x1234);
    const cpuid = flatMachine([0xb8, 1, 0, 0, 0, 0x0f, 0xa2, ...HLT]);
    runToHalt(cpuid.cpu);
    expect(cpuid.cpu.regs.edx & 1).toBe(0);
  });

  it('comes out of RESET with CW 0040H and every register +0.0 (SDM vol. 3A table 9-1)', () => {
    const f = makeMachine({ fpu: true }).cpu.fpu!;
    expect([f.cw, f.statusWord, f.tagWord]).toEqual([0x0040, 0, 0x5555]);
  });

  it('advertises the FPU in CPUID.1:EDX bit 0 when fitted, and not FXSR', () => {
    const m = flatMachine([0xb8, 1, 0, 0, 0, 0x0f, 0xa2, ...HLT], 0x1000, { fpu: true });
    runToHalt(m.cpu);
    expect(m.cpu.regs.edx & 1).toBe(1);
    expect(m.cpu.regs.edx & (1 << 24)).toBe(0);
  });
});

describe('unmasked exceptions', () => {
  // Unmask ZE, divide 1 by 0: the exception is pending, reported at the next waiting instruction.
  const CW_ZE = 0x037b;
  const prog = [...fldcw(D), ...FLD1, ...FLDZ, ...FDIVP, 0xdf, 0xe0 /* fnstsw ax */, ...FLD1, ...HLT];
  const atFld1 = 0x1000 + 6 + 2 + 2 + 2 + 2;

  it('delivers #MF (vector 16) at the next waiting instruction when CR0.NE = 1', () => {
    const m = machine(prog);
    m.phys.writePhys32(D, CW_ZE);
    m.cpu.cr0 |= 0x20;
    runToHalt(m.cpu);
    expect(trap(m)).toEqual({ vector: 16, eip: atFld1 });
    // FNSTSW AX (non-waiting) ran and saw ES, B and ZE; the division result was not stored.
    expect(m.cpu.regs.eax & 0xffff & 0x80ff).toBe(0x8084);
    expect(m.cpu.fpu!.isEmpty(0)).toBe(false);
  });

  it('signals FERR# (for IRQ 13) instead when CR0.NE = 0, and FNCLEX withdraws it', () => {
    const m = machine([...prog.slice(0, -1), 0xdb, 0xe2 /* fnclex */, ...HLT]);
    m.phys.writePhys32(D, CW_ZE);
    const seen: boolean[] = [];
    m.cpu.onFerr((on) => seen.push(on));
    runToHalt(m.cpu);
    expect(trap(m).vector).toBe(-1);
    expect(seen).toEqual([true, false]);
  });

  it('responds to a masked stack overflow with the QNaN indefinite, IE, SF and C1', () => {
    const m = machine([...Array(9).fill(FLD1).flat(), 0xdf, 0xe0, ...fstpQ(D), ...HLT]);
    runToHalt(m.cpu);
    expect(m.cpu.regs.eax & 0x4741).toBe(0x0241);
    expect(m.phys.readPhys32(D + 4) >>> 0).toBe(0xfff80000);
  });
});

describe('state images', () => {
  it('FNSAVE writes the 108-byte protected-mode image and reinitialises; FRSTOR brings it back', () => {
    const code = [...FLDPI, ...FLD1, ...fnsave(D), 0xdf, 0xe0, ...frstor(D), ...FLDZ, ...fnsave(D + 0x100), ...HLT];
    const m = machine(code);
    runToHalt(m.cpu);
    const p = m.phys;
    expect(p.readPhys32(D) >>> 0).toBe(0xffff037f); // CW
    expect(p.readPhys32(D + 4) >>> 0).toBe(0xffff3000); // SW: TOP = 6
    expect(p.readPhys32(D + 8) >>> 0).toBe(0xffff0fff); // TW: R6, R7 valid
    expect(p.readPhys32(D + 12)).toBe(0x1002); // FIP: the FLD1
    expect(p.readPhys32(D + 16) >>> 0).toBe((0x1e8 << 16) | 0x08); // FOP D9 E8, FCS
    // ST(0) = 1.0, ST(1) = pi, 80-bit.
    expect([p.readPhys32(D + 28), p.readPhys32(D + 32) >>> 0, p.readPhys16(D + 36)]).toEqual([0, 0x80000000, 0x3fff]);
    expect([p.readPhys32(D + 38) >>> 0, p.readPhys32(D + 42) >>> 0, p.readPhys16(D + 46)]).toEqual([0x2168c235, 0xc90fdaa2, 0x4000]);
    expect(m.cpu.regs.eax & 0xffff).toBe(0); // after FNSAVE: FNINIT state
    // After FRSTOR and FLDZ: three registers in use, TOP = 5.
    expect(p.readPhys32(D + 0x104) & 0x3800).toBe(0x2800);
    expect(p.readPhys32(D + 0x108) & 0xffff).toBe(0x07ff); // R5 zero, R6 and R7 valid
  });

  it('FNSTENV with a 16-bit operand size writes the 14-byte protected-mode layout and masks all', () => {
    const code = [...FLD1, 0x66, ...fnstenv(D), 0x9b, 0xd9, 0x3d, ...abs(D + 0x20) /* fstcw */, ...HLT];
    const m = machine(code);
    m.phys.writeBytes(D, new Uint8Array(32).fill(0xee));
    runToHalt(m.cpu);
    const w = (k: number): number => m.phys.readPhys16(D + 2 * k);
    expect([w(0), w(1), w(2), w(3), w(4)]).toEqual([0x037f, 0x3800, 0x3fff, 0x1000, 0x08]);
    expect(w(7)).toBe(0xeeee); // nothing beyond 14 bytes
    expect(m.phys.readPhys16(D + 0x20)).toBe(0x037f);
  });

  it('FNSTENV in real mode stores the linear instruction pointer with FOP', () => {
    const m = makeMachine({ fpu: true });
    // At 0100:0010 (linear 0x1010): fld1 ; fnstenv [0x5000] (16-bit) ; hlt
    m.phys.writeBytes(0x1010, Uint8Array.from([...FLD1, 0xd9, 0x36, 0x00, 0x50, ...HLT]));
    m.cpu.setSegReal(1, 0x100);
    m.cpu.setSegReal(3, 0);
    m.cpu.eip = 0x10;
    runToHalt(m.cpu);
    const w = (k: number): number => m.phys.readPhys16(D + 2 * k);
    expect([w(3), w(4)]).toEqual([0x1010, 0x01e8]);
  });
});

describe('conversions and P6 additions', () => {
  it('round-trips 18-digit packed BCD and 64-bit integers', () => {
    // fbld [D] ; fbstp [D+16] ; fild qword [D+32] ; fistp qword [D+48]
    const code = [0xdf, 0x25, ...abs(D), 0xdf, 0x35, ...abs(D + 16), 0xdf, 0x2d, ...abs(D + 32), 0xdf, 0x3d, ...abs(D + 48), ...HLT];
    const m = machine(code);
    const bcd = [0x89, 0x67, 0x45, 0x23, 0x01, 0x89, 0x67, 0x45, 0x23, 0x80];
    m.phys.writeBytes(D, Uint8Array.from(bcd));
    m.phys.writePhys32(D + 32, 0x89abcdef | 0);
    m.phys.writePhys32(D + 36, 0x81234567 | 0);
    runToHalt(m.cpu);
    expect(Array.from(m.phys.ram.subarray(D + 16, D + 26))).toEqual(bcd);
    expect([m.phys.readPhys32(D + 48) >>> 0, m.phys.readPhys32(D + 52) >>> 0]).toEqual([0x89abcdef, 0x81234567]);
  });

  it('FCOMI sets ZF/PF/CF and FCMOVB moves on CF', () => {
    // fld qword [D] (2.0) ; fld1 ; fcomi st0, st1 ; fcmovb st0, st1 ; fstp qword [D+8] ; hlt
    const m = machine([...fldQ(D), ...FLD1, 0xdb, 0xf1, 0xda, 0xc1, ...fstpQ(D + 8), ...HLT]);
    writeF64(m, D, 2);
    runToHalt(m.cpu);
    expect(m.cpu.regs.eflags & 0x45).toBe(0x01);
    expect(readF64(m, D + 8)).toBe(2);
  });

  it('computes the transcendentals to double accuracy', () => {
    const cases: Array<[number[], number[], (x: number, y: number) => number[]]> = [
      [[0xd9, 0xfe], [0.5], (x) => [Math.sin(x)]],
      [[0xd9, 0xff], [0.5], (x) => [Math.cos(x)]],
      [[0xd9, 0xf2], [0.5], (x) => [1, Math.tan(x)]],
      [[0xd9, 0xfb], [0.5], (x) => [Math.cos(x), Math.sin(x)]],
      [[0xd9, 0xf3], [3, 2], (x, y) => [Math.atan2(x, y)]],
      [[0xd9, 0xf1], [1.5, 10], (x, y) => [x * Math.log2(y)]],
      [[0xd9, 0xf0], [0.25], (x) => [2 ** x - 1]],
    ];
    for (const [op, args, want] of cases) {
      const loads = args.flatMap((_, k) => fldQ(D + 8 * k));
      const w = want(args[0]!, args[1] ?? 0);
      const stores = w.flatMap((_, k) => fstpQ(D + 64 + 8 * k));
      const m = machine([...loads, ...op, ...stores, ...HLT]);
      args.forEach((v, k) => writeF64(m, D + 8 * k, v));
      runToHalt(m.cpu);
      w.forEach((v, k) => expect(readF64(m, D + 64 + 8 * k)).toBeCloseTo(v, 14));
    }
  });
});

describe('cpu0 state with the FPU', () => {
  it('carries the FPU through save and load, exactly', () => {
    const code = [...FLDPI, ...FLD1, ...FLDZ, ...FDIVP, ...HLT];
    const a = machine(code);
    a.phys.writePhys32(D, 0x0b7f);
    runToHalt(a.cpu);
    const rec = a.cpu.saveState();
    validateRecord('cpu0', a.cpu.schema, rec);
    const b = machine([]);
    loadStateful(b.cpu, rec);
    expect(b.cpu.saveState()).toEqual(rec);
    const fa = a.cpu.fpu!;
    const fb = b.cpu.fpu!;
    expect([fb.statusWord, fb.tagWord, fb.cw]).toEqual([fa.statusWord, fa.tagWord, fa.cw]);
    expect(Array.from(fb.man)).toEqual(Array.from(fa.man));
  });

  it('loads a version 1 record (no FPU fields) as the FNINIT state', () => {
    const a = machine([...FLDPI, ...HLT]);
    runToHalt(a.cpu);
    const v2 = a.cpu.saveState();
    const v1: Record<string, unknown> = { ...v2 };
    for (const k of Object.keys(v1)) if (k.startsWith('fpu')) delete v1[k];
    const up = upgradeRecord('cpu0', CPU_STATE_SCHEMA, 1, v1 as typeof v2);
    const b = machine([]);
    loadStateful(b.cpu, up);
    const f = b.cpu.fpu!;
    expect([f.cw, f.statusWord, f.tagWord]).toEqual([0x037f, 0, 0xffff]);
    expect(b.cpu.regs.eip).toBe(a.cpu.regs.eip);
  });
});

describe('restartability of x87 memory instructions', () => {
  it('FSTP to an absent page changes nothing and completes once the page arrives', () => {
    const m = machine([...FLDPI, ...FLD1, ...fstpQ(0x200000), ...HLT]);
    m.phys.presence.markAbsent(0x200);
    expect(runToHalt(m.cpu)).toBe('absent');
    expect(m.cpu.regs.eip).toBe(0x1004);
    const f = m.cpu.fpu!;
    expect([f.top, f.tagWord]).toEqual([6, 0x0fff]);
    m.phys.fillPage(0x200, null);
    expect(runToHalt(m.cpu)).toBe('halt');
    expect([f.top, f.tagWord]).toEqual([7, 0x3fff]);
    expect(readF64(m, 0x200000)).toBe(1);
  });

  it('FNSAVE and FRSTOR straddling an absent page leave the FPU as it was', () => {
    const area = 0x1fff0; // the image runs into page 0x20
    const save = machine([...FLD1, ...fnsave(area), ...HLT]);
    save.phys.presence.markAbsent(0x20);
    expect(runToHalt(save.cpu)).toBe('absent');
    expect(save.cpu.fpu!.top).toBe(7); // not reinitialised
    save.phys.fillPage(0x20, null);
    expect(runToHalt(save.cpu)).toBe('halt');
    expect(save.cpu.fpu!.top).toBe(0);
    expect(save.phys.readPhys16(area + 28 + 8)).toBe(0x3fff); // ST(0) = 1.0 in the image

    const rest = machine([...frstor(area), ...HLT]);
    rest.phys.writeBytes(area, save.phys.ram.subarray(area, area + 108));
    const page = Uint8Array.from(rest.phys.ram.subarray(0x20000, 0x21000));
    rest.phys.presence.markAbsent(0x20);
    expect(runToHalt(rest.cpu)).toBe('absent');
    expect(rest.cpu.fpu!.tagWord).toBe(0xffff);
    rest.phys.fillPage(0x20, page);
    expect(runToHalt(rest.cpu)).toBe('halt');
    expect([rest.cpu.fpu!.top, rest.cpu.fpu!.tagWord]).toEqual([7, 0x3fff]);
  });
});
