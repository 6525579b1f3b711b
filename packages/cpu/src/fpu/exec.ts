/**
 * x87 instruction execution (Intel SDM vol. 2 "FADD" ... "FYL2XP1", opcode map appendix A.5).
 *
 * `fpuMem` and `fpuReg` handle every D8-DF instruction, with `i.op` = (escape & 7) << 3 |
 * ModRM.reg, `i.rm` = ModRM.rm for register forms, and `i.imm` = the 11-bit FOP value. They
 * check CR0 (#NM) and pending exceptions (#MF), record the last instruction/data pointers, and
 * dispatch on `i.op`. The decoder gives the common forms a handler of their own (fast.ts), which
 * does the double-held common case and passes everything else to these two.
 *
 * Order inside each instruction follows the restart rule (DESIGN §2.2): memory is read, and
 * destination memory probed, before any FPU state changes, so a #PF re-runs it cleanly.
 *
 * This module is the entry point the decoder and fast.ts import; the code lives in one file per
 * group:
 * - entry.ts: #NM/#MF entry checks, FCS:FIP/FOP, ES/B after an instruction, WAIT/FWAIT, operand access
 * - operations.ts: arithmetic kinds, m32/m64 real reads, the compare core, pushes
 * - memory-forms.ts: `fpuMem` (loads, stores, control/status word, environment forms)
 * - bcd.ts: FBSTP
 * - register-forms.ts: `fpuReg` (stack moves, FCMOVcc, FCHS/FABS/FTST/FXAM)
 * - load-constants.ts: FLD1 ... FLDZ
 * - transcendental.ts: D9 F0-FF (FPREM, FSCALE, FXTRACT, F2XM1, FYL2X, FSIN, ...)
 */
export { finish, fwait, noteInsn } from './entry.ts';
export { arithFast, memDouble } from './operations.ts';
export { fpuMem, isNormalFloat } from './memory-forms.ts';
export { fpuReg, fxch } from './register-forms.ts';
export { loadConstant } from './load-constants.ts';
