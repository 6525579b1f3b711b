/**
 * System BIOS loader. A PC decodes the BIOS flash at the top of the 4 GiB space (where the CPU's
 * first fetch, CS base FFFF0000 + IP FFF0, lands) and aliases its last 128 KiB below 1 MiB at
 * E0000-FFFFF for real-mode code. The image is mapped read-only at both places (through
 * PhysicalMemory.mapRom, which marks dirty logs) and the machine is reset to F000:FFF0.
 */
import type { PcMachine } from './pc-machine.ts';

const LOW_ALIAS_MAX = 128 * 1024;
const MAX_ROM = 16 * 1024 * 1024;

/** The ROM image cannot be mapped; the message says why. */
export class BiosRomError extends Error {
  override readonly name = 'BiosRomError';
}

export interface BiosRomLoadResult {
  /** Physical base of the full image below 4 GiB. */
  highBase: number;
  /** Physical base of the alias below 1 MiB (it ends at 0xFFFFF). */
  lowBase: number;
}

export function loadBiosRom(machine: PcMachine, rom: Uint8Array): BiosRomLoadResult {
  if (rom.length === 0 || rom.length % 4096 !== 0 || rom.length > MAX_ROM) {
    throw new BiosRomError(`a BIOS image must be a whole number of 4 KiB pages up to 16 MiB; this one is ${rom.length} bytes`);
  }
  const highBase = 0x100000000 - rom.length;
  const aliasLength = Math.min(LOW_ALIAS_MAX, rom.length);
  const lowBase = 0x100000 - aliasLength;
  machine.phys.mapRom(highBase, rom);
  machine.phys.mapRom(lowBase, rom.subarray(rom.length - aliasLength));
  machine.reset();
  return { highBase, lowBase };
}
