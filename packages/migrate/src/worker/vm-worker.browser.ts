/**
 * Browser entry of the worker that hosts one PC (DESIGN §2.7): scripts/build.mjs bundles it to
 * dist/browser/vm-worker.mjs for `new Worker(url, { type: 'module' })`, which is what
 * VmWorker.spawn() does in a browser. Unlike vm-worker.ts it reaches no Node module at all.
 */
import { exposeInWebWorker } from './exposeInWebWorker.ts';
import { createPcMachine } from '../MigratablePc.ts';

exposeInWebWorker(createPcMachine);
