/**
 * Snapshots of a real guest (issue #5 items 7 and 4): Debian's Linux 6.1 boots once, uninterrupted,
 * in deterministic pacing, with an ext4 disk on the PIIX3's primary IDE channel. On the way it is
 * snapshotted once during the kernel's own boot, three times while /init does its work (uname,
 * /proc/cpuinfo, sha256, a shell loop, a gzip round trip), and once after /init has loaded
 * libata/ata_piix/sd_mod/ext4, written a file to the disk and unmounted it — before it mounts the
 * disk again and reads the file back.
 *
 * Each snapshot is restored in a new process (test/guests/restore-linux.ts) given only the snapshot
 * and the disk's unchanged base image, which runs the guest on to `reboot -f`. Because guest time
 * is virtual, every restored run must print exactly the rest of the uninterrupted run's console and
 * end in exactly its final state (same instruction count, same whole-state digest, which covers
 * the disk's copy-on-write overlay). The file the restored guest reads back is checked by the guest
 * (sha256) and, in the final disk, by the host's debugfs.
 *
 * One boot is about 7.3 billion instructions; the restored runs (4.3 billion from the kernel-boot
 * snapshot, under 0.9 billion from the others) overlap the recording run on other cores.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLinux, PcMachine } from '@ferry86/devices';
import { MigratablePc, saveSnapshot, stateDigest } from '@ferry86/migrate';
import { DISK_MARKERS, knownData, MARKERS } from './guests/initramfs.ts';
import { fetchLinux } from './guests/linux-files.ts';
import type { RestoredRun } from './guests/restore-linux.ts';
import { runTsxChild } from './support/tsx-child.ts';

const MEMORY_MIB = 64;
// ferry86.disk: /init loads the disk modules and does its disk work (test/guests/initramfs.ts).
const CMDLINE = 'console=ttyS0 ferry86.disk';
/** Instructions per run() call of the recording run (the restored runs use another size). */
const CHUNK = 2_000_000;
const LIMIT = 20e9;

/**
 * Where to snapshot: a fixed instruction count, or an odd distance past the point where a console
 * marker was first seen (so the snapshot falls inside the phase of /init that follows it).
 */
type Trigger = { label: string; at: number } | { label: string; after: string; plus: number };

const TRIGGERS: Trigger[] = [
  { label: 'kernel boot', at: 3_000_000_017 },
  { label: '/init: uname, date, /proc/cpuinfo', after: MARKERS.start, plus: 1_234_567 },
  { label: '/init: shell arithmetic loop', after: MARKERS.shaOk, plus: 7_654_321 },
  { label: '/init: gzip round trip', after: MARKERS.loopOk, plus: 2_345_679 },
  // At once: /init sleeps a second between unmounting the disk and mounting it again.
  { label: '/init: file written to the IDE disk, disk unmounted', after: DISK_MARKERS.written, plus: 0 },
];
const DISK_POINT = TRIGGERS.length - 1;

interface SnapshotPoint {
  label: string;
  instructions: number;
  /** Console length when the snapshot was taken. */
  serialLength: number;
  digest: string;
  bytes: number;
  /** The restored run, reported by the child process. */
  restored: Promise<RestoredRun>;
}

const script = fileURLToPath(new URL('./guests/restore-linux.ts', import.meta.url));

/** Restores `file` in a new Node process (with the disk's base image) and resolves with what it reports. */
function restoreInChild(file: string, disk: string): Promise<RestoredRun> {
  return runTsxChild<RestoredRun>(script, [file, '--disk', disk]);
}

