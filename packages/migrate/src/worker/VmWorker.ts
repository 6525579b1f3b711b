import * as Comlink from 'comlink';
import type { RestoreResult } from '../snapshot/restoreSnapshot.ts';
import type { MessagePortLike } from '../transport/MessagePortTransport.ts';
import type { VmWorkerApi } from './api.ts';
import { unwrap, type RpcResult } from './rpc.ts';
import { SerialAssembler } from './SerialAssembler.ts';
import type { MigrateToOptions, MigrateToResult, ReceiveFromResult, VmRuntimeStatus } from './VmRuntime.ts';

/**
 * Set by scripts/build.mjs (esbuild `define`) in each library bundle to where its worker bundle
 * lies relative to it; not defined when the library runs from source.
 */
declare const FERRY86_WORKER_BUNDLE: string | undefined;

const isNodeHost = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * The worker bundle `node scripts/build.mjs` makes for this host: dist/vm-worker.mjs (Node
 * worker_threads) or dist/browser/vm-worker.mjs (module Web Worker), found next to the library
 * bundle, or at the workspace root when the library runs from source.
 */
export const DEFAULT_WORKER_BUNDLE = new URL(
  typeof FERRY86_WORKER_BUNDLE === 'string'
    ? FERRY86_WORKER_BUNDLE
    : isNodeHost
      ? '../../../../dist/vm-worker.mjs'
      : '../../../../dist/browser/vm-worker.mjs',
  import.meta.url,
);

export interface VmWorkerSpawnOptions {
  /** URL or file path of the worker bundle (default DEFAULT_WORKER_BUNDLE). */
  bundle?: string | URL;
  /** Node only: extra node flags for the worker (e.g. ['--import', 'tsx'] to run a .ts entry). */
  execArgv?: string[];
  name?: string;
}

export interface WorkerMigrationResult extends MigrateToResult {
  /** Digest the destination verified (hex). */
  digest: string;
  bytesReceived: number;
}

/**
 * Main-thread handle of a VM running in a worker (DESIGN §2.7). The control plane is comlink;
 * serial output and migration data travel on dedicated MessagePorts that never touch this thread
 * (migration) or carry only the guest's bytes (serial).
 */
export class VmWorker {
  private deadError: Error | null = null;
  private readonly death: Promise<never>;
  private die!: (e: Error) => void;

  private constructor(
    readonly remote: Comlink.Remote<VmWorkerApi>,
    private readonly kill: () => Promise<void>,
  ) {
    this.death = new Promise<never>((_, reject) => {
      this.die = (e) => {
        this.deadError ??= e;
        reject(this.deadError);
      };
    });
    this.death.catch(() => {}); // observed through call()
  }

  static async spawn(opts: VmWorkerSpawnOptions = {}): Promise<VmWorker> {
    const bundle = opts.bundle ?? DEFAULT_WORKER_BUNDLE;
    if (isNodeHost) {
      const { Worker } = await import('node:worker_threads');
      const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs');
      const w = new Worker(bundle, { execArgv: opts.execArgv, name: opts.name });
      const remote = Comlink.wrap<VmWorkerApi>(nodeEndpoint(w as unknown as Parameters<typeof nodeEndpoint>[0]));
      const vm = new VmWorker(remote, async () => {
        await w.terminate();
      });
      w.on('error', (e: Error) => vm.die(new Error(`the VM worker failed: ${e.message}`, { cause: e })));
      w.on('exit', (code: number) => vm.die(new Error(`the VM worker exited (code ${code})`)));
      return vm;
    }
    // A module Web Worker; RAM pages and serial bytes reach it on transferred MessagePorts.
    const w = new Worker(bundle, { type: 'module', name: opts.name });
    const vm = new VmWorker(Comlink.wrap<VmWorkerApi>(w), async () => w.terminate());
    // A bundle that fails to load or evaluate fires a plain Event without a message.
    w.addEventListener('error', (e) => {
      const why = e instanceof ErrorEvent && e.message ? e.message : `could not load or run ${String(bundle)}`;
      vm.die(new Error(`the VM worker failed: ${why}`));
    });
    w.addEventListener('messageerror', () => vm.die(new Error('the VM worker sent a message that could not be deserialised')));
    return vm;
  }

  /** A remote call that fails instead of hanging if the worker dies meanwhile. */
  private async call<T>(p: Promise<RpcResult<T>>): Promise<T> {
    if (this.deadError) throw this.deadError;
    return unwrap(await Promise.race([p, this.death]));
  }

