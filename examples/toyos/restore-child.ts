/**
 * Child process of test/toyos.test.ts: restores a snapshot chain of toyos with its log disk in a
 * new process, drives the rest of the typed script exactly as the uninterrupted run did
 * (disk-script.ts) and prints, as JSON, the console output it saw, its final instruction count
 * and whole-state digest.
 *
 *   node --import tsx restore-child.ts JOB.json
 * JOB.json: { snapshots: [file, ...], commands: [...], position: { next, pending } }
 */
import { readFileSync } from 'node:fs';
import { PcMachine } from '@ferry86/devices';
import { DEFAULT_LIMITS, MigratablePc, readStreamHeader, restoreSnapshotChain, stateDigest } from '@ferry86/migrate';
import { driveScript, type ScriptPosition } from './disk-script.ts';
import { blankDisk } from './run-qemu.mjs';

interface Job {
  snapshots: string[];
  commands: string[];
  position: ScriptPosition;
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const snaps = job.snapshots.map((f) => new Uint8Array(readFileSync(f)));
const header = readStreamHeader(snaps[0]!, DEFAULT_LIMITS);
// The stream names the disk only by size; the base image is supplied here, as on any restore.
const config = { ...(header.config as Record<string, unknown>), disks: { primaryMaster: blankDisk() } };
const pc = new PcMachine(config);
const m = new MigratablePc(pc);
const restored = restoreSnapshotChain(m, snaps);
const output = driveScript(pc, job.commands, job.position);
process.stdout.write(JSON.stringify({
  restoredDigest: restored.digest,
  output,
  instructions: pc.cpu.instructionCount,
  digest: stateDigest(m),
}));
