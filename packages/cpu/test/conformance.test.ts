/**
 * The 16,200 real-mode vectors recorded on a real 80286 (shared/conformance/sst286), with the
 * 386 adjustments the data set describes. The pass rate must not fall below what this CPU
 * reached when the test was written: 16,191 of 16,200. The 9 remaining failures are all one
 * 286-only behaviour: a 286 string instruction that faults on a word at offset FFFFh has already
 * advanced SI/DI (and CX); a 386 restarts the instruction with the registers unchanged.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runConformanceDir } from '../src/index.ts';

const DIR = process.env.SST286_DIR ?? new URL('../../../../shared/conformance/sst286', import.meta.url).pathname;
const RECORDED_PASSES = 16191;

describe('sst286 conformance', () => {
  it('passes at least the recorded number of vectors', async () => {
    expect(existsSync(DIR), `conformance vectors not found at ${DIR} (set SST286_DIR)`).toBe(true);
    const r = await runConformanceDir(DIR);
    const total = r.passed + r.failed;
    const rate = ((100 * r.passed) / total).toFixed(2);
    const failing = r.files.filter((f) => f.failed > 0).map((f) => `${f.name}: ${f.failures.map((x) => `#${x.idx} ${x.why}`).join('; ')}`);
    console.log(`sst286: ${r.passed}/${total} passed (${rate}%)\n${failing.join('\n')}`);
    expect(total).toBe(16200);
    expect(r.passed).toBeGreaterThanOrEqual(RECORDED_PASSES);
    // Only the 286 string-fault quirk may remain.
    for (const f of r.files) expect(['6D', '6F', 'A5', 'A7']).toContain(f.failed > 0 ? f.name : '6D');
  });
});
