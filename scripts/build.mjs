// Builds ferry86's distributable bundles with esbuild:
//   dist/node/ferry86.mjs     the library for Node (ESM)
//   dist/browser/ferry86.mjs  the library for browsers (ESM)
//   dist/vm-worker.mjs        the worker entry that hosts a VM (Node worker_threads)
// Tests, the demo and benchmarks spawn workers from dist/vm-worker.mjs, so `pnpm test` builds first.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, format: 'esm', sourcemap: true, target: 'es2022', logLevel: 'warning', absWorkingDir: root };

await Promise.all([
  build({ ...common, platform: 'node', entryPoints: ['packages/migrate/src/index.ts'], outfile: 'dist/node/ferry86.mjs' }),
  build({
    ...common,
    platform: 'browser',
    entryPoints: ['packages/migrate/src/index.ts'],
    outfile: 'dist/browser/ferry86.mjs',
    // Node-only modules are reached only behind runtime checks; leave them out of the browser build.
    external: ['node:*'],
  }),
  build({ ...common, platform: 'node', entryPoints: ['packages/migrate/src/worker/vm-worker.ts'], outfile: 'dist/vm-worker.mjs' }),
]);
