import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

/**
 * Bundles a worker entry (relative to this folder) into a temporary directory before the file's
 * tests run, the way scripts/build.mjs bundles the real one, so worker tests need no prior build.
 * Returns the bundle's path.
 */
export function bundleWorkerEntry(entry: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry86-worker-'));
  const bundle = join(dir, 'worker.mjs');
  beforeAll(async () => {
    await build({
      entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'warning',
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return bundle;
}
