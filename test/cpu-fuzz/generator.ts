/**
 * Random instruction sequences for the differential CPU fuzzer, as NASM source for one multiboot
 * guest (32-bit flat protected mode, as the multiboot loader leaves it). Each case loads random
 * registers, flags and a 64-byte scratch buffer, runs a random sequence, and prints its final
 * registers, flags (undefined ones masked), and scratch bytes on COM1. The same image runs on
 * ferry86 and on the reference machine; their outputs must match line for line.
 *
 * EBP points at the scratch buffer and ESP at the stack; the sequence never writes either.
 */
import {
  AF, ALL, ARITH, CF, OF, PF, SF, ZF, BITSCAN, BITTEST, CONDITIONS, DIVIDE, INCDEC, LOGIC, MULTIPLY, NONE,
  rotateEffect, shiftEffect, type FlagEffect,
} from './flags.ts';

/** A small, seedable PRNG (xorshift32) so a batch is reproducible from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  /** Values that find edge cases more often than uniform ones would. */
  interesting(): number {
    switch (this.below(6)) {
      case 0: return this.pick([0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff]);
      case 1: return this.below(256);
      case 2: return (this.u32() | 0x80000000) >>> 0;
      default: return this.u32();
    }
  }
}

const R32 = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi'];
const R16 = ['ax', 'bx', 'cx', 'dx', 'si', 'di'];
const R8 = ['al', 'bl', 'cl', 'dl', 'ah', 'bh', 'ch', 'dh'];
const SIZE_NAME: Record<number, string> = { 8: 'byte', 16: 'word', 32: 'dword' };
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;

interface Emitted {
  text: string[];
  effect: FlagEffect;
}

