/**
 * Real guest code nobody here wrote: Debian's i386 Linux 6.1 kernel (bzImage, through the 32-bit
 * boot protocol) with Debian's static busybox in our initramfs, on the serial console. The
 * kernel and busybox are downloaded by test/guests/fetch-linux.sh (cached by version); the test
 * fails, never skips, when that download fails. One boot is about 6.5 billion instructions.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLinux, PcMachine } from '@ferry86/devices';
import { MARKERS, SHELL_MARKER } from './guests/initramfs.ts';
import { fetchLinux } from './guests/linux-files.ts';

interface Boot {
  serial: string;
  reason: string;
  instructions: number;
}

/**
 * Boots with console=ttyS0 in deterministic pacing until the guest stops (or 20e9 instructions).
 * When /init starts its shell, types a computation and `exit` on the serial line.
 */
async function boot(files: { kernel: string; initrd: string }): Promise<Boot> {
  // loadLinux takes either a bzImage (its decompressor runs) or an ELF vmlinux (32-bit protocol).
  const machine = new PcMachine({ memoryMiB: 256, pacing: 'deterministic' });
  let serial = '';
  machine.onSerialOutput((b) => {
    serial += String.fromCharCode(b);
  });
  loadLinux(machine, new Uint8Array(readFileSync(files.kernel)), {
    // ferry86.shell is read by our /init only (an interactive shell before reboot), not by the kernel.
    cmdline: 'console=ttyS0 ferry86.shell',
    initrd: new Uint8Array(readFileSync(files.initrd)),
  });
  let reason = 'limit';
  let typed = false;
  while (machine.cpu.instructionCount < 20e9) {
    if (!typed && serial.includes(`${SHELL_MARKER}\r\n`)) {
      machine.sendSerialInput('echo answer-$((6 * 7))\rexit\r');
      typed = true;
    }
    const exit = machine.run(20_000_000);
    // Yield so the test runner's own messages are not starved during a minutes-long boot.
    await new Promise((r) => setImmediate(r));
    if (exit.reason === 'limit' || (exit.reason === 'idle' && exit.waitMs === 0)) continue;
    reason = exit.reason;
    break;
  }
  return { serial, reason, instructions: machine.cpu.instructionCount };
}

describe("Debian's Linux 6.1 on ferry86", () => {
  const files = fetchLinux();
  let first: Boot | undefined;

  it('boots to /init with console=ttyS0, does its work, and reboot -f resets the machine', async () => {
    first = await boot(files);
    const { serial, reason, instructions } = first;
    const context = `stopped (${reason}) after ${instructions} instructions; console ends:\n${serial.slice(-2000)}`;
    // Markers in order: the init script checks the sha256 of known data against the host's digest.
    let at = 0;
    for (const marker of Object.values(MARKERS)) {
      const i = serial.indexOf(marker, at);
      expect(i, `marker ${marker} missing or out of order; ${context}`).toBeGreaterThanOrEqual(0);
      at = i + marker.length;
    }
    expect(serial).toMatch(/^kernel: 6\.1\.0-\d+-686\r?$/m);
    expect(serial).toContain('reboot: Restarting system');
    expect(reason, context).toBe('reset');
  });

  it('answers a command typed on the serial console by the busybox shell', () => {
    expect(first, 'the first boot must have run').toBeDefined();
    const shell = first!.serial.slice(first!.serial.indexOf(SHELL_MARKER));
    // The tty echoes the typed line; the shell's own output is the computed value on a line of its own.
    expect(shell).toContain('echo answer-$((6 * 7))');
    expect(shell).toMatch(/\r?\nanswer-42\r?\n/);
  });

  it('boots the unpacked vmlinux through the ELF path to the same /init transcript', async () => {
    expect(first, 'the first boot must have run').toBeDefined();
    const elf = await boot({ kernel: files.vmlinux, initrd: files.initrd });
    expect(elf.reason).toBe('reset');
    // From /init on, the consoles match except for what depends on elapsed guest time: the
    // wall-clock line and kernel log timestamps (the bzImage spends time decompressing).
    const initPart = (serial: string) =>
      serial
        .slice(serial.indexOf(MARKERS.start))
        .split(/\r?\n/)
        // "cpu MHz" and "bogomips" come from the kernel's TSC calibration against the PIT, whose
        // last digits depend on where in a PIT period the calibration happened to start.
        .filter((l) => !l.startsWith('date: ') && !/^\[\s*\d+\.\d+\]/.test(l) && !/^(cpu MHz|bogomips)\s*:/.test(l));
    expect(initPart(elf.serial)).toEqual(initPart(first!.serial));
    expect(elf.instructions).toBeLessThan(first!.instructions);
  });

  it('boots again to the identical transcript and instruction count (deterministic mode)', async () => {
    expect(first, 'the first boot must have run').toBeDefined();
    const again = await boot(files);
    expect(again.reason).toBe(first!.reason);
    expect(again.instructions).toBe(first!.instructions);
    expect(again.serial).toBe(first!.serial);
  });
});
