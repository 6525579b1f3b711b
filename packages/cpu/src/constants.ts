/**
 * Architectural constants shared by the interpreter (Intel SDM vol. 1 §3.4, vol. 3A §2.5, §6.3).
 */

// Segment register numbers, in the order the ModRM reg field and the SREG encodings use.
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

// General registers (32-bit numbering).
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;
/** Register slot that always reads 0: an absent base or index register in an effective address. */
export const ZERO_REG = 8;

// EFLAGS bits (SDM vol. 1 §3.4.3).
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;
/** The six status flags arithmetic instructions define; they are the lazily computed ones. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of EFLAGS always reads as 1. */
export const FLAGS_FIXED_ONE = 2;
/** Flags a program can ever see set on this CPU (no VIF/VIP: CR4.VME/PVI are not implemented). */
export const FLAGS_SUPPORTED = ARITH_FLAGS | TF | IF | DF | IOPL | NT | RF | VM | AC | ID | FLAGS_FIXED_ONE;

// CR0 bits (SDM vol. 3A §2.5).
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

// CR4 bits this CPU implements.
export const CR4_TSD = 1 << 2;
export const CR4_PSE = 1 << 4;
export const CR4_PGE = 1 << 7;
/** Writing any other CR4 bit raises #GP(0) (SDM vol. 3A §2.5: reserved bits). */
export const CR4_SUPPORTED = CR4_TSD | CR4_PSE | CR4_PGE;

// Exception vectors (SDM vol. 3A §6.3.1, table 6-1).
export const EXC_DE = 0;
export const EXC_DB = 1;
export const EXC_NMI = 2;
export const EXC_BP = 3;
export const EXC_OF = 4;
export const EXC_BR = 5;
export const EXC_UD = 6;
export const EXC_NM = 7;
export const EXC_DF = 8;
export const EXC_TS = 10;
export const EXC_NP = 11;
export const EXC_SS = 12;
export const EXC_GP = 13;
export const EXC_PF = 14;
export const EXC_MF = 16;
export const EXC_AC = 17;

// Descriptor attribute word as cached in a segment register: bits 0..7 = access byte
// (type, S, DPL, P), bits 12..15 = AVL, L, D/B, G — the layout of descriptor bits 40..55.
export const ATTR_TYPE_ACCESSED = 1 << 0;
/** Data: writable. Code: readable. */
export const ATTR_TYPE_RW = 1 << 1;
/** Data: expand-down. Code: conforming. */
export const ATTR_TYPE_EC = 1 << 2;
export const ATTR_TYPE_CODE = 1 << 3;
/** S: 1 = code/data, 0 = system descriptor. */
export const ATTR_S = 1 << 4;
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 1 << 7;
export const ATTR_AVL = 1 << 12;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;

// System descriptor types (S = 0), SDM vol. 3A §3.5 table 3-2.
export const SYS_TSS16_AVAIL = 1;
export const SYS_LDT = 2;
export const SYS_TSS16_BUSY = 3;
export const SYS_CALL_GATE16 = 4;
export const SYS_TASK_GATE = 5;
export const SYS_INT_GATE16 = 6;
export const SYS_TRAP_GATE16 = 7;
export const SYS_TSS32_AVAIL = 9;
export const SYS_TSS32_BUSY = 11;
export const SYS_CALL_GATE32 = 12;
export const SYS_INT_GATE32 = 14;
export const SYS_TRAP_GATE32 = 15;

/** Real-mode style data segment attributes: present, DPL 0, writable, accessed, S=1. */
export const ATTR_REAL_DATA = ATTR_P | ATTR_S | ATTR_TYPE_RW | ATTR_TYPE_ACCESSED;
/** Real-mode code segment as left by reset: present, readable, accessed code. */
export const ATTR_REAL_CODE = ATTR_P | ATTR_S | ATTR_TYPE_CODE | ATTR_TYPE_RW | ATTR_TYPE_ACCESSED;
