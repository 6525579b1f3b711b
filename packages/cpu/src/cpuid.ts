/**
 * CPUID (SDM vol. 2 "CPUID"). The CPU identifies as a GenuineIntel family 6 model 1 part (the
 * Pentium Pro signature, 0x619) because its ISA level is the P6 integer set. Feature bits
 * advertise only what this interpreter implements: the FPU bit unless the CPU was built without
 * the x87 (CpuOptions.fpu = false; then escape opcodes raise #NM when CR0.EM or CR0.TS is set and are
 * ignored), no FXSR, no VME, PAE, APIC,
 * SYSENTER, MTRR, MMX or SSE.
 */
import type { Cpu } from './cpu.ts';

/** Family 6, model 1, stepping 9. Also left in EDX by RESET. */
export const CPU_SIGNATURE = 0x619;

export const FEATURE_FPU = 1 << 0; // x87 on chip (unless built with CpuOptions.fpu = false)
export const FEATURE_PSE = 1 << 3; // 4 MiB pages (CR4.PSE)
export const FEATURE_TSC = 1 << 4; // RDTSC, CR4.TSD
export const FEATURE_MSR = 1 << 5; // RDMSR/WRMSR (the TSC MSR)
export const FEATURE_CX8 = 1 << 8; // CMPXCHG8B
export const FEATURE_PGE = 1 << 13; // global pages (CR4.PGE)
export const FEATURE_CMOV = 1 << 15; // CMOVcc

export const CPUID_FEATURES_EDX = FEATURE_PSE | FEATURE_TSC | FEATURE_MSR | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV;

const MAX_BASIC_LEAF = 1;
// "GenuineIntel" as EBX, EDX, ECX little-endian dwords.
const VENDOR_EBX = 0x756e6547;
const VENDOR_EDX = 0x49656e69;
const VENDOR_ECX = 0x6c65746e;

export function cpuid(c: Cpu): void {
  const r = c.r32;
  let leaf = r[0]! >>> 0;
  if (leaf >= 0x80000000) {
    // No extended leaves: report 0x80000000 as the highest (i.e. none beyond it).
    r[0] = 0x80000000 | 0;
    r[3] = 0;
    r[1] = 0;
    r[2] = 0;
    return;
  }
  // CPUID.1 loads the signature of the loaded microcode update into IA32_BIOS_SIGN_ID (SDM vol. 3A
  // §10.11.7.1); none is loaded, so the revision in the high half reads 0.
  if (leaf === 1) c.biosSignId = 0n;
  // Intel answers out-of-range basic leaves with the highest basic leaf's data.
  if (leaf > MAX_BASIC_LEAF) leaf = MAX_BASIC_LEAF;
  if (leaf === 0) {
    r[0] = MAX_BASIC_LEAF;
    r[3] = VENDOR_EBX;
    r[2] = VENDOR_EDX;
    r[1] = VENDOR_ECX;
    return;
  }
  r[0] = CPU_SIGNATURE;
  r[3] = 0;
  r[1] = 0;
  r[2] = c.fpu !== null ? CPUID_FEATURES_EDX | FEATURE_FPU : CPUID_FEATURES_EDX;
}
