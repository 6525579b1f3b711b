/**
 * The per-form x87 handlers (src/fpu/fast.ts) and the double-held registers against the exact
 * path: random x87 programs run twice, once with the fast path and once with `fpu.fast = false`
 * (every value in 80-bit form, every result rounded from the exact BigInt value), and must leave
 * the same memory — stored results, FNSTSW after chosen instructions, EFLAGS after FCOMI, and a
 * final FNSAVE image (status word with C1, tags, all eight registers). Operands include zeros of
 * both signs, integers, floats, denormals and values outside the fast window; control words
 * cover precision 24/53/64 and all rounding controls, where only exact results may use doubles.
 */
import { describe, expect, it } from 'vitest';
import { flatMachine, runToHalt } from './helpers.ts';

const D = 0x5000; // data: 0x000 m64 operands, 0x100 m32, 0x180 m32int, 0x1c0 m16int, 0x200.. results
const abs = (a: number): number[] => [a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, (a >>> 24) & 0xff];

function program(seed: number, statusEvery: number): number[] {
  let s = seed;
  const rnd = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const code: number[] = [0xdb, 0xe3, 0xd9, 0x2d, ...abs(D + 0x3f8)]; // fninit; fldcw
  code.push(0xb9, 30, 0, 0, 0); // mov ecx, 30: run the body 30 times (hot enough for blocks)
  const body: number[] = [];
  let depth = 0;
  let out = 0;
  const store = (): number => D + 0x200 + 8 * (out++ % 48);
  for (let k = 0; k < 160; k++) {
    const pick = depth < 2 ? rnd(6) : depth > 6 ? 6 + rnd(16) : rnd(22);
    switch (pick) {
      case 0: body.push(0xdd, 0x05, ...abs(D + 8 * rnd(32))); depth++; break; // fld m64
      case 1: body.push(0xd9, 0x05, ...abs(D + 0x100 + 4 * rnd(32))); depth++; break; // fld m32
      case 2: body.push(0xdb, 0x05, ...abs(D + 0x180 + 4 * rnd(16))); depth++; break; // fild m32
      case 3: body.push(0xdf, 0x05, ...abs(D + 0x1c0 + 2 * rnd(16))); depth++; break; // fild m16
      case 4: body.push(0xd9, rnd(2) ? 0xee : 0xe8); depth++; break; // fldz / fld1
      case 5: body.push(0xd9, 0xc0 + rnd(depth || 1)); depth++; break; // fld st(i)
      case 6: case 7: case 8: {
        // arithmetic: D8 st0 op st(i), DC st(i) op st0, DE ...p
        const esc = [0xd8, 0xdc, 0xde][rnd(3)]!;
        const op = [0, 1, 4, 5, 6, 7][rnd(6)]!;
        const i = 1 + rnd(Math.max(1, depth - 1));
        body.push(esc, 0xc0 + op * 8 + i);
        if (esc === 0xde) depth--;
        break;
      }
      case 9: case 10: {
        // arithmetic with m64 / m32
        const op = [0, 1, 4, 5, 6, 7][rnd(6)]!;
        if (rnd(2)) body.push(0xdc, 0x05 + op * 8, ...abs(D + 8 * rnd(32)));
        else body.push(0xd8, 0x05 + op * 8, ...abs(D + 0x100 + 4 * rnd(32)));
        break;
      }
      case 11: body.push(0xdc, rnd(2) ? 0x15 : 0x1d, ...abs(D + 8 * rnd(32))); if (body[body.length - 5] === 0x1d) depth--; break; // fcom/fcomp m64
      case 12: {
        // register compares: fcom, fcomp, fucom, fcomi, fucomip, fcompp
        const f = rnd(6);
        const i = 1 + rnd(Math.max(1, depth - 1));
        if (f === 0) body.push(0xd8, 0xd0 + i);
        else if (f === 1) { body.push(0xd8, 0xd8 + i); depth--; }
        else if (f === 2) body.push(0xdd, 0xe0 + i);
        else if (f === 3) body.push(0xdb, 0xf0 + i, 0x9c, 0x8f, 0x05, ...abs(store())); // fcomi; pushfd; pop [m]
        else if (f === 4) { body.push(0xdf, 0xe8 + i, 0x9c, 0x8f, 0x05, ...abs(store())); depth--; } // fucomip
        else { body.push(0xde, 0xd9); depth -= 2; } // fcompp
        break;
      }
      case 13: body.push(0xd9, 0xc8 + 1 + rnd(Math.max(1, depth - 1))); break; // fxch
      case 14: { const i = rnd(depth || 1); if (rnd(2)) body.push(0xdd, 0xd0 + i); else { body.push(0xdd, 0xd8 + i); depth--; } break; } // fst/fstp st(i)
      case 15: body.push(0xd9, 0xe0 + rnd(2)); break; // fchs / fabs
      case 16: body.push(0xdd, rnd(2) ? 0x15 : 0x1d, ...abs(store())); if (body[body.length - 5] === 0x1d) depth--; break; // fst/fstp m64
      case 17: body.push(0xd9, rnd(2) ? 0x15 : 0x1d, ...abs(store())); if (body[body.length - 5] === 0x1d) depth--; break; // fst/fstp m32
      case 18: body.push(0xd9, 0xfa); break; // fsqrt (generic handler in between)
      case 19: // fstp tword [m] / fld tword [m] (a stored slot: any 80-bit pattern, incl. +0 at first)
        if (depth > 5 || rnd(2)) { body.push(0xdb, 0x3d, ...abs(store())); depth--; } else { body.push(0xdb, 0x2d, ...abs(D + 0x200 + 8 * rnd(48))); depth++; }
        break;
      case 20: {
        // fiadd/fimul/fisub/fisubr/fidiv/fidivr with m32int or m16int
        const op = [0, 1, 4, 5, 6, 7][rnd(6)]!;
        if (rnd(2)) body.push(0xda, 0x05 + op * 8, ...abs(D + 0x180 + 4 * rnd(16)));
        else body.push(0xde, 0x05 + op * 8, ...abs(D + 0x1c0 + 2 * rnd(16)));
        break;
      }
      case 21: {
        // fist/fistp m32int and m16int, fistp m64int
        const f = rnd(5);
        if (f < 2) body.push(0xdb, f ? 0x15 : 0x1d, ...abs(store()));
        else if (f < 4) body.push(0xdf, f === 2 ? 0x15 : 0x1d, ...abs(store()));
        else body.push(0xdf, 0x3d, ...abs(store()));
        if (f !== 1 && f !== 2) depth--;
        break;
      }
      default: body.push(0xdd, 0xd8); depth--; // fstp st0
    }
    if (depth < 0) depth = 0;
    if (k % statusEvery === 0) body.push(0xdf, 0xe0, 0x66, 0xa3, ...abs(store())); // fnstsw ax; mov [m], ax
  }
  body.push(0xdb, 0xe2); // fnclex: a masked stack fault must not stop the next pass
  code.push(...body);
  code.push(0x49, 0x0f, 0x85, ...abs(-(body.length + 7))); // dec ecx; jnz body (rel32 from its end)
  code.push(0xdd, 0x35, ...abs(D + 0x400), 0xf4); // fnsave [D+0x400]; hlt
  return code;
}

