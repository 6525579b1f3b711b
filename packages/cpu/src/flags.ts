/**
 * Lazy arithmetic flags.
 *
 * Most instructions that define CF/PF/AF/ZF/SF/OF have their flags overwritten before anything
 * reads them, so an arithmetic instruction only records what it did: `fOp` (kind << 2 | size),
 * the operands `fA`, `fB`, the result `fRes` and, for kinds whose CF cannot be rebuilt from those,
 * `fCin`. A flag is computed when something reads it (Jcc, PUSHF, ADC ...). `fOp === 0` means the
 * six status bits in `cpu.flags` are the real ones.
 *
 * Formulas: Intel SDM vol. 1 §3.4.3 and each instruction's "Flags Affected" section. Where the SDM
 * says a flag is undefined we follow what 386-and-later Intel parts produce as recorded by Bochs
 * (AF = 0 after logic, shift and multiply; OF after multi-bit shifts as for a 1-bit shift).
 */
import type { Cpu } from './cpu.ts';
import * as constantsModule from './constants.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const { AF, ARITH_FLAGS, CF, OF, PF, SF, ZF } = constantsModule;

export const SZ8 = 0;
export const SZ16 = 1;
export const SZ32 = 2;

/** Flag kinds (stored shifted left by 2, OR'ed with the size). */
export const K_ADD = 1 << 2;
export const K_ADC = 2 << 2;
export const K_SUB = 3 << 2;
export const K_SBB = 4 << 2;
/** AND/OR/XOR/TEST: CF = OF = AF = 0. */
export const K_LOGIC = 5 << 2;
/** INC/DEC leave CF alone: the old CF is kept in fCin. */
export const K_INC = 6 << 2;
export const K_DEC = 7 << 2;
/** Shifts: CF (last bit out) is computed eagerly into fCin. */
export const K_SHL = 8 << 2;
export const K_SHR = 9 << 2;
export const K_SAR = 10 << 2;
/** MUL/IMUL: CF = OF = fCin; SF/ZF/PF from the low half (undefined by the SDM). */
export const K_MUL = 11 << 2;

const SIZE_MASK = new Int32Array([0xff, 0xffff, -1, 0]);
const SIGN_SHIFT = new Int32Array([7, 15, 31, 0]);

/** PARITY[b] = PF for low byte b (set when the number of 1 bits is even). */
export const PARITY = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let n = b;
  n ^= n >> 4;
  n ^= n >> 2;
  n ^= n >> 1;
  PARITY[b] = (n & 1) === 0 ? PF : 0;
}

export function getCF(c: Cpu): number {
  const op = c.fOp;
  const m = SIZE_MASK[op & 3]!;
  switch (op & ~3) {
    case 0:
      return c.flags & CF;
    case K_ADD:
      return ((c.fRes & m) >>> 0) < ((c.fA & m) >>> 0) ? 1 : 0;
    case K_ADC:
      return ((c.fA & m) >>> 0) + ((c.fB & m) >>> 0) + c.fCin > m >>> 0 ? 1 : 0;
    case K_SUB:
      return ((c.fA & m) >>> 0) < ((c.fB & m) >>> 0) ? 1 : 0;
    case K_SBB:
      return ((c.fA & m) >>> 0) < ((c.fB & m) >>> 0) + c.fCin ? 1 : 0;
    case K_LOGIC:
      return 0;
    default:
      return c.fCin;
  }
}

export function getZF(c: Cpu): number {
  const op = c.fOp;
  if (op === 0) return (c.flags >> 6) & 1;
  return (c.fRes & SIZE_MASK[op & 3]!) === 0 ? 1 : 0;
}

export function getSF(c: Cpu): number {
  const op = c.fOp;
  if (op === 0) return (c.flags >> 7) & 1;
  return (c.fRes >>> SIGN_SHIFT[op & 3]!) & 1;
}

export function getPF(c: Cpu): number {
  if (c.fOp === 0) return (c.flags >> 2) & 1;
  return PARITY[c.fRes & 0xff]! >> 2;
}

export function getAF(c: Cpu): number {
  const op = c.fOp;
  switch (op & ~3) {
    case 0:
      return (c.flags >> 4) & 1;
    case K_ADD:
    case K_ADC:
    case K_SUB:
    case K_SBB:
    case K_INC:
    case K_DEC:
      return ((c.fA ^ c.fB ^ c.fRes) >> 4) & 1;
    default:
      return 0;
  }
}

export function getOF(c: Cpu): number {
  const op = c.fOp;
  const sh = SIGN_SHIFT[op & 3]!;
  switch (op & ~3) {
    case 0:
      return (c.flags >> 11) & 1;
    case K_ADD:
    case K_ADC:
    case K_INC:
      return (((c.fA ^ c.fRes) & (c.fB ^ c.fRes)) >>> sh) & 1;
    case K_SUB:
    case K_SBB:
    case K_DEC:
      return (((c.fA ^ c.fB) & (c.fA ^ c.fRes)) >>> sh) & 1;
    case K_SHL:
      return ((c.fRes >>> sh) & 1) ^ c.fCin;
    case K_SHR:
      return (((c.fRes << 1) ^ c.fRes) >>> sh) & 1;
    case K_MUL:
      return c.fCin;
    default:
      return 0;
  }
}

/** Folds the lazy status flags into `cpu.flags`; afterwards fOp === 0. */
export function materializeFlags(c: Cpu): void {
  if (c.fOp === 0) return;
  const v =
    getCF(c) |
    (getPF(c) << 2) |
    (getAF(c) << 4) |
    (getZF(c) << 6) |
    (getSF(c) << 7) |
    (getOF(c) << 11);
  c.flags = (c.flags & ~ARITH_FLAGS) | v;
  c.fOp = 0;
}

/** Sets or clears one status flag (materialising the others first). */
export function setFlag(c: Cpu, bit: number, on: boolean): void {
  materializeFlags(c);
  if (on) c.flags |= bit;
  else c.flags &= ~bit;
}

/** Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc), SDM vol. 1 appendix B. */
export function testCC(c: Cpu, cc: number): boolean {
  let r: number;
  switch (cc >> 1) {
    case 0:
      r = getOF(c);
      break;
    case 1:
      r = getCF(c);
      break;
    case 2:
      r = getZF(c);
      break;
    case 3:
      r = getCF(c) | getZF(c);
      break;
    case 4:
      r = getSF(c);
      break;
    case 5:
      r = getPF(c);
      break;
    case 6:
      r = getSF(c) ^ getOF(c);
      break;
    default:
      r = getZF(c) | (getSF(c) ^ getOF(c));
      break;
  }
  return (r ^ (cc & 1)) !== 0;
}

export { AF, CF, OF, PF, SF, ZF };
