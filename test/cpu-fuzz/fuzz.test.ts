/**
 * Differential CPU fuzzing (issue: evidence from reference machines): random instruction
 * sequences in 32-bit flat protected mode run on ferry86 and on Debian's qemu-system-i386; every
 * case's registers, defined flags and memory must match. CI runs a fixed-seed batch; set
 * FERRY86_CPU_FUZZ_BATCHES=N (and optionally FERRY86_CPU_FUZZ_SEED) for a longer local run.
 */
import { describe, expect, it } from 'vitest';
import { caseSource, runBatch } from './batch.ts';

const BATCHES = Number(process.env.FERRY86_CPU_FUZZ_BATCHES ?? 4);
const FIRST_SEED = Number(process.env.FERRY86_CPU_FUZZ_SEED ?? 20261123);
const CASES = 250;
const LENGTH = 32;

describe('differential CPU fuzzer vs qemu-system-i386', () => {
  for (let b = 0; b < BATCHES; b++) {
    const seed = FIRST_SEED + b;
    it(`batch seed ${seed}: ${CASES} cases of ${LENGTH} instructions match the reference`, async () => {
      const r = await runBatch(seed, CASES, LENGTH);
      expect(r.reference.at(-1)).toBe('fuzz done');
      expect(r.reference.length).toBe(CASES + 1);
      for (let i = 0; i < CASES; i++) {
        if (r.ours[i] !== r.reference[i]) {
          expect.fail(`case ${i} differs (seed ${seed})\nreference: ${r.reference[i]}\nferry86:   ${r.ours[i]}\n${caseSource(r.source, i)}`);
        }
      }
      expect(r.ours.at(-1)).toBe('fuzz done');
    });
  }
});
