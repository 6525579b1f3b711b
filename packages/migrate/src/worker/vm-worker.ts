/**
 * Worker entry that hosts one PC (DESIGN §2.7). scripts/build.mjs bundles it to
 * dist/vm-worker.mjs; VmWorker.spawn() starts it under Node. It would also run as a module Web
 * Worker, but browsers get vm-worker.browser.ts (dist/browser/vm-worker.mjs), which has no Node path.
 */
import { runWorker } from './runWorker.ts';
import { createPcMachine } from '../MigratablePc.ts';

void runWorker(createPcMachine);
