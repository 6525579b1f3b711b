/**
 * Micro-benchmarks in 32-bit flat protected mode, printing millions of instructions per second.
 * Run: `pnpm exec tsx packages/cpu/bench/loop.ts [millions]`.
 *
 * - alu:  a tight loop of register ALU ops, an aligned load and store, INC/DEC, CMP, LEA, Jcc.
 * - mix:  compiled-code shape: CALL/RET, PUSH/POP, a stack frame, table lookups, a read-modify-
 *         write, MOVZX, SETcc, a conditional branch; its data lives in its own page.
 * - smc:  the same code with its data in the code page (as in BIOS or DOS code): the page ends up
 *         in checked mode (codecache.ts), where each instruction verifies its bytes.
 * - rep:  REP MOVSD of 64 KiB and REP STOSB of 64 KiB, repeated (string fast paths).
 */
import { Mmu, PhysicalMemory } from '@ferry86/mmu';
import { Cpu } from '../src/index.ts';

// alu (nasm, bits 32, org 0x1000):
//   mov esi, 0x8000 / mov ecx, 0x7fffffff
//   .l: add eax, ecx / xor edx, eax / mov [esi], eax / mov ebx, [esi+4] / inc edi
//       cmp edi, ebx / lea ebp, [esi+edi*4] / dec ecx / jnz .l
//   hlt
const ALU = [
  0xbe, 0x00, 0x80, 0x00, 0x00, 0xb9, 0xff, 0xff, 0xff, 0x7f, 0x01, 0xc8, 0x31, 0xc2, 0x89, 0x06, 0x8b,
  0x5e, 0x04, 0x47, 0x39, 0xdf, 0x8d, 0x2c, 0xbe, 0x49, 0x75, 0xee, 0xf4,
];

// smc (nasm, bits 32, org 0x1000; counter = 0x1054, counter2 = 0x1058, table = 0x105c):
//   mov esp, 0x80000 / mov ecx, 0x7fffffff
//   .l: push ecx / call func / pop ecx / add esi, eax / dec ecx / jnz .l / hlt
//   func: push ebp / mov ebp, esp / push ebx / mov eax, [ebp+8] / and eax, 0xff
//         mov edx, [table + eax*4] / add [counter], edx / shl edx, 2 / test edx, 0x100 / jz .skip
//         inc dword [counter2]
//   .skip: movzx ebx, byte [table + eax] / cmp bl, 0x80 / setb al / movzx eax, al
//         pop ebx / pop ebp / ret
const SMC = [
  0xbc, 0x00, 0x00, 0x08, 0x00, 0xb9, 0xff, 0xff, 0xff, 0x7f, 0x51, 0xe8, 0x07, 0x00, 0x00, 0x00, 0x59, 0x01,
  0xc6, 0x49, 0x75, 0xf4, 0xf4, 0x55, 0x89, 0xe5, 0x53, 0x8b, 0x45, 0x08, 0x25, 0xff, 0x00, 0x00, 0x00, 0x8b,
  0x14, 0x85, 0x5c, 0x10, 0x00, 0x00, 0x01, 0x15, 0x54, 0x10, 0x00, 0x00, 0xc1, 0xe2, 0x02, 0xf7, 0xc2, 0x00,
  0x01, 0x00, 0x00, 0x74, 0x06, 0xff, 0x05, 0x58, 0x10, 0x00, 0x00, 0x0f, 0xb6, 0x98, 0x5c, 0x10, 0x00, 0x00,
  0x80, 0xfb, 0x80, 0x0f, 0x92, 0xc0, 0x0f, 0xb6, 0xc0, 0x5b, 0x5d, 0xc3,
];

