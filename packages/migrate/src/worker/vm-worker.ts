/**
 * Worker entry that hosts one PC (DESIGN §2.7). scripts/build.mjs bundles it to
 * dist/vm-worker.mjs; VmWorker.spawn() starts it. Works as a Node worker thread and as a module
 * Web Worker.
 */
import { runWorker } from './runWorker.ts';
import { createPcMachine } from '../MigratablePc.ts';

void runWorker(createPcMachine);
