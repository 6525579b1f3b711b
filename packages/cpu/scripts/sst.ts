/**
 * Prints the sst286 conformance summary: `tsx packages/cpu/scripts/sst.ts [filter] [-v]`.
 */
import { runConformanceDir } from '../src/index.ts';

const dir = process.env.SST_DIR ?? '/work/shared/conformance/sst286';
const args = process.argv.slice(2);
const verbose = args.includes('-v');
const filter = args.find((a) => !a.startsWith('-'));
const t0 = performance.now();
const r = await runConformanceDir(dir, filter ? { filter: (n) => n.startsWith(filter) } : {});
const ms = performance.now() - t0;
for (const f of r.files) {
  if (f.failed === 0) continue;
  console.log(`${f.name}: ${f.passed}/${f.passed + f.failed}`);
  for (const x of f.failures.slice(0, verbose ? 50 : 2)) console.log(`   #${x.idx} ${x.name}: ${x.why}`);
}
const total = r.passed + r.failed;
console.log(`passed ${r.passed}/${total} (${((100 * r.passed) / total).toFixed(2)}%) in ${ms.toFixed(0)} ms`);
