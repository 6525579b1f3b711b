/** Interpreter speed: the same multiboot guests on ferry86 and on the peer (v86, JIT on and off). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runFerry86, type InterpreterOptions } from './interpreter.ts';
import { fmt, printTable } from './report.ts';
import { runPeer } from './v86-peer.ts';

interface Workload {
  title: string;
  opts: InterpreterOptions;
}

const file = (p: string) => readFileSync(fileURLToPath(new URL(`../${p}`, import.meta.url)));

/**
 * x87.bin with another control word: the FLDCW operand (`control: dw 0x027F`, right after the
 * `four: dq 4.0` constant) patched in a copy of the image. 037Fh is FNINIT's default (precision
 * 64), what Linux/glibc programs run with.
 */
function x87WithControlWord(cw: number): Uint8Array {
  const img = Uint8Array.from(file('guests/x87.bin'));
  const mark = [0, 0, 0, 0, 0, 0, 0x10, 0x40, 0x7f, 0x02]; // 4.0 as a double, then 027Fh
  for (let k = 0; k + mark.length <= img.length; k++) {
    if (mark.every((b, j) => img[k + j] === b)) {
      img[k + 8] = cw & 0xff;
      img[k + 9] = cw >> 8;
      return img;
    }
  }
  throw new Error('x87.bin: control word 027Fh after the constant 4.0 not found (guest changed?)');
}

export function workloads(quick: boolean): Workload[] {
  return [
    {
      title: 'CPU-bound integer loop (examples/guests/loop.bin, 250M instructions)',
      opts: { image: file('guests/loop.bin'), startMarker: 'loop start\n', endMarker: 'loop done\n' },
    },
    {
      title: 'Call-heavy guest (examples/guests/calls.bin: recursion, cdecl frames, indirect calls)',
      opts: { image: file('guests/calls.bin'), startMarker: 'calls start\n', endMarker: 'calls done\n' },
    },
    {
      title: 'x87 guest (examples/guests/x87.bin: Mandelbrot, precision control 53 bits)',
      opts: { image: file('guests/x87.bin'), startMarker: 'x87 start\n', endMarker: 'x87 done\n' },
    },
    {
      title: 'x87 guest at precision control 64 (x87.bin with CW 037Fh, FNINIT\'s default)',
      opts: { image: x87WithControlWord(0x037f), startMarker: 'x87 start\n', endMarker: 'x87 done\n' },
    },
    {
      title: `toyos memory workload (examples/toyos, 64 MiB, ${quick ? 2 : 5} s after boot)`,
      opts: { image: file('toyos/toyos.bin'), startMarker: 'ready\r\n', runMs: quick ? 2000 : 5000 },
    },
  ];
}

export async function benchSpeed(quick: boolean): Promise<void> {
  for (const w of workloads(quick)) {
    const ours = runFerry86(w.opts);
    const off = await runPeer({ ...w.opts, jit: false });
    const on = await runPeer({ ...w.opts, jit: true });
    // A guest with an end marker prints its result: all three must agree, or the figure is void.
    if (w.opts.endMarker && (ours.output !== off.output || ours.output !== on.output)) {
      console.log(`\n${w.title}\n  RESULT MISMATCH: ferry86 printed ${JSON.stringify(ours.output)}, v86 ${JSON.stringify(off.output)}`);
      continue;
    }
    printTable(w.title, ['instructions', 'ms', 'MIPS', 'ferry86 ÷ this'], [ours, off, on].map((r) => ({
      label: r.label,
      cells: [r.instructions, fmt(r.ms, 0), fmt(r.mips), fmt(ours.mips / r.mips, 2)],
    })));
  }
}