// mix: the same source with the data moved to 0x5000 (counter = 0x5000, counter2 = 0x5004,
// table = 0x5008).
const MIX = [
  0xbc, 0x00, 0x00, 0x08, 0x00, 0xb9, 0xff, 0xff, 0xff, 0x7f, 0x51, 0xe8, 0x07, 0x00, 0x00, 0x00, 0x59, 0x01,
  0xc6, 0x49, 0x75, 0xf4, 0xf4, 0x55, 0x89, 0xe5, 0x53, 0x8b, 0x45, 0x08, 0x25, 0xff, 0x00, 0x00, 0x00, 0x8b,
  0x14, 0x85, 0x08, 0x50, 0x00, 0x00, 0x01, 0x15, 0x00, 0x50, 0x00, 0x00, 0xc1, 0xe2, 0x02, 0xf7, 0xc2, 0x00,
  0x01, 0x00, 0x00, 0x74, 0x06, 0xff, 0x05, 0x04, 0x50, 0x00, 0x00, 0x0f, 0xb6, 0x98, 0x08, 0x50, 0x00, 0x00,
  0x80, 0xfb, 0x80, 0x0f, 0x92, 0xc0, 0x0f, 0xb6, 0xc0, 0x5b, 0x5d, 0xc3,
];

// rep (nasm, bits 32, org 0x1000):
//   .l: cld / mov esi, 0x100000 / mov edi, 0x200000 / mov ecx, 0x4000 / rep movsd
//       mov edi, 0x300000 / mov ecx, 0x10000 / mov al, 0x5a / rep stosb / jmp .l
const REP = [
  0xfc, 0xbe, 0x00, 0x00, 0x10, 0x00, 0xbf, 0x00, 0x00, 0x20, 0x00, 0xb9, 0x00, 0x40, 0x00, 0x00, 0xf3, 0xa5,
  0xbf, 0x00, 0x00, 0x30, 0x00, 0xb9, 0x00, 0x00, 0x01, 0x00, 0xb0, 0x5a, 0xf3, 0xaa, 0xeb, 0xde,
];

function machine(code: number[]): Cpu {
  const phys = new PhysicalMemory({ ramSize: 16 << 20 });
  const cpu = new Cpu(new Mmu(phys));
  phys.writeBytes(0x1000, Uint8Array.from(code));
  const table = new Uint8Array(1024);
  for (let k = 0; k < 1024; k += 4) table.set([k & 0xff, 0x23, 0x01, 0], k);
  if (code === SMC) phys.writeBytes(0x105c, table);
  if (code === MIX) phys.writeBytes(0x5008, table);
  cpu.enterFlatProtectedMode(0x1000);
  return cpu;
}

/** CPU time of this process in ms (less disturbed than wall time on a shared machine). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs `millions` M instructions in 10 M-instruction rounds and reports the median round, by
 * process CPU time, so other processes on the machine disturb the figure less.
 */
function bench(name: string, code: number[], millions: number): void {
  const cpu = machine(code);
  const slice = 1_000_000;
  for (let k = 0; k < 20; k++) cpu.run(slice); // warm up the optimising compiler
  const rounds: number[] = [];
  for (let r = 0; r < Math.max(1, millions / 10); r++) {
    const t0 = cpuMs();
    let done = 0;
    while (done < 10 * slice) done += cpu.run(slice);
    rounds.push(done / 1000 / (cpuMs() - t0));
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[rounds.length >> 1]!;
  console.log(`${name.padEnd(5)} ${millions} M instructions: median ${median.toFixed(1)} MIPS (best ${rounds[rounds.length - 1]!.toFixed(1)})`);
}

/** The REP loop moves 128 KiB per 10 instructions: report bytes per second. */
function benchRep(loops: number): void {
  const cpu = machine(REP);
  cpu.run(1000);
  const t0 = cpuMs();
  cpu.run(loops * 10);
  const ms = cpuMs() - t0;
  console.log(`rep   ${loops} x 128 KiB (REP MOVSD + REP STOSB) in ${ms.toFixed(0)} ms: ${((loops * 128) / 1024 / (ms / 1000)).toFixed(0)} MiB/s`);
}

const millions = Number(process.argv[2] ?? 100);
bench('alu', ALU, millions);
bench('mix', MIX, millions);
bench('smc', SMC, millions);
benchRep(2000);
