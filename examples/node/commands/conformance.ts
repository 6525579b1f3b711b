/**
 * `ferry86 conformance DIR`: runs the CPU conformance vectors in DIR (e.g.
 * /work/shared/conformance/sst286, see its README) through @ferry86/cpu and prints per-file results.
 */
import { runConformanceDir } from '@ferry86/cpu';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { UsageError, parseCount, parseOptions } from './usage.ts';

const USAGE = `usage: ferry86 conformance DIR [--filter TEXT] [--failures N]

Runs every CPU conformance test file (*.json, *.json.gz) in DIR and prints, per file,
how many vectors passed and failed, then the totals. Exits with status 1 if any failed.

  --filter TEXT   only files whose name contains TEXT
  --failures N    print up to N failure reasons per file (default 3)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: argv,
    options: { filter: { type: 'string' }, failures: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'DIR is missing' : 'expected exactly one DIR');
  const dir = positionals[0]!;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`"${dir}" is not a directory`);
  const showFailures = values.failures === undefined ? 3 : parseCount('failures', values.failures);
  const filter = values.filter;
  if (!readdirSync(dir).some((n) => /\.json(\.gz)?$/.test(n) && (filter === undefined || n.includes(filter)))) {
    const sub = readdirSync(dir).filter((n) => statSync(`${dir}/${n}`).isDirectory());
    throw new UsageError(`no test files (*.json, *.json.gz)${filter === undefined ? '' : ` matching "${filter}"`} in "${dir}"` +
      (sub.length > 0 ? ` (subdirectories: ${sub.join(', ')})` : ''));
  }
  const result = await runConformanceDir(dir, filter === undefined ? {} : { filter });
  const width = Math.max(5, ...result.files.map((f) => f.name.length));
  const row = (name: string, passed: number, failed: number) =>
    `${name.padEnd(width)}  ${String(passed).padStart(8)}  ${String(failed).padStart(8)}`;
  process.stdout.write(`${'file'.padEnd(width)}  ${'passed'.padStart(8)}  ${'failed'.padStart(8)}\n`);
  for (const f of result.files) {
    process.stdout.write(row(f.name, f.passed, f.failed) + (f.failed > 0 ? '  FAIL' : '') + '\n');
    for (const x of f.failures.slice(0, showFailures)) process.stdout.write(`    #${x.idx} ${x.name}: ${x.why}\n`);
  }
  process.stdout.write(row('total', result.passed, result.failed) + '\n');
  return result.failed > 0 ? 1 : 0;
}

export const conformanceCommand = { summary: 'run CPU conformance test vectors from a directory', usage: USAGE, main };
