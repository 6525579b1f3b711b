/** What the CPU needs from the board (contracts.md). */

/** The I/O port space (IN/OUT/INS/OUTS). Unassigned ports read all ones. */
export interface IoPorts {
  in8(port: number): number;
  in16(port: number): number;
  in32(port: number): number;
  out8(port: number, value: number): void;
  out16(port: number, value: number): void;
  out32(port: number, value: number): void;
}

/** The interrupt controller pair as seen from the CPU's INTR pin. */
export interface InterruptController {
  /** INTR asserted. */
  hasInterrupt(): boolean;
  /** INTA cycle: returns the vector to deliver. */
  acknowledge(): number;
}

/**
 * Why run() returned: the instruction budget was used up ('limit'), the CPU is in HLT with no
 * deliverable interrupt ('halt'), a triple fault stopped it ('shutdown'), or an instruction touched
 * a RAM page that is not present yet ('absent', see Cpu.absentPage; EIP is at that instruction).
 */
export type StopReason = 'limit' | 'halt' | 'shutdown' | 'absent';

/** I/O space with nothing attached: reads return all ones, writes are dropped. */
export const NO_IO: IoPorts = {
  in8: () => 0xff,
  in16: () => 0xffff,
  in32: () => -1,
  out8: () => {},
  out16: () => {},
  out32: () => {},
};

/** An interrupt controller that never interrupts. */
export const NO_INTERRUPTS: InterruptController = {
  hasInterrupt: () => false,
  acknowledge: () => 0,
};
