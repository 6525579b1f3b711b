/**
 * Decimal adjust instructions DAA DAS AAA AAS AAM AAD (SDM vol. 2). They set flags eagerly.
 * Flags the SDM leaves undefined are computed as an ALU operation on AL would set them.
 */
import * as constantsModule from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import * as flagsModule from '../flags.ts';
import type { Insn } from '../insn.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { AF, ARITH_FLAGS, CF, EXC_DE, OF, SF, ZF } = constantsModule;
const { getAF, getCF, materializeFlags, PARITY } = flagsModule;

function szp(v: number): number {
  return (v & 0x80 ? SF : 0) | (v === 0 ? ZF : 0) | PARITY[v]!;
}

function setArith(c: Cpu, bits: number): void {
  materializeFlags(c);
  c.flags = (c.flags & ~ARITH_FLAGS) | bits;
}

export function daa(c: Cpu, _i: Insn): void {
  const old = c.r8[0]!;
  const oldCF = getCF(c);
  let al = old;
  let cf = 0;
  let af = 0;
  if ((al & 0x0f) > 9 || getAF(c) !== 0) {
    al = (al + 6) & 0xff;
    cf = oldCF | (old + 6 > 0xff ? 1 : 0);
    af = 1;
  }
  if (old > 0x99 || oldCF !== 0) {
    al = (al + 0x60) & 0xff;
    cf = 1;
  }
  c.r8[0] = al;
  // OF (undefined): set when the adjustment turned a positive AL negative, as on Intel parts.
  const of = (old & 0x80) === 0 && (al & 0x80) !== 0 ? OF : 0;
  setArith(c, szp(al) | (cf ? CF : 0) | (af ? AF : 0) | of);
}

export function das(c: Cpu, _i: Insn): void {
  const old = c.r8[0]!;
  const oldCF = getCF(c);
  let al = old;
  let cf = 0;
  let af = 0;
  if ((al & 0x0f) > 9 || getAF(c) !== 0) {
    al = (al - 6) & 0xff;
    cf = oldCF | (old < 6 ? 1 : 0);
    af = 1;
  }
  if (old > 0x99 || oldCF !== 0) {
    al = (al - 0x60) & 0xff;
    cf = 1;
  }
  c.r8[0] = al;
  const of = (old & 0x80) !== 0 && (al & 0x80) === 0 ? OF : 0;
  setArith(c, szp(al) | (cf ? CF : 0) | (af ? AF : 0) | of);
}

export function aaa(c: Cpu, _i: Insn): void {
  let ax = c.r16[0]!;
  let adj = 0;
  if ((ax & 0x0f) > 9 || getAF(c) !== 0) {
    ax = (ax + 0x106) & 0xffff;
    adj = AF | CF;
  }
  c.r16[0] = ax & 0xff0f;
  setArith(c, adj | szp(ax & 0x0f));
}

export function aas(c: Cpu, _i: Insn): void {
  let ax = c.r16[0]!;
  let adj = 0;
  if ((ax & 0x0f) > 9 || getAF(c) !== 0) {
    ax = (ax - 6) & 0xffff;
    ax = (ax - 0x100) & 0xffff;
    adj = AF | CF;
  }
  c.r16[0] = ax & 0xff0f;
  setArith(c, adj | szp(ax & 0x0f));
}

/** AAM imm8: AH = AL / imm, AL = AL % imm; #DE for imm 0. */
export function aam(c: Cpu, i: Insn): void {
  if (i.imm === 0) c.raise(EXC_DE);
  const al = c.r8[0]!;
  const q = Math.floor(al / i.imm);
  const r = al - q * i.imm;
  c.r8[1] = q;
  c.r8[0] = r;
  setArith(c, szp(r));
}

/** AAD imm8: AL = AL + AH * imm, AH = 0 (flags as the final 8-bit ADD). */
export function aad(c: Cpu, i: Insn): void {
  const al = c.r8[0]!;
  const prod = (c.r8[1]! * i.imm) & 0xff;
  const sum = al + prod;
  const r = sum & 0xff;
  c.r16[0] = r;
  const cf = sum > 0xff ? CF : 0;
  const af = ((al ^ prod ^ r) & 0x10) !== 0 ? AF : 0;
  const of = ((al ^ r) & (prod ^ r) & 0x80) !== 0 ? OF : 0;
  setArith(c, szp(r) | cf | af | of);
}
