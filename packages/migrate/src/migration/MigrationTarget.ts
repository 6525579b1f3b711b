import type { Stateful } from '@ferry86/mmu';
import type { StreamLimits } from '../format/constants.ts';
import { SnapshotFormatError } from '../format/errors.ts';
import { StreamDecoder } from '../format/StreamDecoder.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import type { MigratableMachine } from '../machine.ts';
import { StateLoader } from '../snapshot/StateLoader.ts';
import type { MessageTransport } from '../transport/MessageTransport.ts';
import { MigrationError } from './MigrationError.ts';
import { ackMessage, decodeMessage, encodeMessage, errorMessage, MessageKind, readAbort } from './protocol.ts';

export interface MigrationTargetOptions<M extends MigratableMachine> {
  /** Build the machine from the configuration in the stream header (the usual case)... */
  createMachine?: (config: unknown) => M;
  /** ...or receive into this fresh machine, whose configuration must match. */
  machine?: M;
  /** Parts beyond machine.stateParts() that travel with the state. */
  extraParts?: readonly Stateful[] | ((machine: M) => readonly Stateful[]);
  limits?: Partial<StreamLimits>;
  /** Give up when nothing arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
  onProgress?: (p: MigrationTargetProgress) => void;
}

export interface MigrationTargetProgress {
  bytesReceived: number;
  round: number;
  zeroPages: number;
  fullPages: number;
  phase: 'receiving' | 'ready' | 'committed';
}

export interface MigrationTargetResult<M> {
  /** The loaded machine; the source has fenced itself and this one may run now. */
  machine: M;
  /** The verified state digest (hex). */
  digest: string;
  bytesReceived: number;
  rounds: number;
}

/**
 * The receiving side of live migration. Pages go straight into the fresh machine's RAM as they
 * arrive (nobody runs it yet); sections are staged; at END the digest is verified and the state
 * loaded, then READY goes back. receive() resolves when COMMIT arrives: from then on this machine
 * is the guest. Any error is reported to the source (which resumes) and rejects receive(); the
 * half-built machine must then be discarded.
 */
export class MigrationTarget<M extends MigratableMachine> {
  /**
   * The machine of the latest receive(), once built. After a 'handover-unknown' failure it holds
   * the verified state; an embedder that learns the source did fence may still start it.
   */
  machine: M | null = null;

  constructor(private readonly opts: MigrationTargetOptions<M>) {
    if (!opts.machine && !opts.createMachine) throw new TypeError('MigrationTarget needs a machine or createMachine');
  }

  receive(transport: MessageTransport): Promise<MigrationTargetResult<M>> {
    const loader = new StateLoader<M>({ mode: 'direct', machine: this.opts.machine, createMachine: this.opts.createMachine, extraParts: this.opts.extraParts });
    const decoder = new StreamDecoder(loader, this.opts.limits);
    this.machine = null;
    const idleMs = this.opts.idleTimeoutMs ?? 60_000;
    let phase: 'receiving' | 'ready' | 'done' = 'receiving';
    let timer: ReturnType<typeof setTimeout> | null = null;
    let busyMs = 0;

    return new Promise<MigrationTargetResult<M>>((resolve, reject) => {
      const progress = (p: MigrationTargetProgress['phase']): void =>
        this.opts.onProgress?.({ bytesReceived: decoder.bytesIn, round: loader.lastRound, zeroPages: loader.zeroPages, fullPages: loader.fullPages, phase: p });

      const fail = (err: MigrationError, tell: boolean): void => {
        if (phase === 'done') return;
        phase = 'done';
        if (timer) clearTimeout(timer);
        if (tell && !transport.closed) {
          try {
            const code = err.cause instanceof SnapshotFormatError ? err.cause.code : err.code;
            transport.send(errorMessage(code, err.message));
          } catch {
            // best effort
          }
          transport.close(err.message);
        }
        reject(err);
      };

      const arm = (): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          if (phase === 'ready') fail(new MigrationError('handover-unknown', `READY was sent but no COMMIT arrived within ${idleMs} ms`), false);
          else fail(new MigrationError('timeout', `nothing arrived from the source for ${idleMs} ms`), true);
        }, idleMs);
      };

      const onData = (payload: Uint8Array): void => {
        if (phase !== 'receiving') throw new MigrationError('protocol', 'stream data after the END frame');
        const t0 = performance.now();
        try {
          decoder.push(payload);
        } catch (e) {
          if (e instanceof SnapshotFormatError) throw new MigrationError('stream-error', `the migration stream was rejected: ${e.message}`, { cause: e });
          throw e;
        }
        busyMs += performance.now() - t0;
        // Report the cost of everything but zero pages: what a final round of dirty pages costs.
        transport.send(ackMessage(decoder.bytesIn, Math.max(0, busyMs - loader.zeroMs)));
        if (decoder.ended) {
          loader.commit();
          phase = 'ready';
          transport.send(encodeMessage(MessageKind.Ready, new Uint8Array(loader.digest!.buffer.slice(0))));
          progress('ready');
        } else {
          progress('receiving');
        }
      };

      transport.listen({
        message: (data) => {
          if (phase === 'done') return;
          arm();
          try {
            const m = decodeMessage(data);
            switch (m.kind) {
              case MessageKind.Data:
                onData(m.payload);
                this.machine = loader.machine;
                break;
              case MessageKind.Commit:
                if (phase !== 'ready') throw new MigrationError('protocol', 'COMMIT before the state was verified');
                phase = 'done';
                if (timer) clearTimeout(timer);
                progress('committed');
                transport.close('migration complete');
                resolve({ machine: loader.machine!, digest: digestToHex(loader.digest!), bytesReceived: decoder.bytesIn, rounds: loader.lastRound });
                break;
              case MessageKind.Abort:
                fail(new MigrationError('aborted', `the source aborted the migration: ${readAbort(m)}`), false);
                transport.close('aborted');
                break;
              default:
                throw new MigrationError('protocol', `unexpected message kind ${m.kind} from the source`);
            }
          } catch (e) {
            fail(e instanceof MigrationError ? e : new MigrationError('target-error', `loading failed: ${(e as Error)?.message ?? String(e)}`, { cause: e }), true);
          }
        },
        close: (err) => {
          if (phase === 'ready') {
            fail(new MigrationError('handover-unknown', 'the channel closed after READY and before COMMIT: the source may or may not have handed over; do not run this machine unless the source is known to be fenced', { cause: err }), false);
          } else {
            fail(new MigrationError('transport-closed', `the migration channel closed before the state was complete${err ? `: ${err.message}` : ''}`, { cause: err }), false);
          }
        },
      });
      arm();
    });
  }
}
