/**
 * The toy OS against the reference machine: its image is what its sources say, and its
 * timing-independent selftest prints the same transcript on ferry86 as on Debian's
 * qemu-system-i386 (which recorded expected/selftest.qemu.txt and is also run live here), both
 * with a blank IDE disk attached for toyos's command log. The log itself: typed commands read
 * back from the disk print what QEMU printed (expected/disklog.qemu.txt), and a run snapshotted
 * while it works (a full snapshot and an incremental one that carries the disk blocks written
 * in between) and restored in a new process continues to the same console and the same final
 * state as the run that never stopped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMultiboot, PcMachine } from '@ferry86/devices';
import { IncrementalSnapshotter, MigratablePc, stateDigest } from '@ferry86/migrate';
import { blankDisk, blankDiskFile, DISKLOG_SCRIPT, extractScript, extractSelftest, runOnce } from '../examples/toyos/run-qemu.mjs';
import { driveScript, type ScriptPosition } from '../examples/toyos/disk-script.ts';
import { GuestConsole } from './support/guest-console.ts';
import { runTsxChild } from './support/tsx-child.ts';

const toyos = (p: string) => fileURLToPath(new URL(`../examples/toyos/${p}`, import.meta.url));
const expected = readFileSync(toyos('expected/selftest.qemu.txt'), 'latin1').split('\n').slice(0, -1);
const expectedLog = readFileSync(toyos('expected/disklog.qemu.txt'), 'latin1').split('\n').slice(0, -1);
/** A smaller machine than QEMU's for the disk runs: the log transcript does not depend on it. */
const DISK_RUN = { memoryMiB: 16, cmdline: 'workers=2 pages=64' };

function bootWithDisk(): PcMachine {
  const pc = new PcMachine({ memoryMiB: DISK_RUN.memoryMiB, disks: { primaryMaster: blankDisk() } });
  loadMultiboot(pc, readFileSync(toyos('toyos.bin')), DISK_RUN.cmdline);
  return pc;
}

interface ChildResult {
  restoredDigest: string;
  output: string;
  instructions: number;
  digest: string;
}

function restoreInChild(job: string): Promise<ChildResult> {
  return runTsxChild<ChildResult>(toyos('restore-child.ts'), [job]);
}

describe('toyos', () => {
  it('rebuilds byte-identical from its sources, as do the benchmark guests', () => {
    const out = execFileSync('sh', [toyos('check-build.sh')], { encoding: 'utf8' });
    expect(out).toContain('matches its sources');
    const guests = fileURLToPath(new URL('../examples/guests/check-build.sh', import.meta.url));
    expect(execFileSync('sh', [guests], { encoding: 'utf8' })).toContain('guest images match');
  });

  it('prints the recorded selftest transcript on qemu-system-i386', async () => {
    const output = await runOnce({ image: toyos('toyos.bin'), append: '', timeoutMs: 120_000, disk: blankDiskFile() });
    expect(extractSelftest(output)).toEqual(expected);
  });

  it('prints the same selftest transcript on ferry86 as on the reference machine', () => {
    const machine = new PcMachine({ memoryMiB: 64, disks: { primaryMaster: blankDisk() } });
    loadMultiboot(machine, readFileSync(toyos('toyos.bin')), '');
    const con = new GuestConsole(machine);
    con.runUntil((o) => /\nready\r?\n/.test(o) && o.endsWith('> '), 200e6);
    expect(con.output.startsWith('toyos 1.0 booting')).toBe(true);
    expect(con.output).toContain('paging on');
    expect(con.output).toContain('disk 2048 sectors\r\ndisk log new\r\n');
    con.type('selftest\r');
    con.runUntil((o) => /\nselftest done\r?\n/.test(o), 2e9);
    expect(extractSelftest(con.output)).toEqual(expected);
    expect(con.output).not.toMatch(/ERROR|PANIC/);
  });

  it('without a disk it says so and carries on', () => {
    const machine = new PcMachine({ memoryMiB: 16 });
    loadMultiboot(machine, readFileSync(toyos('toyos.bin')), 'workers=0');
    const con = new GuestConsole(machine);
    con.runUntil((o) => /\nready\r?\n/.test(o) && o.endsWith('> '), 200e6);
    expect(con.output).toContain('disk none\r\n');
    con.type('log\r');
    con.runUntil((o) => o.includes('no disk\r\n'), 50e6);
  });

  it('keeps a log of commands on its disk and reads it back as on qemu-system-i386', () => {
    const pc = bootWithDisk();
    const output = driveScript(pc, DISKLOG_SCRIPT, { next: 0, pending: '' });
    expect(extractScript(output, DISKLOG_SCRIPT[0]!)).toEqual(expectedLog);
    // The records are on the disk (sector n = record n), in the overlay; the base image is blank.
    const disk = pc.disks.primaryMaster!;
    const sector = new Uint8Array(512);
    disk.readSectors(2, 1, sector);
    expect(new TextDecoder().decode(sector.subarray(4, 8))).toBe('help');
    expect(disk.base.every((b) => b === 0)).toBe(true);
  });

  describe('snapshotted while it runs, restored in a new process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry86-toyos-disk-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('continues to the same console and the same final state as the uninterrupted run', async () => {
      const pc = bootWithDisk();
      const m = new MigratablePc(pc);
      const chain = new IncrementalSnapshotter(m);
      const files: string[] = [];
      let job: { snapshots: string[]; commands: readonly string[]; position: ScriptPosition; outputLength: number } | null = null;
      let full = '';
      const off = pc.onSerialOutput((b) => (full += String.fromCharCode(b)));
      // Full snapshot right after typing "help", incremental one right after typing the first
      // "log" (the log has 3 records on the disk then; "log" reads them back after the restore).
      driveScript(pc, DISKLOG_SCRIPT, { next: 0, pending: '' }, {
        afterTyping: (index, pos) => {
          if (index !== 1 && index !== 3) return;
          const { bytes, info } = chain.saveBytes(`s${index}`);
          expect(info.digest).toBe(stateDigest(m));
          const file = join(dir, `s${index}.snap`);
          writeFileSync(file, bytes);
          files.push(file);
          if (index === 3) job = { snapshots: [...files], commands: DISKLOG_SCRIPT, position: { ...pos }, outputLength: full.length };
        },
      });
      off();
      expect(job).not.toBeNull();
      const j = job!;
      const jobFile = join(dir, 'job.json');
      writeFileSync(jobFile, JSON.stringify(j));
      const child = await restoreInChild(jobFile);
      expect(child.output).toBe(full.slice(j.outputLength));
      expect(child.instructions).toBe(pc.cpu.instructionCount);
      expect(child.digest).toBe(stateDigest(m));
      expect(extractScript(full, DISKLOG_SCRIPT[0]!)).toEqual(expectedLog);
    }, 300_000);
  });
});
