import * as Comlink from 'comlink';
import { createWorkerApi } from './api.ts';
import type { MachineFactory } from './HostedMachine.ts';
import { VmRuntime, type VmRuntimeOptions } from './VmRuntime.ts';

/** The part of a dedicated worker's global scope the VM runtime talks through. */
interface DedicatedWorkerScopeLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  close(): void;
}

/**
 * Hosts a VmRuntime in a browser's dedicated (module) Web Worker and exposes its control API with
 * comlink on the worker's global scope. Synchronous on purpose: the embedder may post its first
 * call before this module has finished evaluating, and the worker's message queue only holds such
 * calls until the script has run (HTML Living Standard, "run a worker"), so the listener must be
 * in place by the end of the module's first evaluation.
 */
export function exposeInWebWorker(factory: MachineFactory, opts: VmRuntimeOptions = {}): VmRuntime {
  const scope = globalThis as unknown as Partial<DedicatedWorkerScopeLike>;
  if (typeof scope.postMessage !== 'function' || typeof scope.close !== 'function' || typeof scope.addEventListener !== 'function') {
    throw new Error('exposeInWebWorker() must run inside a dedicated Web Worker (new Worker(url, { type: "module" }))');
  }
  const worker = scope as DedicatedWorkerScopeLike;
  const runtime = new VmRuntime(factory, opts);
  Comlink.expose(createWorkerApi(runtime, () => worker.close()), worker as unknown as Comlink.Endpoint);
  return runtime;
}