/** One random instruction (or a short idiom) whose flag reads are all defined. */
function instruction(rng: Rng, defined: number): Emitted {
  const size = rng.pick([32, 32, 32, 16, 8]);
  const regs = size === 32 ? R32 : size === 16 ? R16 : R8;
  const reg = () => rng.pick(regs);
  const mem = (s = size) => `${SIZE_NAME[s]} [ebp + ${rng.below(64 - s / 8 + 1)}]`;
  const rm = () => (rng.below(3) === 0 ? mem() : reg());
  const imm = () => hex(rng.interesting() & (size === 32 ? 0xffffffff : size === 16 ? 0xffff : 0xff));
  const one = (text: string, effect: FlagEffect): Emitted => ({ text: [text], effect });
  const cc = () => {
    const usable = Object.keys(CONDITIONS).filter((c) => (CONDITIONS[c]! & ~defined) === 0);
    return usable.length ? rng.pick(usable) : null;
  };

  switch (rng.below(24)) {
    case 0:
    case 1: {
      const op = rng.pick(ALU);
      const reads = op === 'adc' || op === 'sbb' ? 0x1 : 0;
      if (reads & ~defined) return one(`sub ${reg()}, ${imm()}`, ALL);
      const effect = op === 'and' || op === 'or' || op === 'xor' ? LOGIC : { ...ALL, reads };
      const form = rng.below(3);
      if (form === 0) return one(`${op} ${rm()}, ${imm()}`, effect);
      if (form === 1) return one(`${op} ${reg()}, ${rm()}`, effect);
      return one(`${op} ${mem()}, ${reg()}`, effect);
    }
    case 2:
      return one(`${rng.pick(['inc', 'dec'])} ${rm()}`, INCDEC);
    case 3:
      return rng.below(2) ? one(`neg ${rm()}`, ALL) : one(`not ${rm()}`, NONE);
    case 4: {
      const count = rng.below(32);
      return one(`${rng.pick(['shl', 'shr', 'sar'])} ${rm()}, ${count}`, shiftEffect(count, size));
    }
    case 5: {
      // Counts 1..size-1 keep to rotations every x86 defines the same way.
      const count = 1 + rng.below(size - 1);
      const op = rng.pick(['rol', 'ror', 'rcl', 'rcr']);
      const effect = rotateEffect(count, size, op.startsWith('rc'));
      if (effect.reads & ~defined) return one(`rol ${rm()}, ${count}`, rotateEffect(count, size, false));
      return one(`${op} ${rm()}, ${count}`, effect);
    }
    case 6:
      if (size === 8) return one(`${rng.pick(['mul', 'imul'])} ${rm()}`, MULTIPLY);
      return rng.below(2)
        ? one(`imul ${reg()}, ${rm()}`, MULTIPLY)
        : one(`imul ${reg()}, ${rm()}, ${hex(rng.interesting() & (size === 32 ? 0xffffffff : 0xffff))}`, MULTIPLY);
    case 7: {
      // Division with a divisor that cannot fault: unsigned with a zero high half, or signed with
      // a positive divisor >= 2 after sign extension (never INT_MIN / -1).
      const w = size === 8 ? 32 : size;
      const [d, c] = w === 32 ? ['edx', 'ecx'] : ['dx', 'cx'];
      if (rng.below(2)) return { text: [`xor ${d}, ${d}`, `or ${c}, 1`, `div ${c}`], effect: DIVIDE };
      const ext = w === 32 ? 'cdq' : 'cwd';
      return { text: [`and ${c}, ${hex(w === 32 ? 0x7fffffff : 0x7fff)}`, `or ${c}, 2`, ext, `idiv ${c}`], effect: DIVIDE };
    }
    case 8: {
      if (size === 8) return one(`xchg ${reg()}, ${rm()}`, NONE);
      const op = rng.pick(['bt', 'bts', 'btr', 'btc']);
      return rng.below(2) ? one(`${op} ${reg()}, ${rng.below(size)}`, BITTEST) : one(`${op} ${reg()}, ${reg()}`, BITTEST);
    }
    case 9: {
      if (size === 8) return one(`mov ${reg()}, ${rm()}`, NONE);
      // BSF/BSR leave the destination undefined for a zero source: make the source non-zero.
      const src = reg();
      return { text: [`or ${src}, 1`, `${rng.pick(['bsf', 'bsr'])} ${reg()}, ${src}`], effect: BITSCAN };
    }
    case 10: {
      const c = cc();
      if (!c) return one(`test ${rm()}, ${imm()}`, LOGIC);
      if (size === 8) return one(`set${c} ${rm()}`, { ...NONE, reads: CONDITIONS[c]! });
      return one(`cmov${c} ${reg()}, ${rm()}`, { ...NONE, reads: CONDITIONS[c]! });
    }
    case 11:
      return size === 8 ? one(`movzx ${rng.pick(R32)}, ${rm()}`, NONE) : one(`${rng.pick(['movsx', 'movzx'])} ${rng.pick(R32)}, ${rng.below(2) ? rng.pick(R8) : mem(8)}`, NONE);
    case 12:
      return one(`bswap ${rng.pick(R32)}`, NONE);
    case 13:
      if (size === 8) return one(`xadd ${rm()}, ${reg()}`, ALL);
      return rng.below(2) ? one(`xadd ${rm()}, ${reg()}`, ALL) : one(`cmpxchg ${rm()}, ${reg()}`, ALL);
    case 14: {
      if (size === 8) return one(`test ${reg()}, ${reg()}`, LOGIC);
      const count = 1 + rng.below(size - 1);
      return one(`${rng.pick(['shld', 'shrd'])} ${rm()}, ${reg()}, ${count}`, shiftEffect(count, size));
    }
    case 15:
      return one(rng.pick(['cdq', 'cwde', 'cbw', 'cwd']), NONE);
    case 16: {
      if (rng.below(2)) {
        const pushed = size === 16 ? rng.pick([...R16, mem(16)]) : rng.pick([...R32, mem(32)]);
        return { text: [`push ${pushed}`, `pop ${size === 16 ? rng.pick(R16) : rng.pick(R32)}`], effect: NONE };
      }
      return one(`lea ${rng.pick(R32)}, [${rng.pick(R32)} + ${rng.pick(R32)}*${rng.pick([1, 2, 4, 8])} + ${hex(rng.u32())}]`, NONE);
    }
    case 17: {
      const op = rng.pick(['stc', 'clc', 'cmc']);
      if (op === 'cmc' && !(defined & 1)) return one('stc', { defines: 1, undefines: 0, reads: 0 });
      return one(op, { defines: 1, undefines: 0, reads: op === 'cmc' ? 1 : 0 });
    }
    case 18: {
      const c = cc();
      if (!c) return one(`mov ${reg()}, ${imm()}`, NONE);
      // A forward conditional branch over one instruction (@L becomes a unique label).
      return { text: [`j${c} short @L`, `mov ${reg()}, ${imm()}`, '@L:'], effect: { ...NONE, reads: CONDITIONS[c]! } };
    }
    case 19:
      return strings(rng);
    case 20:
      if (rng.below(2)) return one('sahf', { defines: SF | ZF | AF | PF | CF, undefines: 0, reads: 0 });
      return (SF | ZF | AF | PF | CF) & ~defined ? one('cwd', NONE) : one('lahf', { ...NONE, reads: SF | ZF | AF | PF | CF });
    case 21: {
      // BCD adjustments (flags per SDM vol. 2 DAA/DAS/AAA/AAS/AAM/AAD).
      const op = rng.pick(['daa', 'das', 'aaa', 'aas', 'aam', 'aad']);
      const reads = op === 'daa' || op === 'das' || op === 'aaa' || op === 'aas' ? CF | AF : 0;
      if (reads & ~defined) return one('stc', { defines: CF, undefines: 0, reads: 0 });
      if (op === 'daa' || op === 'das') return one(op, { defines: ARITH & ~OF, undefines: OF, reads });
      if (op === 'aaa' || op === 'aas') return one(op, { defines: AF | CF, undefines: OF | SF | ZF | PF, reads });
      return one(`${op} ${1 + rng.below(255)}`, { defines: SF | ZF | PF, undefines: OF | AF | CF, reads: 0 });
    }
    case 22: {
      // LOOP/JECXZ over a short body with a small count.
      const n = rng.below(4);
      return { text: [`mov ecx, ${n}`, `jecxz @L`, '@B:', `add ${rng.pick(['eax', 'ebx', 'edx'])}, ${hex(rng.u32())}`, 'loop @B', '@L:'], effect: n === 0 ? NONE : ALL };
    }
    default:
      return one(`mov ${rm()}, ${imm()}`, NONE);
  }
}

