// Builds ferry86's distributable bundles with esbuild:
//   dist/node/ferry86.mjs        the library for Node (ESM)
//   dist/vm-worker.mjs           the worker entry that hosts a VM (Node worker_threads)
//   dist/browser/ferry86.mjs     the library for browsers (ESM)
//   dist/browser/vm-worker.mjs   the worker entry that hosts a VM (module Web Worker)
//   dist/browser/demo/main.mjs   the browser demo's script (examples/browser; imports the library bundle)
// Tests, the demos and benchmarks spawn workers from these bundles, so `pnpm test` builds first.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, format: 'esm', sourcemap: true, target: 'es2022', logLevel: 'warning', absWorkingDir: root };
// Where each library bundle finds its worker bundle (VmWorker's DEFAULT_WORKER_BUNDLE).
const workerNextTo = (relative) => ({ define: { FERRY86_WORKER_BUNDLE: JSON.stringify(relative) } });

await Promise.all([
  build({
    ...common,
    ...workerNextTo('../vm-worker.mjs'),
    platform: 'node',
    entryPoints: ['packages/migrate/src/index.ts'],
    outfile: 'dist/node/ferry86.mjs',
  }),
  build({ ...common, platform: 'node', entryPoints: ['packages/migrate/src/worker/vm-worker.ts'], outfile: 'dist/vm-worker.mjs' }),
  build({
    ...common,
    ...workerNextTo('./vm-worker.mjs'),
    platform: 'browser',
    entryPoints: ['packages/migrate/src/index.ts'],
    outfile: 'dist/browser/ferry86.mjs',
    // Node-only modules are reached only behind runtime checks; leave them out of the browser build.
    external: ['node:*'],
  }),
  build({
    ...common,
    platform: 'browser',
    entryPoints: ['packages/migrate/src/worker/vm-worker.browser.ts'],
    outfile: 'dist/browser/vm-worker.mjs',
    // As above: only dynamic imports behind Node checks (e.g. cpu's conformance loaders) reach these.
    external: ['node:*'],
  }),
  build({
    ...common,
    platform: 'browser',
    entryPoints: ['examples/browser/main.ts'],
    outfile: 'dist/browser/demo/main.mjs',
    // The page maps this to dist/browser/ferry86.mjs with an import map: the demo runs the very
    // bundle an embedder ships.
    external: ['@ferry86/migrate'],
  }),
]);
