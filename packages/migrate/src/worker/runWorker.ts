import * as Comlink from 'comlink';
import { createWorkerApi } from './api.ts';
import { exposeInWebWorker } from './exposeInWebWorker.ts';
import type { MachineFactory } from './HostedMachine.ts';
import { VmRuntime, type VmRuntimeOptions } from './VmRuntime.ts';

/**
 * Hosts a VmRuntime in the current worker and exposes its control API with comlink: through
 * worker_threads' parentPort under Node, through the worker global scope in browsers (where
 * exposeInWebWorker() alone does the job without any Node module in the bundle).
 */
export async function runWorker(factory: MachineFactory, opts: VmRuntimeOptions = {}): Promise<VmRuntime> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) return exposeInWebWorker(factory, opts);
  const runtime = new VmRuntime(factory, opts);
  const { parentPort } = await import('node:worker_threads');
  if (!parentPort) throw new Error('runWorker() must run inside a worker thread');
  const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs');
  const ep = nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]);
  Comlink.expose(createWorkerApi(runtime, () => parentPort.close()), ep);
  return runtime;
}
