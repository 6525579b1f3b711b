import { StateError, type SectionSchema, type StateRecord, type Stateful } from '@ferry86/mmu';
import type { MigratableMachine } from '../machine.ts';

/** What the worker runtime needs from a machine beyond migration: its serial line and loaders. */
export interface HostedMachine extends MigratableMachine {
  /** 'idle' exits may say how long the host can wait before running again. */
  run(maxInstructions: number): { reason: string; instructions: number; waitMs?: number; page?: number };
  /** Bytes typed into the guest's first serial port. */
  serialInput(bytes: Uint8Array): void;
  /** Where the guest's first serial port sends its output (null: nowhere). */
  setSerialOutput(sink: ((byte: number) => void) | null): void;
  /** Loads a multiboot kernel and sets the CPU up to enter it. */
  loadMultiboot?(image: Uint8Array, cmdline?: string): void;
}

/**
 * Builds a machine from a JSON configuration (the one in a stream header when migrating) and the
 * large inputs a configuration only names, which the embedder handed to the worker beforehand
 * (VmWorker.provide): e.g. a PC's disk base images, which never travel in a stream.
 */
export type MachineFactory = (config: unknown, resources: ReadonlyMap<string, Uint8Array>) => HostedMachine;

const RUNTIME_SCHEMA: SectionSchema = {
  type: 'ferry86-vm-runtime',
  version: 1,
  // Loaders without a runtime (a plain restoreSnapshot) may skip it.
  optional: true,
  fields: { serialSeq: 'f64' },
};

/**
 * The worker runtime's own migrating state: the position of the guest's serial output stream,
 * so that the destination numbers its output where the source stopped.
 */
export class RuntimeState implements Stateful {
  readonly sectionName = 'vm-runtime';
  readonly schema = RUNTIME_SCHEMA;
  serialSeq = 0;

  saveState(): StateRecord {
    return { serialSeq: this.serialSeq };
  }

  checkState(r: StateRecord): void {
    const n = r.serialSeq as number;
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new StateError(this.sectionName, `serial position ${n} is not a byte count`);
  }

  loadState(r: StateRecord): void {
    this.serialSeq = r.serialSeq as number;
  }
}
