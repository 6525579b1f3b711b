import type { Stateful } from '@ferry86/mmu';
import type { StreamLimits } from '../format/constants.ts';
import { SnapshotFormatError } from '../format/errors.ts';
import { StreamDecoder } from '../format/StreamDecoder.ts';
import { digestToHex } from '../digest/stateDigest.ts';
import type { MigratableMachine } from '../machine.ts';
import { StateLoader } from '../snapshot/StateLoader.ts';
import type { MessageTransport } from '../transport/MessageTransport.ts';
import { MigrationError } from './MigrationError.ts';
import { ackMessage, decodeMessage, encodeMessage, errorMessage, MessageKind, pageRequestMessage, readAbort, readPostCopy } from './protocol.ts';
import { PostCopyPager, type PostCopyMachine } from './PostCopyPager.ts';

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
  phase: 'receiving' | 'ready' | 'committed' | 'postcopy' | 'postcopy-complete';
}

export interface MigrationTargetResult<M> {
  /** The loaded machine; the source has fenced itself and this one may run now. */
  machine: M;
  /** The verified state digest (hex); '' after a post-copy handover (see postCopy.complete). */
  digest: string;
  /**
   * Post-copy or hybrid migrations: part of RAM is still on its way. Run the guest through
   * postCopy.run() (it waits for pages the guest touches); postCopy.complete resolves with the
   * verified digest once every page is in.
   */
  postCopy?: PostCopyPager<M & PostCopyMachine>;
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
    let phase: 'receiving' | 'ready' | 'postcopy-ready' | 'postcopy' | 'done' = 'receiving';
    let pager: PostCopyPager<M & PostCopyMachine> | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let busyMs = 0;

    return new Promise<MigrationTargetResult<M>>((resolve, reject) => {
      const progress = (p: MigrationTargetProgress['phase']): void =>
        this.opts.onProgress?.({ bytesReceived: decoder.bytesIn, round: loader.lastRound, zeroPages: loader.zeroPages, fullPages: loader.fullPages, phase: p });

      const fail = (err: MigrationError, tell: boolean): void => {
        if (phase === 'done') return;
        if (phase === 'postcopy') err = new MigrationError('postcopy-failed', `post-copy broke before every page arrived, the guest cannot continue: ${err.message}`, { cause: err });
        const after = phase === 'postcopy';
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
        if (after) pager!.fail(err);
        else reject(err);
      };

      const arm = (): void => {
        if (timer) clearTimeout(timer);
        // After a post-copy handover the guest may idle for long: the source's pages keep coming.
        if (phase === 'postcopy') return;
        timer = setTimeout(() => {
          if (phase === 'ready' || phase === 'postcopy-ready') fail(new MigrationError('handover-unknown', `READY was sent but no COMMIT arrived within ${idleMs} ms`), false);
          else fail(new MigrationError('timeout', `nothing arrived from the source for ${idleMs} ms`), true);
        }, idleMs);
      };

      const onData = (payload: Uint8Array): void => {
        if (phase !== 'receiving' && phase !== 'postcopy') throw new MigrationError('protocol', 'stream data after the END frame or before COMMIT');
        const t0 = performance.now();
        const before = loader.zeroPages + loader.fullPages;
        try {
          decoder.push(payload);
        } catch (e) {
          if (e instanceof SnapshotFormatError) throw new MigrationError('stream-error', `the migration stream was rejected: ${e.message}`, { cause: e });
          throw e;
        }
        busyMs += performance.now() - t0;
        // Report the cost of everything but zero pages: what a final round of dirty pages costs.
        transport.send(ackMessage(decoder.bytesIn, Math.max(0, busyMs - loader.zeroMs)));
        if (phase === 'postcopy') {
          pager!.arrived(loader.zeroPages + loader.fullPages - before);
          if (decoder.ended) {
            // The END digest verified (StateLoader.end): the guest's RAM is whole again.
            transport.send(encodeMessage(MessageKind.Ready, new Uint8Array(loader.digest!.buffer.slice(0))));
            phase = 'done';
            progress('postcopy-complete');
            transport.close('migration complete');
            pager!.finish(digestToHex(loader.digest!));
          }
          return;
        }
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
              case MessageKind.PostCopy: {
                if (phase !== 'receiving' || !loader.machine) throw new MigrationError('protocol', 'POSTCOPY before the stream header or after the state was complete');
                const machine = loader.machine;
                const presence = machine.memory.presence;
                if (!presence?.markAbsent) throw new MigrationError('target-error', 'this machine cannot run with absent pages, so it cannot receive a post-copy migration');
                const absent = readPostCopy(m, machine.memory.pageCount);
                try {
                  loader.startPostCopy();
                } catch (e) {
                  if (e instanceof SnapshotFormatError) throw new MigrationError('stream-error', `the migration stream was rejected: ${e.message}`, { cause: e });
                  throw e;
                }
                for (let i = 0; i < absent.length; i++) presence.markAbsent(absent[i]!);
                pager = new PostCopyPager(machine as M & PostCopyMachine, (p) => presence.isPresent(p), (pages) => transport.send(pageRequestMessage(pages)), absent.length);
                phase = 'postcopy-ready';
                this.machine = machine;
                transport.send(encodeMessage(MessageKind.PostCopyReady));
                break;
              }
              case MessageKind.Commit:
                if (phase === 'postcopy-ready') {
                  phase = 'postcopy';
                  if (timer) clearTimeout(timer);
                  progress('postcopy');
                  resolve({ machine: loader.machine!, digest: '', bytesReceived: decoder.bytesIn, rounds: loader.lastRound, postCopy: pager! });
                  break;
                }
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
          if (phase === 'ready' || phase === 'postcopy-ready') {
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
