import { loadMultiboot, PcMachine, type PcMachineConfig, type RunExit } from '@ferry86/devices';
import type { PhysicalMemory, Stateful } from '@ferry86/mmu';
import type { HostedMachine } from './worker/HostedMachine.ts';

/**
 * A PcMachine seen as a HostedMachine: what snapshots, live migration and the worker runtime use.
 * A thin view (no state of its own): `memory` is the board's PhysicalMemory, the serial line is
 * COM1, input enters at the next slice boundary as PcMachine.sendSerialInput stamps it.
 */
export class MigratablePc implements HostedMachine {
  readonly memory: PhysicalMemory;
  private unsubscribe: (() => void) | null = null;

  constructor(readonly pc: PcMachine) {
    this.memory = pc.phys;
  }

  get config(): object {
    return this.pc.config;
  }

  get instructionCount(): number {
    return this.pc.cpu.instructionCount;
  }

  stateParts(): Stateful[] {
    return this.pc.stateParts();
  }

  run(maxInstructions: number): RunExit {
    return this.pc.run(maxInstructions);
  }

  serialInput(bytes: Uint8Array): void {
    this.pc.sendSerialInput(bytes);
  }

  setSerialOutput(sink: ((byte: number) => void) | null): void {
    this.unsubscribe?.();
    this.unsubscribe = sink ? this.pc.onSerialOutput(sink) : null;
  }

  loadMultiboot(image: Uint8Array, cmdline = ''): void {
    loadMultiboot(this.pc, image, cmdline);
  }
}

/** The machine factory of the PC worker: a configuration from a stream header or create(). */
export function createPcMachine(config: unknown): MigratablePc {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError('a PC configuration must be an object such as { "memoryMiB": 64 }');
  }
  return new MigratablePc(new PcMachine(config as PcMachineConfig));
}
