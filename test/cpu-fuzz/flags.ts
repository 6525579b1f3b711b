/**
 * EFLAGS bookkeeping for the differential fuzzer: which arithmetic flags an instruction defines,
 * leaves undefined (Intel SDM vol. 2, each instruction's "Flags Affected"), leaves alone, or
 * reads. Undefined flags differ between CPUs and emulators, so the generator never lets a later
 * instruction read one, and the final comparison masks them out.
 */
export const CF = 0x001;
export const PF = 0x004;
export const AF = 0x010;
export const ZF = 0x040;
export const SF = 0x080;
export const OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

export interface FlagEffect {
  /** Flags given a defined value. */
  defines: number;
  /** Flags left undefined. */
  undefines: number;
  /** Flags whose value the instruction consumes. */
  reads: number;
}

export const NONE: FlagEffect = { defines: 0, undefines: 0, reads: 0 };
export const ALL: FlagEffect = { defines: ARITH, undefines: 0, reads: 0 };
/** AND/OR/XOR/TEST: OF=CF=0, SF ZF PF by result, AF undefined. */
export const LOGIC: FlagEffect = { defines: ARITH & ~AF, undefines: AF, reads: 0 };
/** INC/DEC: CF unaffected. */
export const INCDEC: FlagEffect = { defines: ARITH & ~CF, undefines: 0, reads: 0 };
/** MUL/IMUL: CF OF defined, the rest undefined. */
export const MULTIPLY: FlagEffect = { defines: CF | OF, undefines: SF | ZF | AF | PF, reads: 0 };
export const DIVIDE: FlagEffect = { defines: 0, undefines: ARITH, reads: 0 };
/** BT family: CF defined; OF SF AF PF undefined; ZF unaffected (SDM). */
export const BITTEST: FlagEffect = { defines: CF, undefines: OF | SF | AF | PF, reads: 0 };
/** BSF/BSR: ZF defined, the rest undefined. */
export const BITSCAN: FlagEffect = { defines: ZF, undefines: CF | OF | SF | AF | PF, reads: 0 };

/** Flags read by each condition code (Jcc/SETcc/CMOVcc suffix). */
export const CONDITIONS: Record<string, number> = {
  o: OF, no: OF, b: CF, ae: CF, e: ZF, ne: ZF, be: CF | ZF, a: CF | ZF,
  s: SF, ns: SF, p: PF, np: PF, l: SF | OF, ge: SF | OF, le: ZF | SF | OF, g: ZF | SF | OF,
};

/**
 * Shifts by an immediate count (masked to 5 bits, as on every 32-bit x86): count 0 changes
 * nothing; OF is defined only for a count of 1; AF is undefined; CF undefined when the count is
 * not below the operand size (SHL/SHR of an 8- or 16-bit operand).
 */
export function shiftEffect(count: number, bits: number): FlagEffect {
  const c = count & 31;
  if (c === 0) return NONE;
  let undef = AF | (c === 1 ? 0 : OF);
  if (c >= bits) undef |= CF;
  return { defines: ARITH & ~undef, undefines: undef, reads: 0 };
}

/** ROL/ROR: CF (and OF for count 1) only; RCL/RCR also read CF. */
export function rotateEffect(count: number, bits: number, throughCarry: boolean): FlagEffect {
  const c = throughCarry ? (count & 31) % (bits + 1) : count & 31;
  if ((count & 31) === 0) return NONE;
  const undef = c === 1 ? 0 : OF;
  return { defines: (CF | OF) & ~undef, undefines: undef, reads: throughCarry ? CF : 0 };
}