describe("snapshots of Debian's Linux 6.1 restored in new processes", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry86-linux-snap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let run: { serial: string; points: SnapshotPoint[]; finalDisk: Uint8Array } | undefined;

  it('continue to the same console transcript and the same final state as the uninterrupted run', async () => {
    const files = fetchLinux();
    const pc = new PcMachine({
      memoryMiB: MEMORY_MIB,
      pacing: 'deterministic',
      disks: { primaryMaster: new Uint8Array(readFileSync(files.disk)) },
    });
    const machine = new MigratablePc(pc);
    let serial = '';
    pc.onSerialOutput((b) => {
      serial += String.fromCharCode(b);
    });
    // The kernel unpacks concatenated archives in turn: our initramfs, then the modules.
    const initrd = Buffer.concat([readFileSync(files.initrd), readFileSync(files.modules)]);
    loadLinux(pc, new Uint8Array(readFileSync(files.kernel)), { cmdline: CMDLINE, initrd: new Uint8Array(initrd) });

    const points: SnapshotPoint[] = [];
    const pending = [...TRIGGERS];
    let next: { label: string; at: number } | null = null;
    let reason = 'limit';
    while (pc.cpu.instructionCount < LIMIT) {
      const count = pc.cpu.instructionCount;
      // Arm the next trigger once its instruction count is known.
      if (next === null && pending.length > 0) {
        const t = pending[0]!;
        if ('at' in t) next = { label: t.label, at: t.at };
        else if (serial.includes(t.after)) next = { label: t.label, at: count + t.plus };
        if (next !== null) pending.shift();
      }
      if (next !== null && count === next.at) {
        const bytes = saveSnapshot(machine);
        const file = join(dir, `snapshot-${points.length}.f86`);
        writeFileSync(file, bytes);
        points.push({
          label: next.label,
          instructions: count,
          serialLength: serial.length,
          digest: stateDigest(machine),
          bytes: bytes.length,
          restored: restoreInChild(file, files.disk),
        });
        // The child reports through events; a rejection is awaited below, not lost.
        points.at(-1)!.restored.catch(() => {});
        next = null;
        continue;
      }
      const stop = next !== null ? Math.min(next.at - count, CHUNK) : CHUNK;
      const exit = pc.run(stop);
      // Yield so the children's pipes and the runner's messages are served during the long boot.
      await new Promise((r) => setImmediate(r));
      if (exit.reason === 'limit' || (exit.reason === 'idle' && exit.waitMs === 0)) continue;
      reason = exit.reason;
      break;
    }
    const context = `stopped (${reason}) after ${pc.cpu.instructionCount} instructions; console ends:\n${serial.slice(-2000)}`;
    expect(reason, context).toBe('reset');
    expect(serial, context).toContain(MARKERS.done);
    expect(points.map((p) => p.label), `snapshots taken; ${context}`).toEqual(TRIGGERS.map((t) => t.label));
    const finalCount = pc.cpu.instructionCount;
    const finalDigest = stateDigest(machine);

    // The /init snapshots really fall inside its workload: after its first marker, before its last.
    for (const p of points.slice(1)) {
      const before = serial.slice(0, p.serialLength);
      expect(before, p.label).toContain(MARKERS.start);
      expect(before, p.label).not.toContain(MARKERS.done);
    }

    console.log(
      `Linux ${MEMORY_MIB} MiB: ${finalCount} instructions to reboot; snapshots at ` +
        points.map((p) => `${p.instructions} (${p.label}, ${(p.bytes / 2 ** 20).toFixed(1)} MiB)`).join(', '),
    );
    for (const p of points) {
      const r = await p.restored;
      const where = `${p.label} (snapshot at instruction ${p.instructions}, ${p.bytes} bytes)`;
      // Soft: a failure at one point still reports how the others fared.
      expect.soft(r.restoredAt, where).toBe(p.instructions);
      expect.soft(r.restoredDigest, `state right after the restore, ${where}`).toBe(p.digest);
      expect.soft(r.reason, `${where}; restored console ends:\n${r.serial.slice(-1500)}`).toBe('reset');
      // The console before the snapshot plus what the restored guest printed is the whole console.
      expect.soft(serial.slice(0, p.serialLength) + r.serial, where).toBe(serial);
      expect.soft(r.instructions, where).toBe(finalCount);
      expect.soft(r.digest, `final state, ${where}`).toBe(finalDigest);
    }
    const disk = pc.disks.primaryMaster!;
    const finalDisk = new Uint8Array(disk.byteLength);
    disk.read(0, finalDisk);
    run = { serial, points, finalDisk };
    // About 7.3e9 instructions: a few minutes alone, much longer on a loaded machine. The bound
    // only turns a hang into a failure.
  }, 3_600_000);

  it('restored between the disk write and the read-back, the guest reads its file back from the IDE disk', async () => {
    expect(run, 'the recording run must have finished').toBeDefined();
    const { serial, points, finalDisk } = run!;
    const p = points[DISK_POINT]!;
    const before = serial.slice(0, p.serialLength);
    // The snapshot falls after the write and unmount, before the read-back.
    expect(before).toContain(DISK_MARKERS.written);
    expect(before).not.toContain(DISK_MARKERS.readOk);
    const r = await p.restored;
    // The guest checked the sha256 of what it read back (after dropping its caches) in the new process.
    expect(r.serial).toContain(DISK_MARKERS.readOk);
    expect(r.serial).toMatch(/written by 6\.1\.0-\d+-686 at loop sum 332833500/);
    // And the disk holds a real ext4 file with the data: read by the host's e2fsprogs.
    const image = join(dir, 'final-disk.ext4');
    writeFileSync(image, finalDisk);
    const file = execFileSync('debugfs', ['-R', 'cat /known.bin', image], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    expect(Buffer.compare(file, Buffer.from(knownData()))).toBe(0);
  });
});
