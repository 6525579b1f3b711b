/**
 * Snapshot save and restore of a booted Linux guest (issue #5 item 8): Debian's Linux 6.1 with our
 * initramfs, booted to its interactive shell at 64 and 256 MiB, once per size per emulator.
 *
 * ferry86: saveSnapshot() of the idle guest, plain and compressed, and restoreSnapshot() into a
 * freshly built PcMachine (built before the clock starts, as the peer's target instance is),
 * median of several runs, and the snapshot's size. The restored guest is checked: same state
 * digest, and it answers a command.
 *
 * The peer, the v86 npm package (JIT on; the JIT does not change what a state holds), boots the
 * same kernel, initramfs and command line through Debian's SeaBIOS from a CD image (ISOLINUX; see
 * test/guests/linux-iso.sh for why not its bzImage loader), in the same run. Timed: save_state()
 * of the stopped guest, and restore_state() into a fresh instance with the same configuration;
 * its restored guest is checked to answer the same command.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { V86 } from 'v86';
import { loadLinux, PcMachine } from '@ferry86/devices';
import { MigratablePc, restoreSnapshot, saveSnapshot, stateDigest } from '@ferry86/migrate';
import { fmt, printTable, type Row } from './report.ts';

const CMDLINE = 'console=ttyS0 ferry86.shell';
/** Printed by our /init just before it starts the interactive shell. */
const SHELL_MARKER = 'FERRY86-SHELL';
const SIZES_MIB = [64, 256] as const;
/** Typed into the restored guest's shell; the answer proves it runs. */
const PROBE = 'echo answer-$((6 * 7))';
const ANSWER = /\r?\nanswer-42\r?\n/;

interface GuestFiles {
  kernel: Uint8Array;
  initrd: Uint8Array;
  iso: Uint8Array;
}

