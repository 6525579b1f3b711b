import * as Comlink from 'comlink';
import type { RestoreResult } from '../snapshot/restoreSnapshot.ts';
import type { MessagePortLike } from '../transport/MessagePortTransport.ts';
import { envelope, type RpcResult } from './rpc.ts';
import type { MigrateToOptions, MigrateToResult, ReceiveFromResult, VmRuntime, VmRuntimeStatus } from './VmRuntime.ts';

/** The control API a VM worker exposes through comlink (every result in an RpcResult envelope). */
export interface VmWorkerApi {
  provide(name: string, bytes: Uint8Array): Promise<RpcResult<void>>;
  create(config: unknown): Promise<RpcResult<void>>;
  loadMultiboot(image: Uint8Array, cmdline?: string): Promise<RpcResult<void>>;
  start(): Promise<RpcResult<void>>;
  pause(): Promise<RpcResult<void>>;
  step(n: number): Promise<RpcResult<{ reason: string; instructions: number }>>;
  status(): Promise<RpcResult<VmRuntimeStatus>>;
  instructionCount(): Promise<RpcResult<number>>;
  digest(): Promise<RpcResult<string>>;
  sendSerial(bytes: Uint8Array): Promise<RpcResult<void>>;
  subscribeSerial(port: MessagePort): Promise<RpcResult<void>>;
  saveSnapshot(): Promise<RpcResult<Uint8Array>>;
  restoreSnapshot(bytes: Uint8Array): Promise<RpcResult<RestoreResult>>;
  migrateTo(port: MessagePort, opts?: MigrateToOptions): Promise<RpcResult<MigrateToResult>>;
  receiveFrom(port: MessagePort): Promise<RpcResult<ReceiveFromResult>>;
  terminate(): Promise<RpcResult<void>>;
}

/** Wraps a runtime as the comlink-exposed API. */
export function createWorkerApi(rt: VmRuntime, onTerminate: () => void): VmWorkerApi {
  const port = (p: MessagePort): MessagePortLike => p as unknown as MessagePortLike;
  return {
    provide: (name, bytes) => envelope(() => rt.provide(name, bytes)),
    create: (config) => envelope(() => rt.create(config)),
    loadMultiboot: (image, cmdline) => envelope(() => rt.loadMultiboot(image, cmdline)),
    start: () => envelope(() => rt.start()),
    pause: () => envelope(() => rt.pause()),
    step: (n) => envelope(() => rt.step(n)),
    status: () => envelope(() => rt.status()),
    instructionCount: () => envelope(() => rt.instructionCount()),
    digest: () => envelope(async () => {
      await rt.waitForPages();
      return rt.digest();
    }),
    sendSerial: (bytes) => envelope(() => rt.sendSerial(bytes)),
    subscribeSerial: (p) => envelope(() => rt.subscribeSerial(port(p))),
    saveSnapshot: async () => {
      const r = await envelope(() => rt.saveSnapshot());
      // Hand the snapshot over without copying it.
      return r.ok ? Comlink.transfer(r, [r.value.buffer as ArrayBuffer]) : r;
    },
    restoreSnapshot: (bytes) => envelope(() => rt.restoreSnapshot(bytes)),
    migrateTo: (p, opts) => envelope(() => rt.migrateTo(port(p), opts)),
    receiveFrom: (p) => envelope(() => rt.receiveFrom(port(p))),
    terminate: () =>
      envelope(async () => {
        await rt.terminate();
        onTerminate();
      }),
  };
}
