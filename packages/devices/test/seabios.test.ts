/**
 * Debian's SeaBIOS (package `seabios`, installed by scripts/setup.sh) on the PC board, with its
 * debug log on port 0x402 (QEMU's isa-debugcon). The log is the witness: each milestone line is
 * printed only after the BIOS got through the step before it (PCI enumeration, PAM shadowing,
 * the device scan, the boot attempt, the reboot).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadStateful, type StateRecord } from '@ferry86/mmu';
import { loadBiosRom } from '../src/bios-rom.ts';
import { PcMachine, type RunExit } from '../src/pc-machine.ts';

const SEABIOS = '/usr/share/seabios/bios.bin';

function seabiosImage(): Uint8Array {
  if (!existsSync(SEABIOS)) {
    throw new Error(`${SEABIOS} is missing: install Debian's "seabios" package (scripts/setup.sh does)`);
  }
  return new Uint8Array(readFileSync(SEABIOS));
}

interface Booted {
  m: PcMachine;
  log: () => string;
}

function machine(): Booted {
  const bytes: number[] = [];
  const m = new PcMachine({ memoryMiB: 64, debugcon: [{ port: 0x402, sink: (b) => bytes.push(b) }] });
  return { m, log: () => String.fromCharCode(...bytes) };
}

function boot(): Booted {
  const b = machine();
  loadBiosRom(b.m, seabiosImage());
  return b;
}

/**
 * Runs until the log from offset `from` on contains `text`, or `max` instructions retired, or the
 * machine stops for good; returns every run() exit.
 */
function runUntilLog(b: Booted, text: string, max = 20_000_000, from = 0): RunExit[] {
  const exits: RunExit[] = [];
  const stop = b.m.cpu.instructionCount + max;
  while (!b.log().includes(text, from) && b.m.cpu.instructionCount < stop) {
    const exit = b.m.run(Math.min(200_000, stop - b.m.cpu.instructionCount));
    exits.push(exit);
    if (exit.reason === 'shutdown' || exit.reason === 'halted' || (exit.reason === 'idle' && exit.waitMs === Infinity)) break;
  }
  return exits;
}

/** The log's lines that contain one of `marks`, in order (each mark taken once, first match). */
function milestones(log: string, marks: string[]): string[] {
  const found: string[] = [];
  let at = 0;
  for (const mark of marks) {
    const i = log.indexOf(mark, at);
    if (i < 0) break;
    found.push(mark);
    at = i + mark.length;
  }
  return found;
}

const POST = [
  'SeaBIOS (version 1.16',
  'RamSize: 0x04000000 [cmos]', // CMOS memory size, read once the 440FX identified the platform
  'Relocating init from', // PAM unlocked the shadow RAM; the BIOS copied itself into it
  'Found 2 PCI devices (max PCI bus is 00)',
  'PCI: init bdf=00:00.0 id=8086:1237',
  'PCI: init bdf=00:01.0 id=8086:7000',
  'PIIX3/PIIX4 init: elcr=00 0c', // PIRQ routing to IRQ 10/11, level-triggered in the ELCR
  'CPU Mhz=100', // TSC calibrated against PIT channel 2 (port 0x61)
  'Scan for VGA option rom',
  'Found 0 lpt ports',
  'Found 4 serial ports',
  'PS2 keyboard initialized',
  'All threads complete.',
  'Scan for option roms',
  'Press ESC for boot menu.',
  'Booting from Hard Disk...',
  'No bootable device.',
];

describe('SeaBIOS on the 440FX board', () => {
  it('POSTs through PCI init, shadowing and the device scan to its boot attempt', () => {
    const b = boot();
    const exits = runUntilLog(b, 'No bootable device.');
    const log = b.log();
    expect(milestones(log, POST)).toEqual(POST);
    expect(log).not.toContain('Unable to unlock ram');
    expect(log).not.toContain('No space for init relocation');
    expect(exits.every((e) => e.reason === 'limit' || e.reason === 'idle')).toBe(true);
  });

  it('reboots after its 60 s retry and POSTs again from the ROM', () => {
    const b = boot();
    const exits = runUntilLog(b, 'Attempting a hard reboot', 30_000_000);
    expect(b.log()).toContain('No bootable device.  Retrying in 60 seconds.\nRebooting.');
    const first = b.log().length;
    // The reset request (keyboard controller pulse) stops the machine; it POSTs again from scratch.
    const more = runUntilLog(b, 'Scan for VGA option rom', 5_000_000, first);
    expect([...exits, ...more].some((e) => e.reason === 'reset')).toBe(true);
    const second = b.log().slice(first);
    expect(milestones(second, POST.slice(0, 9))).toEqual(POST.slice(0, 9));
  });

  it('resumes from a snapshot taken mid-POST exactly as the original runs on', () => {
    const a = boot();
    runUntilLog(a, 'Scan for VGA option rom'); // well after shadowing and PCI setup
    const snap: [string, StateRecord][] = a.m.stateParts().map((p) => [p.sectionName, p.saveState()]);
    const ram = a.m.phys.ram.slice();
    const before = a.log().length;

    const b = machine();
    loadBiosRom(b.m, seabiosImage()); // the destination has the same firmware
    const parts = new Map(b.m.stateParts().map((p) => [p.sectionName, p]));
    for (const [name, rec] of snap) loadStateful(parts.get(name)!, rec);
    b.m.phys.ram.set(ram);

    const target = a.m.cpu.instructionCount + 5_500_000;
    for (const x of [a, b]) while (x.m.cpu.instructionCount < target) x.m.run(target - x.m.cpu.instructionCount);
    const tail = a.log().slice(before);
    expect(tail).toContain('No bootable device.');
    expect(b.log()).toBe(tail);
    expect(b.m.cpu.saveState()).toEqual(a.m.cpu.saveState());
  });
});