function shell(script: string, args: string[]): string {
  return execFileSync('sh', [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function guestFiles(): GuestFiles {
  const dir = (name: string) => fileURLToPath(new URL(`../../test/guests/${name}`, import.meta.url));
  const out = shell(dir('fetch-linux.sh'), []);
  const path = (text: string, k: string) => {
    const p = new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1];
    if (typeof p !== 'string') throw new Error(`no ${k}= line in:\n${text}`);
    return p;
  };
  const kernel = path(out, 'KERNEL');
  const initrd = path(out, 'INITRD');
  const iso = path(shell(dir('linux-iso.sh'), [kernel, initrd, CMDLINE]), 'ISO');
  return {
    kernel: new Uint8Array(readFileSync(kernel)),
    initrd: new Uint8Array(readFileSync(initrd)),
    iso: new Uint8Array(readFileSync(iso)),
  };
}

interface Figure {
  label: string;
  /** Medians: wall-clock ms, and this process's CPU ms (all threads) over the same interval. */
  saveMs: number;
  saveCpuMs: number;
  restoreMs: number;
  restoreCpuMs: number;
  bytes: number;
  note: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/**
 * Wall-clock and process CPU time of an interval. Both emulators run in this process, so CPU time
 * is comparable between them, and it stays meaningful when other work shares the machine's cores
 * (wall time then stretches by however long the scheduler kept us waiting).
 */
function stopwatch(): () => { wall: number; cpu: number } {
  const t = performance.now();
  const c = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(c);
    return { wall: performance.now() - t, cpu: (d.user + d.system) / 1000 };
  };
}

/** Timings of repeated runs of one step. */
class Samples {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  add(t: { wall: number; cpu: number }): void {
    this.wall.push(t.wall);
    this.cpu.push(t.cpu);
  }
  get ms(): number {
    return this.wall.length > 0 ? median(this.wall) : NaN;
  }
  get cpuMs(): number {
    return this.cpu.length > 0 ? median(this.cpu) : NaN;
  }
}

/** Runs `m` until `done()` holds; guest stops and the instruction budget end the wait with an error. */
function runUntil(m: PcMachine, done: () => boolean, budget: number, what: string, out: () => string): void {
  const end = m.cpu.instructionCount + budget;
  while (!done()) {
    if (m.cpu.instructionCount >= end) throw new Error(`ferry86: no ${what} within ${budget} instructions; console ends:\n${out().slice(-500)}`);
    const exit = m.run(5_000_000);
    if (exit.reason !== 'limit' && exit.reason !== 'idle') throw new Error(`ferry86 stopped (${exit.reason}) waiting for ${what}`);
  }
}

function benchFerry86(files: GuestFiles, memoryMiB: number, runs: number): Figure[] {
  const config = { memoryMiB, pacing: 'deterministic' } as const;
  const pc = new PcMachine(config);
  let out = '';
  pc.onSerialOutput((b) => (out += String.fromCharCode(b)));
  const t0 = performance.now();
  loadLinux(pc, files.kernel, { cmdline: CMDLINE, initrd: files.initrd });
  runUntil(pc, () => out.includes(`${SHELL_MARKER}\r\n`), 20e9, 'shell marker', () => out);
  // One guest second more, so the shell has printed its prompt and the guest idles in it.
  pc.run(100_000_000);
  const bootS = (performance.now() - t0) / 1000;
  const source = new MigratablePc(pc);
  const booted = `booted in ${fmt(bootS)} s (${fmt(pc.cpu.instructionCount / 1e9, 2)}e9 instructions)`;
  const plain = timeSnapshot(source, config, runs, false);
  const compressed = timeSnapshot(source, config, runs, true);
  return [
    { label: 'ferry86', ...plain, note: booted },
    { label: 'ferry86, compressed', ...compressed, note: 'DEFLATE (node:zlib level 1), zero pages elided' },
  ];
}

/**
 * Saves `source` `runs` times and restores the snapshot as often, each time into a freshly built
 * machine; checks the last restored machine (same digest; its shell answers). Medians.
 */
function timeSnapshot(
  source: MigratablePc,
  config: { memoryMiB: number; pacing: 'deterministic' },
  runs: number,
  compress: boolean,
): Omit<Figure, 'label' | 'note'> {
  const saves = new Samples();
  let snapshot: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < runs; i++) {
    const sw = stopwatch();
    snapshot = saveSnapshot(source, { compress });
    saves.add(sw());
  }
  const restores = new Samples();
  let target: MigratablePc | null = null;
  for (let i = 0; i < runs; i++) {
    target = new MigratablePc(new PcMachine(config));
    const sw = stopwatch();
    restoreSnapshot(target, snapshot);
    restores.add(sw());
  }
  if (stateDigest(target!) !== stateDigest(source)) throw new Error('ferry86: the restored guest differs from the saved one');
  let answer = '';
  target!.setSerialOutput((b) => (answer += String.fromCharCode(b)));
  target!.serialInput(new TextEncoder().encode(`${PROBE}\r`));
  runUntil(target!.pc, () => ANSWER.test(answer), 2e9, 'answer from the restored shell', () => answer);
  return { saveMs: saves.ms, saveCpuMs: saves.cpuMs, restoreMs: restores.ms, restoreCpuMs: restores.cpuMs, bytes: snapshot.length };
}

type V86Options = ConstructorParameters<typeof V86>[0];

function v86Instance(files: GuestFiles, memoryMiB: number, autostart: boolean): V86 {
  const require = createRequire(import.meta.url);
  return new V86({
    wasm_path: join(dirname(require.resolve('v86')), 'v86.wasm'),
    bios: { buffer: Uint8Array.from(readFileSync('/usr/share/seabios/bios.bin')).buffer },
    cdrom: { buffer: Uint8Array.from(files.iso).buffer },
    boot_order: 0x123 as V86Options['boot_order'], // CD first
    memory_size: memoryMiB << 20,
    autostart,
  } as V86Options);
}

/** Resolves when `text()` matches, rejects after `ms` with the console's end. */
function waitFor(text: () => string, re: RegExp, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const poll = setInterval(() => {
      if (re.test(text())) {
        clearInterval(poll);
        resolve();
      } else if (performance.now() - t0 > ms) {
        clearInterval(poll);
        reject(new Error(`v86: no ${what} within ${ms / 1000} s; console ends:\n${text().slice(-500)}`));
      }
    }, 20);
  });
}