/**
 * A string instruction over the scratch buffer, with ESI/EDI/ECX set up so that every element
 * stays inside it, in either direction (DF is cleared again afterwards).
 */
function strings(rng: Rng): Emitted {
  const size = rng.pick([1, 2, 4]);
  const suffix = size === 1 ? 'b' : size === 2 ? 'w' : 'd';
  const op = rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas']);
  const n = rng.below(6);
  const span = n * size;
  const back = rng.below(2) === 1;
  const start = () => (back ? span - size + rng.below(64 - span + 1) : rng.below(64 - span + 1));
  const rep = op === 'cmps' || op === 'scas' ? rng.pick(['repe ', 'repne ']) : op === 'lods' ? '' : 'rep ';
  const text = [`lea esi, [ebp + ${Math.max(0, start())}]`, `lea edi, [ebp + ${Math.max(0, start())}]`, `mov ecx, ${n}`];
  if (back) text.push('std');
  if (op === 'lods') text.push(...Array.from({ length: Math.min(n, 1) }, () => `lods${suffix}`));
  else text.push(`${rep}${op}${suffix}`);
  if (back) text.push('cld');
  const compares = op === 'cmps' || op === 'scas';
  return { text, effect: compares && n > 0 ? ALL : NONE };
}

export interface FuzzBatch {
  source: string;
  cases: number;
}

/**
 * A guest with `cases` random cases of `length` instructions each. Output per case:
 * `cN eax ebx ecx edx esi edi eflags scratch[64]`, then `fuzz done`.
 */
export function generateBatch(seed: number, cases: number, length: number): FuzzBatch {
  const rng = new Rng(seed);
  const out: string[] = [];
  let label = 0;
  for (let c = 0; c < cases; c++) {
    out.push(`case_${c}:`);
    for (const r of R32) out.push(`  mov ${r}, ${hex(rng.interesting())}`);
    out.push('  mov ebp, scratch');
    for (let i = 0; i < 16; i++) out.push(`  mov dword [ebp + ${i * 4}], ${hex(rng.u32())}`);
    const flags = (rng.u32() & ARITH) | 0x2;
    out.push(`  push ${hex(flags)}`, '  popfd');
    let defined = ARITH;
    for (let i = 0; i < length; i++) {
      const e = instruction(rng, defined);
      for (const t of e.text) {
        const named = t.replace('@L', `.L${label}`).replace('@B', `.B${label}`);
        out.push(named.endsWith(':') ? named : `  ${named}`);
      }
      label++;
      defined = (defined | e.effect.defines) & ~e.effect.undefines;
    }
    out.push(`  mov dword [case_flag_mask], ${hex(defined | ~ARITH)}`);
    out.push(`  mov dword [case_number], ${c}`);
    out.push('  call dump');
  }
  return { source: template(out.join('\n')), cases };
}

function template(body: string): string {
  return `; generated by test/cpu-fuzz/generator.ts
bits 32
%define LOAD_ADDR 0x100000
org LOAD_ADDR
%include "multiboot.inc"
entry:
  cli
  mov esp, stack_top
${body}
  mov esi, done_msg
  call puts
  cli
  hlt

; Prints "cN eax ebx ecx edx esi edi eflags scratch" for the case just run.
dump:
  pushfd
  pushad
  mov eax, [esp + 32]            ; the saved EFLAGS
  and eax, [case_flag_mask]      ; undefined arithmetic flags cleared
  and eax, 0x8d5                 ; only the arithmetic flags are compared
  mov [saved_flags], eax
  mov al, 'c'
  call putc
  mov eax, [case_number]
  call puthex
  mov ebx, reg_order
.reg:
  movzx ecx, byte [ebx]
  cmp cl, 0xff
  je .regs_done
  mov al, ' '
  call putc
  mov eax, [esp + ecx]
  call puthex
  inc ebx
  jmp .reg
.regs_done:
  mov al, ' '
  call putc
  mov eax, [saved_flags]
  call puthex
  mov al, ' '
  call putc
  xor ebx, ebx
.byte:
  movzx eax, byte [scratch + ebx]
  shl eax, 24
  push ecx
  mov ecx, 2
.nib:
  rol eax, 4
  push eax
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .dig
  add al, 'a' - '0' - 10
.dig:
  call putc
  pop eax
  loop .nib
  pop ecx
  inc ebx
  cmp ebx, 64
  jb .byte
  mov al, 10
  call putc
  popad
  popfd
  ret

%include "serial.inc"

; PUSHAD order on the stack (from ESP up): EDI ESI EBP ESP EBX EDX ECX EAX.
reg_order: db 28, 16, 24, 20, 4, 0, 0xff
done_msg: db "fuzz done", 10, 0
image_end:
  section .bss
  alignb 4096
scratch: resb 64
case_flag_mask: resd 1
case_number: resd 1
saved_flags: resd 1
  alignb 16
  resb 8192
stack_top:
bss_end:
`;
}