function fill(dv: DataView, seed: number): void {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 22695477) + 1) >>> 0;
    return s;
  };
  const special = [0, -0, 1, -1, 0.5, 3, 1e300, -1e-300, 5e-324, Infinity, NaN, 2 ** -1000, 1 / 3, 0.1];
  for (let k = 0; k < 32; k++) {
    const r = rnd();
    const v = r % 5 === 0 ? special[(r >>> 8) % special.length]! : ((r % 20000) - 10000) / 97 * 2 ** (((r >>> 16) % 40) - 20);
    dv.setFloat64(D + 8 * k, v, true);
    dv.setFloat32(D + 0x100 + 4 * k, r % 7 === 0 ? special[(r >>> 4) % special.length]! : v, true);
  }
  for (let k = 0; k < 16; k++) {
    dv.setInt32(D + 0x180 + 4 * k, k < 3 ? k - 1 : rnd() | 0, true);
    dv.setInt16(D + 0x1c0 + 2 * k, k < 3 ? 1 - k : rnd() & 0xffff, true);
  }
}

/** Programs per test (each under 8 control words); FPU_HANDLER_SEEDS=100 for a longer local run. */
const SEEDS = Number(process.env.FPU_HANDLER_SEEDS ?? 6);

describe('x87 per-form handlers and double-held registers', () => {
  const controls = [0x027f, 0x037f, 0x0a7f, 0x067f, 0x0e7f, 0x0f7f, 0x007f, 0x0c7f];
  for (const statusEvery of [1, 7]) {
    it(`match the exact path on random programs (FNSTSW every ${statusEvery} instructions)`, () => {
      const mismatches: string[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        const code = program(seed * 7919 + statusEvery, statusEvery);
        for (const cw of controls) {
          const run = (fast: boolean): Uint8Array => {
            const m = flatMachine(code, 0x1000, { fpu: true });
            m.cpu.fpu!.fast = fast;
            const dv = new DataView(m.phys.ram.buffer, m.phys.ram.byteOffset);
            fill(dv, seed);
            dv.setUint16(D + 0x3f8, cw, true);
            const stop = runToHalt(m.cpu, 10_000_000);
            expect({ seed, cw, fast, stop, eip: m.cpu.eip }).toEqual({ seed, cw, fast, stop: 'halt', eip: m.cpu.eip });
            return Uint8Array.from(m.phys.ram.subarray(D, D + 0x400 + 108));
          };
          const a = run(true);
          const b = run(false);
          const at = a.findIndex((v, k) => v !== b[k]);
          if (at >= 0 && mismatches.length < 5) mismatches.push(`seed ${seed} cw ${cw.toString(16)}: first difference at D+${at.toString(16)}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});

describe('FST to memory', () => {
  it('clears a set C1 when it stores a zero, an infinity or a NaN (as measured on hardware)', () => {
    // fninit; fld qword [V]; fnstenv [E]; or word [E+4], 0x200 (C1); fldenv [E];
    // fst dword/qword [O]; fnstsw ax; mov [S], ax; hlt
    const V = 0x5000;
    const E = 0x5100;
    const O = 0x5200;
    const S = 0x5300;
    for (const [value, m64] of [[0, false], [-0, true], [Infinity, false], [-Infinity, true], [NaN, false], [NaN, true], [1, false]] as const) {
      for (const fast of [true, false]) {
        const code = [0xdb, 0xe3, 0xdd, 0x05, ...abs(V), 0xd9, 0x35, ...abs(E), 0x66, 0x81, 0x0d, ...abs(E + 4), 0x00, 0x02, 0xd9, 0x25, ...abs(E),
          m64 ? 0xdd : 0xd9, 0x15, ...abs(O), 0xdf, 0xe0, 0x66, 0xa3, ...abs(S), 0xf4];
        const m = flatMachine(code, 0x1000, { fpu: true });
        m.cpu.fpu!.fast = fast;
        new DataView(m.phys.ram.buffer, m.phys.ram.byteOffset).setFloat64(V, value, true);
        expect(runToHalt(m.cpu)).toBe('halt');
        const sw = m.phys.ram[S]! | (m.phys.ram[S + 1]! << 8);
        expect({ value, m64, fast, c1: (sw >> 9) & 1 }).toEqual({ value, m64, fast, c1: 0 });
      }
    }
  });
});

describe('loads', () => {
  it('clear a set C1: FLD m32/m64, FILD m16/m32, FLD ST(i), FLD1 (as measured on hardware)', () => {
    // fninit; fldz; fnstenv [E]; or word [E+4], 0x200 (C1); fldenv [E]; <load>; fnstsw ax; mov [S], ax; hlt
    const V = 0x5000;
    const E = 0x5100;
    const S = 0x5300;
    const loads = [[0xdd, 0x05, ...abs(V)], [0xd9, 0x05, ...abs(V)], [0xdb, 0x05, ...abs(V)], [0xdf, 0x05, ...abs(V)], [0xd9, 0xc0], [0xd9, 0xe8]];
    for (const load of loads) {
      for (const fast of [true, false]) {
        const code = [0xdb, 0xe3, 0xd9, 0xee, 0xd9, 0x35, ...abs(E), 0x66, 0x81, 0x0d, ...abs(E + 4), 0x00, 0x02, 0xd9, 0x25, ...abs(E),
          ...load, 0xdf, 0xe0, 0x66, 0xa3, ...abs(S), 0xf4];
        const m = flatMachine(code, 0x1000, { fpu: true });
        m.cpu.fpu!.fast = fast;
        new DataView(m.phys.ram.buffer, m.phys.ram.byteOffset).setFloat64(V, 1.5, true);
        expect(runToHalt(m.cpu)).toBe('halt');
        const sw = m.phys.ram[S]! | (m.phys.ram[S + 1]! << 8);
        expect({ load: load.slice(0, 2), fast, c1: (sw >> 9) & 1 }).toEqual({ load: load.slice(0, 2), fast, c1: 0 });
      }
    }
  });
});