function loaded(e: V86): Promise<void> {
  return new Promise((resolve) => e.add_listener('emulator-loaded', () => resolve()));
}

async function benchV86(files: GuestFiles, memoryMiB: number, runs: number): Promise<Figure> {
  const t0 = performance.now();
  const source = v86Instance(files, memoryMiB, true);
  let out = '';
  source.add_listener('serial0-output-byte', (b: number) => (out += String.fromCharCode(b)));
  try {
    await waitFor(() => out, new RegExp(`${SHELL_MARKER}\r?\n`), 600_000, 'shell marker');
    await new Promise((r) => setTimeout(r, 1000)); // the prompt, then idle
    const bootS = (performance.now() - t0) / 1000;
    await source.stop();

    const saves = new Samples();
    let state = new ArrayBuffer(0);
    for (let i = 0; i < runs; i++) {
      const sw = stopwatch();
      state = await source.save_state();
      saves.add(sw());
    }
    const restores = new Samples();
    let restoreError = '';
    let target: V86 | null = null;
    for (let i = 0; i < runs && !restoreError; i++) {
      await target?.destroy();
      target = v86Instance(files, memoryMiB, false);
      await loaded(target);
      const sw = stopwatch();
      try {
        await target.restore_state(state);
        restores.add(sw());
      } catch (e) {
        restoreError = e instanceof Error ? e.message : String(e);
      }
    }
    let note = `booted in ${fmt(bootS)} s`;
    if (restoreError) {
      note += `; restore_state threw: ${restoreError}`;
    } else {
      let answer = '';
      target!.add_listener('serial0-output-byte', (b: number) => (answer += String.fromCharCode(b)));
      await target!.run();
      target!.serial0_send(`${PROBE}\n`);
      await waitFor(() => answer, ANSWER, 60_000, 'answer from the restored shell');
    }
    await target?.destroy();
    return {
      label: 'v86 (SeaBIOS, CD boot)',
      saveMs: saves.ms,
      saveCpuMs: saves.cpuMs,
      restoreMs: restores.ms,
      restoreCpuMs: restores.cpuMs,
      bytes: state.byteLength,
      note,
    };
  } finally {
    await source.destroy();
  }
}

export async function benchSnapshot(quick: boolean): Promise<void> {
  const runs = quick ? 3 : 5;
  const files = guestFiles();
  for (const memoryMiB of SIZES_MIB) {
    const ours = benchFerry86(files, memoryMiB, runs);
    const peer = await benchV86(files, memoryMiB, runs);
    const MiB = 1 << 20;
    const rows: Row[] = [...ours, peer].map((f) => ({
      label: f.label,
      cells: [fmt(f.saveMs), fmt(f.saveCpuMs), fmt(f.restoreMs), fmt(f.restoreCpuMs), fmt(f.bytes / MiB, 2), f.note],
    }));
    for (const f of ours) {
      rows.push({
        label: `v86 ÷ ${f.label}`,
        cells: [
          fmt(peer.saveMs / f.saveMs, 2),
          fmt(peer.saveCpuMs / f.saveCpuMs, 2),
          fmt(peer.restoreMs / f.restoreMs, 2),
          fmt(peer.restoreCpuMs / f.restoreCpuMs, 2),
          fmt(peer.bytes / f.bytes, 2),
          '> 1: ferry86 faster / smaller',
        ],
      });
    }
    printTable(
      `Snapshot of Debian Linux 6.1 idle in its shell, ${memoryMiB} MiB (median of ${runs}; restore into a fresh machine)`,
      ['save ms', 'save cpu ms', 'restore ms', 'restore cpu ms', 'size MiB', ''],
      rows,
    );
  }
}
