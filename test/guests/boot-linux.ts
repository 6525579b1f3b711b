/**
 * Boots the Debian kernel and initramfs that fetch-linux.sh prepared, in deterministic pacing,
 * and checks the init script's markers. Exits 0 only if every marker appeared in order and the
 * guest then rebooted (run() reported 'reset'). Takes several billion instructions: it is a
 * separate check, not part of `pnpm test`.
 *
 * Usage: tsx test/guests/boot-linux.ts KERNEL INITRD [MAX_INSTRUCTIONS]
 */
import { readFileSync } from 'node:fs';
import { PcMachine, loadLinux } from '@ferry86/devices';
import { MARKERS } from './initramfs.ts';

const [kernelPath, initrdPath, maxArg] = process.argv.slice(2);
if (!kernelPath || !initrdPath) {
  process.stderr.write('usage: tsx test/guests/boot-linux.ts KERNEL INITRD [MAX_INSTRUCTIONS]\n');
  process.exit(2);
}
const max = maxArg ? Number(maxArg) : 20e9;
const m = new PcMachine({ memoryMiB: 256, pacing: 'deterministic' });
let serial = '';
m.onSerialOutput((b) => {
  const c = String.fromCharCode(b);
  serial += c;
  process.stdout.write(c);
});
loadLinux(m, new Uint8Array(readFileSync(kernelPath)), {
  cmdline: 'console=ttyS0',
  initrd: new Uint8Array(readFileSync(initrdPath)),
});
let reason = 'limit';
while (m.cpu.instructionCount < max) {
  const exit = m.run(Math.min(100_000_000, max - m.cpu.instructionCount));
  if (exit.reason === 'limit' || (exit.reason === 'idle' && exit.waitMs === 0)) continue;
  reason = exit.reason;
  break;
}
let at = 0;
const missing: string[] = [];
for (const marker of Object.values(MARKERS)) {
  const i = serial.indexOf(marker, at);
  if (i < 0) missing.push(marker);
  else at = i + marker.length;
}
process.stderr.write(`\nboot-linux: stopped (${reason}) after ${m.cpu.instructionCount} instructions; ${missing.length === 0 ? 'all markers seen' : `missing: ${missing.join(', ')}`}\n`);
process.exit(missing.length === 0 && reason === 'reset' ? 0 : 1);