  /**
   * Hands the worker a large input its machine factory needs by name; for the PC, the disk base
   * images "disk:primaryMaster" / "disk:primarySlave" (a copy is sent). A machine created with
   * `disks: { primaryMaster: true }`, or received by migration, takes its image from here.
   */
  async provide(name: string, bytes: Uint8Array): Promise<void> {
    await this.call(this.remote.provide(name, bytes));
  }

  async create(config: object): Promise<void> {
    await this.call(this.remote.create(config));
  }

  async loadMultiboot(image: Uint8Array, cmdline?: string): Promise<void> {
    await this.call(this.remote.loadMultiboot(image, cmdline));
  }

  async start(): Promise<void> {
    await this.call(this.remote.start());
  }

  /** Resolves once the run loop has stopped (after the current slice). */
  async pause(): Promise<void> {
    await this.call(this.remote.pause());
  }

  /** Runs exactly n instructions of a paused machine. */
  async step(n: number): Promise<{ reason: string; instructions: number }> {
    return await this.call(this.remote.step(n));
  }

  async status(): Promise<VmRuntimeStatus> {
    return await this.call(this.remote.status());
  }

  async instructionCount(): Promise<number> {
    return await this.call(this.remote.instructionCount());
  }

  /** State digest (hex) of the machine in the worker. */
  async digest(): Promise<string> {
    return await this.call(this.remote.digest());
  }

  async sendSerial(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    await this.call(this.remote.sendSerial(bytes));
  }

  /**
   * Streams the guest's serial output to `to` over a dedicated MessagePort. Pass the same
   * SerialAssembler to the source and the destination of a migration to get one gap-free,
   * duplicate-free stream.
   */
  async subscribeSerial(to: SerialAssembler | ((bytes: Uint8Array) => void)): Promise<SerialAssembler> {
    const assembler = to instanceof SerialAssembler ? to : new SerialAssembler(to);
    const { port1, port2 } = new MessageChannel();
    assembler.attach(port1 as unknown as MessagePortLike);
    await this.call(this.remote.subscribeSerial(Comlink.transfer(port2, [port2])));
    return assembler;
  }

  async saveSnapshot(): Promise<Uint8Array> {
    return await this.call(this.remote.saveSnapshot());
  }

  async restoreSnapshot(bytes: Uint8Array): Promise<RestoreResult> {
    return await this.call(this.remote.restoreSnapshot(bytes));
  }

  /** Source side with a port the caller made; prefer VmWorker.migrate(). */
  async migrateTo(port: MessagePort, opts?: MigrateToOptions): Promise<MigrateToResult> {
    return await this.call(this.remote.migrateTo(Comlink.transfer(port, [port]), opts));
  }

  /** Destination side with a port the caller made; prefer VmWorker.migrate(). */
  async receiveFrom(port: MessagePort): Promise<ReceiveFromResult> {
    return await this.call(this.remote.receiveFrom(Comlink.transfer(port, [port])));
  }

  /**
   * Live-migrates the VM in `source` to `target` (an idle worker). The two ends of a fresh
   * MessageChannel are transferred to the two workers, so guest RAM goes worker to worker. On
   * success the destination is started if the source was running, and serial input that reached
   * the source after it stopped is passed on. On failure the source keeps running and the
   * destination error (if any) is thrown.
   */
  static async migrate(source: VmWorker, target: VmWorker, opts?: MigrateToOptions): Promise<WorkerMigrationResult> {
    const { port1, port2 } = new MessageChannel();
    const wasRunning = (await source.status()).running;
    // Post-copy: the destination runs as soon as it holds the device state, while its pages are
    // still arriving (the source's migrateTo resolves only when the last one is sent).
    const received = target.receiveFrom(port2).then(async (d) => {
      if (d.postCopy && wasRunning) await target.start();
      return d;
    });
    const [s, d] = await Promise.allSettled([source.migrateTo(port1, opts), received]);
    if (s.status === 'rejected') throw s.reason;
    if (d.status === 'rejected') throw d.reason;
    if (s.value.undeliveredInput.length > 0) await target.sendSerial(s.value.undeliveredInput);
    if (s.value.wasRunning && !d.value.postCopy) await target.start();
    return { ...s.value, digest: d.value.digest, bytesReceived: d.value.bytesReceived };
  }

  /** Stops the VM and ends the worker. */
  async terminate(): Promise<void> {
    try {
      if (!this.deadError) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([this.remote.terminate(), this.death, new Promise((r) => (timer = setTimeout(r, 1000)))]).catch(() => {});
        clearTimeout(timer);
      }
    } finally {
      this.remote[Comlink.releaseProxy]();
      await this.kill();
    }
  }
}
