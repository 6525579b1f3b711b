/**
 * The "new process" half of the Linux snapshot test: restores a snapshot file into a fresh PC
 * built from the configuration its header carries, and runs the guest on until it resets
 * (`reboot -f`) or stops. Prints one JSON line (RestoredRun) on stdout.
 *
 * Usage: node --import tsx test/guests/restore-linux.ts SNAPSHOT [--disk IMAGE] [--max N] [--input TEXT]
 *   --disk   the base image of the primary master disk the snapshot was taken with (the snapshot
 *            carries only what the guest wrote: the copy-on-write overlay)
 *   --max    instructions to run at most (default 20e9)
 *   --input  typed on COM1 once the restored guest's console shows the shell marker
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPcMachine, DEFAULT_LIMITS, readStreamHeader, restoreSnapshot, stateDigest } from '@ferry86/migrate';
import { SHELL_MARKER } from './initramfs.ts';

export interface RestoredRun {
  /** Instruction count the snapshot was taken at. */
  restoredAt: number;
  /** stateDigest() of the machine right after the restore. */
  restoredDigest: string;
  /** What COM1 transmitted after the restore (one char per byte). */
  serial: string;
  /** How the run ended: 'reset' for reboot -f. */
  reason: string;
  instructions: number;
  /** stateDigest() when the run ended. */
  digest: string;
}

/** Guest instructions per run() call: deliberately not the recording run's slice size. */
const CHUNK = 7_000_001;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { disk: { type: 'string' }, max: { type: 'string' }, input: { type: 'string' } },
});
const path = positionals[0];
if (!path || positionals.length !== 1) {
  process.stderr.write('usage: node --import tsx test/guests/restore-linux.ts SNAPSHOT [--disk IMAGE] [--max N] [--input TEXT]\n');
  process.exit(2);
}
const input = values.input;
const maxArg = values.max;
const bytes = new Uint8Array(readFileSync(path));
const header = readStreamHeader(bytes, DEFAULT_LIMITS);
// The header names the disk only by size; the machine needs the image itself.
const config = values.disk
  ? { ...(header.config as object), disks: { primaryMaster: new Uint8Array(readFileSync(values.disk)) } }
  : header.config;
const machine = createPcMachine(config);
restoreSnapshot(machine, bytes);
const restoredAt = machine.instructionCount;
const restoredDigest = stateDigest(machine);
let serial = '';
machine.setSerialOutput((b) => {
  serial += String.fromCharCode(b);
});
const max = restoredAt + (maxArg ? Number(maxArg) : 20e9);
let typed = input === undefined;
let reason = 'limit';
while (machine.instructionCount < max) {
  if (!typed && serial.includes(`${SHELL_MARKER}\r\n`)) {
    machine.serialInput(new TextEncoder().encode(input!));
    typed = true;
  }
  const exit = machine.run(Math.min(CHUNK, max - machine.instructionCount));
  if (exit.reason === 'limit' || (exit.reason === 'idle' && exit.waitMs === 0)) continue;
  reason = exit.reason;
  break;
}
const result: RestoredRun = { restoredAt, restoredDigest, serial, reason, instructions: machine.instructionCount, digest: stateDigest(machine) };
process.stdout.write(JSON.stringify(result) + '\n');
