/**
 * x87 arithmetic against this project's recorded reference vectors: each vector was run on a real
 * x87 (fpu-vectors/x87run.c; regenerate with `node packages/cpu/test/fpu-vectors/gen.mjs`) and
 * ferry86 must produce the same status word, the same 80-bit ST(0)/ST(1) and the same memory
 * bytes, bit for bit, for every precision and rounding control, with exceptions masked and unmasked
 * (the program ends with the non-waiting FNSAVE, so unmasked exceptions are recorded, not taken).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flatMachine, runToHalt } from './helpers.ts';

type Vector = [string, number, string, string, number, number, string, string, string, number];
const { vectors, recordedOn } = JSON.parse(readFileSync(new URL('./fpu-vectors/vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
  recordedOn: string;
};

const DATA = 0x4000;
const A = DATA;
const B = DATA + 0x10;
const CW = DATA + 0x20;
const SW = DATA + 0x24;
const FL = DATA + 0x28;
const MEM = DATA + 0x50;
const IMG = DATA + 0x80;

const abs32 = (a: number): number[] => [a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, (a >>> 24) & 0xff];
/** Memory-operand form [disp32] with ModRM.reg = r. */
const m = (op: number, r: number): number[] => [op, (r << 3) | 5, ...abs32(MEM)];

const OPS: Record<string, number[]> = {
  fadd: [0xd8, 0xc1], fsub: [0xd8, 0xe1], fsubr: [0xd8, 0xe9], fmul: [0xd8, 0xc9], fdiv: [0xd8, 0xf1], fdivr: [0xd8, 0xf9],
  fsqrt: [0xd9, 0xfa], frndint: [0xd9, 0xfc], fscale: [0xd9, 0xfd], fprem: [0xd9, 0xf8], fprem1: [0xd9, 0xf5],
  fxtract: [0xd9, 0xf4], fcom: [0xd8, 0xd1], fucom: [0xdd, 0xe1], fxam: [0xd9, 0xe5], ftst: [0xd9, 0xe4],
  fst32: m(0xd9, 2), fst64: m(0xdd, 2), fist16: m(0xdf, 2), fist32: m(0xdb, 2), fistp64: m(0xdf, 7), fbstp: m(0xdf, 6),
  fld32: m(0xd9, 0), fld64: m(0xdd, 0),
  fldpi: [0xd9, 0xeb], fldl2e: [0xd9, 0xea], fldl2t: [0xd9, 0xe9], fldlg2: [0xd9, 0xec], fldln2: [0xd9, 0xed],
  fld1: [0xd9, 0xe8], fldz: [0xd9, 0xee],
  fiadd32: m(0xda, 0), fimul16: m(0xde, 1), fisubr32: m(0xda, 5), fidiv16: m(0xde, 6), ficomp32: m(0xda, 3),
  fadd32: m(0xd8, 0), fsub64: m(0xdc, 4), fdivr32: m(0xd8, 7), fcom64: m(0xdc, 2),
  fild16: m(0xdf, 0), fild32: m(0xdb, 0), fild64: m(0xdf, 5),
  faddp: [0xde, 0xc1], fsubp: [0xde, 0xe9], fsubrp: [0xde, 0xe1], fdivp: [0xde, 0xf9], fdivrp: [0xde, 0xf1],
  fsub_dc: [0xdc, 0xe9], fdivr_dc: [0xdc, 0xf1], fcompp: [0xde, 0xd9], fucompp: [0xda, 0xe9],
  fcomi: [0xdb, 0xf1], fucomip: [0xdf, 0xe9], fchs: [0xd9, 0xe0], fabs: [0xd9, 0xe1], fxch: [0xd9, 0xc9],
  fincstp: [0xd9, 0xf7], ffree1: [0xdd, 0xc1], fstp1: [0xdd, 0xd9], fstp80: m(0xdb, 7),
};

function program(op: number[]): number[] {
  return [
    0xdb, 0xe3, // fninit
    0xd9, 0x2d, ...abs32(CW), // fldcw [CW]
    0xdb, 0x2d, ...abs32(B), // fld tword [B]
    0xdb, 0x2d, ...abs32(A), // fld tword [A]
    ...op,
    0xdd, 0x3d, ...abs32(SW), // fnstsw [SW]
    0x9c, 0x8f, 0x05, ...abs32(FL), // pushfd; pop dword [FL]
    0xdd, 0x35, ...abs32(IMG), // fnsave [IMG]
    0xf4,
  ];
}

function put80(bytes: Uint8Array, at: number, hex: string): void {
  for (let k = 0; k < 10; k++) bytes[at + 9 - k] = parseInt(hex.slice(2 * k, 2 * k + 2), 16);
}
function get80(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let k = 9; k >= 0; k--) s += bytes[at + k]!.toString(16).padStart(2, '0');
  return s;
}

describe(`x87 against host vectors (${vectors.length}, recorded on ${recordedOn})`, () => {
  const byOp = new Map<string, Vector[]>();
  for (const v of vectors) {
    if (!byOp.has(v[0])) byOp.set(v[0], []);
    byOp.get(v[0])!.push(v);
  }
  for (const [op, list] of byOp) {
    it(`${op}: ${list.length} vectors bit-exact`, () => {
      const mach = flatMachine(program(OPS[op]!), 0x1000, { fpu: true });
      const ram = mach.phys.ram;
      const failures: string[] = [];
      const eflags = op === 'fcomi' || op === 'fucomip';
      for (const [, cw, a, b, sw, tw, r0, r1, mem, fl] of list) {
        ram.fill(0, DATA, DATA + 0x60);
        put80(ram, A, a);
        put80(ram, B, b);
        ram[CW] = cw & 0xff;
        ram[CW + 1] = cw >> 8;
        ram.fill(0xaa, MEM, MEM + 16);
        ram.set(ram.subarray(A, A + 8), MEM);
        mach.cpu.enterFlatProtectedMode(0x1000);
        mach.cpu.cr0 |= 0x20; // NE
        expect(runToHalt(mach.cpu)).toBe('halt');
        const gotSw = ram[SW]! | (ram[SW + 1]! << 8);
        let gotMem = '';
        for (let k = 0; k < 16; k++) gotMem += ram[MEM + k]!.toString(16).padStart(2, '0');
        const gotTw = ram[IMG + 8]! | (ram[IMG + 9]! << 8);
        const gotFl = eflags ? (ram[FL]! | (ram[FL + 1]! << 8)) & 0x8d5 : 0;
        const got = `${gotSw.toString(16)} ${gotTw.toString(16)} ${get80(ram, IMG + 28)} ${get80(ram, IMG + 38)} ${gotMem} ${gotFl.toString(16)}`;
        const want = `${sw.toString(16)} ${tw.toString(16)} ${r0} ${r1} ${mem} ${(eflags ? fl : 0).toString(16)}`;
        if (got !== want && failures.length < 10) failures.push(`cw=${cw.toString(16)} A=${a} B=${b}: want ${want} got ${got}`);
      }
      expect(failures).toEqual([]);
    });
  }
});
