export { Cpu, type CpuOptions } from './cpu.ts';
export { Fpu } from './fpu/fpu.ts';
export { CpuRegisters } from './regs.ts';
export { CpuUnimplementedError } from './fault.ts';
export { CPU_STATE_SCHEMA } from './state.ts';
export { CPU_SIGNATURE, CPUID_FEATURES_EDX } from './cpuid.ts';
export { NO_INTERRUPTS, NO_IO, type InterruptController, type IoPorts, type StopReason } from './types.ts';
export * as x86 from './constants.ts';
export { runConformanceDir, runConformanceFile, type ConformanceFileResult, type ConformanceResult } from './conformance/sst286.ts';
