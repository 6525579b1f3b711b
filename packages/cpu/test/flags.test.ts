/**
 * Flags and results of ALU, shift/rotate, multiply and divide instructions against values
 * recorded on a real x86 CPU (test/reference/flags-ref.c). Flags the SDM leaves undefined for
 * an operation are not compared (they differ between Intel and AMD parts).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { flatMachine } from './helpers.ts';

interface Ref {
  op: string;
  size: number;
  a: number;
  b: number;
  cin: number;
  r: number;
  d: number;
  f: number;
}

const refs = JSON.parse(
  gunzipSync(readFileSync(new URL('./reference/flags-ref.json.gz', import.meta.url))).toString('utf8'),
) as Ref[];

const CF = 1;
const AF = 0x10;
const OF = 0x800;
const ALL = 0x8d5;

const ALU_INDEX: Record<string, number> = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 };
const SHIFT_INDEX: Record<string, number> = { rol: 0, ror: 1, rcl: 2, rcr: 3, shl: 4, shr: 5, sar: 7 };

/** Instruction bytes (after the CF-setting prelude) and which flags are defined. */
function encode(ref: Ref): { prelude: number[]; insn: number[]; mask: number } {
  const m = /^([a-z]+?)(2_)?(8|16|32)$/.exec(ref.op)!;
  const name = m[1]!;
  const size = ref.size;
  const p66 = size === 16 ? [0x66] : [];
  const w = size === 8 ? 0 : 1;
  const binPrelude = [0x83, 0xf9, 0x01, 0xf5]; // cmp ecx,1 ; cmc  (CF = cin)
  if (name in ALU_INDEX) {
    const mask = name === 'and' || name === 'or' || name === 'xor' ? ALL & ~AF : ALL;
    return { prelude: binPrelude, insn: [...p66, ALU_INDEX[name]! * 8 + w, 0xd8], mask };
  }
  switch (name) {
    case 'inc':
      return { prelude: binPrelude, insn: size === 8 ? [0xfe, 0xc0] : [...p66, 0x40], mask: ALL };
    case 'dec':
      return { prelude: binPrelude, insn: size === 8 ? [0xfe, 0xc8] : [...p66, 0x48], mask: ALL };
    case 'neg':
      return { prelude: binPrelude, insn: [...p66, 0xf6 + w, 0xd8], mask: ALL };
  }
  if (m[2]) return { prelude: binPrelude, insn: [...p66, 0x0f, 0xaf, 0xc3], mask: CF | OF }; // imul eax, ebx
  if (name in SHIFT_INDEX) {
    const count = ref.b & 31;
    let mask: number;
    if (count === 0) mask = ALL; // nothing changes
    else if (name === 'rol' || name === 'ror' || name === 'rcl' || name === 'rcr') mask = count === 1 ? ALL : ALL & ~OF;
    else {
      mask = ALL & ~AF;
      if (count !== 1) mask &= ~OF;
      if ((name === 'shl' || name === 'shr') && count >= size) mask &= ~CF;
    }
    return { prelude: [0x83, 0xfa, 0x01, 0xf5], insn: [...p66, 0xd2 + w, 0xc0 | (SHIFT_INDEX[name]! << 3)], mask };
  }
  const group3: Record<string, number> = { mul: 4, imul: 5, div: 6, idiv: 7 };
  const mask = name === 'mul' || name === 'imul' ? CF | OF : 0;
  return { prelude: [], insn: [...p66, 0xf6 + w, 0xc3 | (group3[name]! << 3)], mask };
}

const m = flatMachine([0xf4]);
const { cpu, phys } = m;

function run(ref: Ref): { r: number; d: number; f: number } {
  const { prelude, insn } = encode(ref);
  const code = [...prelude, ...insn, 0xf4];
  phys.writeBytes(0x1000, Uint8Array.from(code));
  const muldiv = prelude.length === 0;
  cpu.regs.eax = ref.a;
  cpu.regs.ebx = ref.b;
  cpu.regs.ecx = muldiv ? 0 : prelude[1] === 0xf9 ? ref.cin : ref.b;
  cpu.regs.edx = muldiv ? ref.cin >>> 0 : ref.cin;
  cpu.regs.eflags = 2;
  cpu.regs.eip = 0x1000;
  cpu.halted = false;
  cpu.run(muldiv ? 1 : 3);
  return { r: cpu.regs.eax, d: cpu.regs.edx, f: cpu.regs.eflags & ALL };
}

describe('flags against a real x86 (host CPU reference)', () => {
  const groups = new Map<string, Ref[]>();
  for (const r of refs) {
    const key = r.op;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  for (const [op, list] of groups) {
    it(`${op}: ${list.length} vectors`, () => {
      const bad: string[] = [];
      for (const ref of list) {
        const { mask } = encode(ref);
        const got = run(ref);
        const sizeMask = ref.size === 32 ? 0xffffffff : op.startsWith('imul8') ? 0xffff : ref.size === 16 ? 0xffff : 0xff;
        const wantR = (ref.r & sizeMask) >>> 0;
        const gotR = (got.r & sizeMask) >>> 0;
        const checkD = /^(i?mul|i?div)(16|32)$/.test(op);
        const dMask = ref.size === 16 ? 0xffff : 0xffffffff;
        if (
          gotR !== wantR ||
          (got.f & mask) !== (ref.f & mask) ||
          (checkD && ((got.d & dMask) >>> 0) !== ((ref.d & dMask) >>> 0))
        ) {
          bad.push(
            `a=${ref.a.toString(16)} b=${ref.b.toString(16)} cin=${ref.cin}: r=${gotR.toString(16)}/${wantR.toString(16)} ` +
              `d=${(got.d >>> 0).toString(16)}/${(ref.d >>> 0).toString(16)} f=${(got.f & mask).toString(16)}/${(ref.f & mask).toString(16)}`,
          );
        }
      }
      expect(bad.slice(0, 10)).toEqual([]);
    });
  }
});
