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

export function workloads(quick: boolean): Workload[] {
  return [
    {
      title: 'CPU-bound integer loop (examples/guests/loop.bin, 250M instructions)',
      opts: { image: file('guests/loop.bin'), startMarker: 'loop start\n', endMarker: 'loop done\n' },
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
    printTable(w.title, ['instructions', 'ms', 'MIPS', 'ferry86 ÷ this'], [ours, off, on].map((r) => ({
      label: r.label,
      cells: [r.instructions, fmt(r.ms, 0), fmt(r.mips), fmt(ours.mips / r.mips, 2)],
    })));
  }
}
