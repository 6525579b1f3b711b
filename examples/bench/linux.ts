/**
 * Debian's Linux 6.1 with our initramfs: time to the first /init marker on ferry86 (bzImage,
 * 32-bit boot protocol) and on v86 (the same bzImage, initrd and command line through Debian's
 * SeaBIOS, JIT on and off), with instructions and MIPS. The guest files come from
 * test/guests/fetch-linux.sh.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { V86 } from 'v86';
import { loadLinux, PcMachine } from '@ferry86/devices';
import { fmt, printTable, type Row } from './report.ts';
import { PeerInstructionCounter } from './v86-peer.ts';

const MARKER = 'FERRY86-INIT-START';
const CMDLINE = 'console=ttyS0';
const MEMORY_MIB = 256;

function linuxFiles(): { kernel: Uint8Array; initrd: Uint8Array } {
  const script = fileURLToPath(new URL('../../test/guests/fetch-linux.sh', import.meta.url));
  const out = execFileSync('sh', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(out)?.[1];
  const kernel = path('KERNEL');
  const initrd = path('INITRD');
  if (typeof kernel !== 'string' || typeof initrd !== 'string') throw new Error(`fetch-linux.sh printed no paths:\n${out}`);
  return { kernel: new Uint8Array(readFileSync(kernel)), initrd: new Uint8Array(readFileSync(initrd)) };
}

interface BootFigure {
  label: string;
  ms: number;
  instructions: number;
}

function ferry86(files: { kernel: Uint8Array; initrd: Uint8Array }): BootFigure {
  const t0 = performance.now();
  const m = new PcMachine({ memoryMiB: MEMORY_MIB, pacing: 'deterministic' });
  let out = '';
  m.onSerialOutput((b) => {
    out += String.fromCharCode(b);
  });
  loadLinux(m, files.kernel, { cmdline: CMDLINE, initrd: files.initrd });
  while (!out.includes(MARKER)) {
    const exit = m.run(5_000_000);
    if (exit.reason !== 'limit' && exit.reason !== 'idle') throw new Error(`ferry86 stopped (${exit.reason}) before ${MARKER}`);
  }
  return { label: 'ferry86 (bzImage, no BIOS)', ms: performance.now() - t0, instructions: m.cpu.instructionCount };
}

function peer(files: { kernel: Uint8Array; initrd: Uint8Array }, jit: boolean): Promise<BootFigure> {
  const require = createRequire(import.meta.url);
  const wasm = join(dirname(require.resolve('v86')), 'v86.wasm');
  const bios = new Uint8Array(readFileSync('/usr/share/seabios/bios.bin'));
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const e = new V86({
      wasm_path: wasm,
      bios: { buffer: Uint8Array.from(bios).buffer },
      bzimage: { buffer: Uint8Array.from(files.kernel).buffer },
      initrd: { buffer: Uint8Array.from(files.initrd).buffer },
      cmdline: CMDLINE,
      memory_size: MEMORY_MIB << 20,
      autostart: true,
      disable_jit: !jit,
    } as ConstructorParameters<typeof V86>[0]);
    let out = '';
    const counter = new PeerInstructionCounter(e);
    const guard = setTimeout(() => {
      counter.stop();
      void e.destroy();
      reject(new Error(`v86 (JIT ${jit ? 'on' : 'off'}) did not reach ${MARKER} in 10 minutes; console ends: ${out.slice(-300)}`));
    }, 600_000);
    e.add_listener('serial0-output-byte', (b: number) => {
      out += String.fromCharCode(b);
      if (out.endsWith(MARKER)) {
        clearTimeout(guard);
        const fig = { label: `v86 (SeaBIOS, JIT ${jit ? 'on' : 'off'})`, ms: performance.now() - t0, instructions: counter.stop() };
        void e.destroy();
        resolve(fig);
      }
    });
  });
}

export async function benchLinux(): Promise<void> {
  const files = linuxFiles();
  const ours = ferry86(files);
  const rows: BootFigure[] = [ours, await peer(files, true), await peer(files, false)];
  printTable(
    `Debian Linux 6.1 (686) + busybox initramfs, ${MEMORY_MIB} MiB, "${CMDLINE}": time to the first /init marker`,
    ['s', 'instructions', 'MIPS', 'ferry86 time ÷ this'],
    rows.map((r): Row => ({
      label: r.label,
      cells: [fmt(r.ms / 1000), r.instructions, fmt(r.instructions / r.ms / 1000), fmt(ours.ms / r.ms, 2)],
    })),
  );
}
