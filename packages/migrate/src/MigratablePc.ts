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

const DISK_SLOTS = ['primaryMaster', 'primarySlave'] as const;

/**
 * The machine factory of the PC worker: a configuration from a stream header or create(). A disk
 * slot that is not an image itself (a header names only `{ sectors }`; create() may say `true`)
 * takes the base image provided as resource "disk:<slot>" (VmWorker.provide); the disk's own
 * state then checks it is the image the overlay was written over.
 */
export function createPcMachine(config: unknown, resources: ReadonlyMap<string, Uint8Array> = new Map()): MigratablePc {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError('a PC configuration must be an object such as { "memoryMiB": 64 }');
  }
  const pc = config as PcMachineConfig & { disks?: Record<string, unknown> };
  if (pc.disks && typeof pc.disks === 'object') {
    const disks: Record<string, unknown> = { ...pc.disks };
    for (const slot of DISK_SLOTS) {
      const d = disks[slot];
      if (d === undefined || d === null || d instanceof Uint8Array) continue;
      const image = resources.get(`disk:${slot}`);
      if (!image) throw new TypeError(`disks.${slot} needs its base image: provide it as resource "disk:${slot}" first`);
      const want = (d as { sectors?: unknown }).sectors;
      if (typeof want === 'number' && want * 512 !== image.length) {
        throw new TypeError(`disks.${slot} has ${want} sectors but resource "disk:${slot}" is ${image.length} bytes`);
      }
      disks[slot] = image;
    }
    return new MigratablePc(new PcMachine({ ...pc, disks } as PcMachineConfig));
  }
  return new MigratablePc(new PcMachine(config as PcMachineConfig));
}
