/**
 * `ferry86 run`: boots a multiboot kernel, a Linux kernel (bzImage or ELF vmlinux, with an
 * optional initrd) or a BIOS ROM, with COM1 on stdin/stdout (raw bytes).
 * Ends when the guest halts with interrupts off, shuts down (triple fault), resets, or reaches
 * the instruction limit, and says why on stderr with the instruction count.
 */
import {
  PcMachine, loadBiosRom, loadLinux, loadMultiboot, runUntilExit, type DebugConsoleConfig, type RunExit,
} from '@ferry86/devices';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { UsageError, parseCount, parseOptions } from './usage.ts';

const USAGE = `usage: ferry86 run (--multiboot FILE | --kernel FILE | --bios ROM) [options]

  --multiboot FILE        boot a Multiboot v1 kernel (a.out-kludge or ELF32)
  --kernel FILE           boot a Linux kernel: a bzImage (boot protocol 2.02+) or an
                          uncompressed ELF32 vmlinux, through the 32-bit boot protocol
  --initrd FILE           initial RAM disk for --kernel
  --bios ROM              boot a BIOS image (mapped below 4 GiB and at 0xE0000-0xFFFFF)
  --append CMDLINE        kernel command line (--multiboot or --kernel)
  --mem MiB               guest RAM, default 64
  --deterministic         pure virtual time (default: realtime pacing, idle = sleep)
  --max-instructions N    stop after N instructions
  --on-reset stop|reboot  what a guest reset does (keyboard controller, port 0x92 or
                          0xCF9): stop (default), or reboot the board and go on, as a
                          PC does (useful with --bios: ROM and RAM survive a reset;
                          with --multiboot or --kernel there is no firmware to run)
  --debugcon PORT[:FILE]  port-0xE9-style debug console on PORT (e.g. 0xe9), to FILE
                          or to stdout; may be repeated

COM1 is connected to stdin/stdout as raw bytes. On a terminal, Ctrl-A x quits and
Ctrl-A Ctrl-A sends a Ctrl-A.`;

const CTRL_A = 0x01;

function describe(exit: RunExit): string {
  switch (exit.reason) {
    case 'halted': return 'guest halted with interrupts disabled';
    case 'shutdown': return 'guest shut down (triple fault)';
    case 'reset': return 'guest reset the machine';
    case 'limit': return 'instruction limit reached';
    case 'absent': return `page ${exit.page} is absent`;
    case 'idle': return 'guest is waiting for input and stdin is closed';
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: argv,
    options: {
      multiboot: { type: 'string' },
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      bios: { type: 'string' },
      append: { type: 'string' },
      mem: { type: 'string' },
      deterministic: { type: 'boolean' },
      'max-instructions': { type: 'string' },
      'on-reset': { type: 'string' },
      debugcon: { type: 'string', multiple: true },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const kinds = [values.multiboot, values.kernel, values.bios].filter((v) => v !== undefined).length;
  if (kinds !== 1) throw new UsageError('give exactly one of --multiboot FILE, --kernel FILE or --bios ROM');
  if (values.append !== undefined && values.bios !== undefined) throw new UsageError('--append only applies to --multiboot and --kernel');
  if (values.initrd !== undefined && values.kernel === undefined) throw new UsageError('--initrd only applies to --kernel');
  const memoryMiB = values.mem === undefined ? 64 : parseCount('mem', values.mem, 2, 2048);
  const onReset = values['on-reset'] ?? 'stop';
  if (onReset !== 'stop' && onReset !== 'reboot') throw new UsageError(`--on-reset expects stop or reboot, not "${onReset}"`);
  if (onReset === 'reboot' && values.bios === undefined) throw new UsageError('--on-reset reboot needs --bios: after a reset the CPU starts at the BIOS reset vector');
  const maxInstructions = values['max-instructions'] === undefined ? Infinity : parseCount('max-instructions', values['max-instructions'], 1);

  const out = new OutputBatcher();
  const files: number[] = [];
  const debugcon: DebugConsoleConfig[] = (values.debugcon ?? []).map((spec) => {
    const m = /^(0x[0-9a-f]+|\d+)(?::(.+))?$/i.exec(spec);
    if (!m) throw new UsageError(`--debugcon expects PORT or PORT:FILE, not "${spec}"`);
    const port = parseCount('debugcon', m[1]!, 0, 0xffff);
    if (port >= 0x3f8 && port <= 0x3ff) throw new UsageError(`--debugcon port 0x${port.toString(16)} is taken by COM1`);
    if (m[2] === undefined) return { port, sink: (b: number) => out.push(1, b) };
    let fd: number;
    try {
      fd = openSync(m[2], 'w');
    } catch (e) {
      throw new UsageError(`cannot open debug console file "${m[2]}": ${(e as Error).message}`);
    }
    files.push(fd);
    return { port, sink: (b: number) => out.push(fd, b) };
  });

  const image = readImage(values.multiboot ?? values.kernel ?? values.bios!);
  const initrd = values.initrd === undefined ? undefined : readImage(values.initrd);
  const machine = new PcMachine({
    memoryMiB,
    pacing: values.deterministic ? 'deterministic' : 'realtime',
    debugcon,
  });
  machine.onSerialOutput((b) => out.push(1, b));
  if (values.multiboot !== undefined) loadMultiboot(machine, image, values.append ?? '');
  else if (values.kernel !== undefined) {
    const r = loadLinux(machine, image, { cmdline: values.append ?? '', ...(initrd ? { initrd } : {}) });
    const version = r.kernelVersion === '' ? '' : ` "${r.kernelVersion}"`;
    process.stderr.write(`ferry86: ${r.format}${version}, boot protocol ${(r.protocol >> 8)}.${(r.protocol & 0xff).toString().padStart(2, '0')}, entry 0x${r.entry.toString(16)}${initrd ? `, initrd at 0x${r.initrdStart.toString(16)}` : ''}\n`);
  } else loadBiosRom(machine, image);

  const stop = new AbortController();
  const stdin = connectStdin(machine, () => stop.abort());
  try {
    let exit: RunExit;
    let resets = 0;
    const start = machine.cpu.instructionCount;
    for (;;) {
      exit = await runUntilExit(machine, {
        maxInstructions: maxInstructions - (machine.cpu.instructionCount - start),
        signal: stop.signal,
        onIdleForever: () => !stdin.ended,
      });
      if (exit.reason !== 'reset' || onReset === 'stop' || stop.signal.aborted) break;
      machine.reset();
      process.stderr.write(`\nferry86: guest reset the machine (${++resets}); rebooting at ${machine.cpu.instructionCount} instructions\n`);
    }
    out.flush();
    const why = stop.signal.aborted ? 'stopped by the user (Ctrl-A x)' : describe(exit);
    process.stderr.write(`\nferry86: ${why} after ${machine.cpu.instructionCount} instructions\n`);
    return exit.reason === 'shutdown' || exit.reason === 'absent' ? 1 : 0;
  } finally {
    out.flush();
    stdin.close();
    for (const fd of files) closeSync(fd);
  }
}

function readImage(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read "${path}": ${(e as Error).message}`);
  }
}

/** Collects guest output bytes per file descriptor and writes them in batches. */
class OutputBatcher {
  private readonly pending = new Map<number, number[]>();
  private scheduled = false;

  push(fd: number, byte: number): void {
    let buf = this.pending.get(fd);
    if (!buf) this.pending.set(fd, (buf = []));
    buf.push(byte);
    if (buf.length >= 4096) this.flush();
    else if (!this.scheduled) {
      // The run loop yields to the event loop between chunks; flush then.
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    for (const [fd, buf] of this.pending) {
      if (buf.length === 0) continue;
      writeSync(fd, Uint8Array.from(buf));
      buf.length = 0;
    }
  }
}

/** stdin → COM1. On a terminal: raw mode, with Ctrl-A x to quit. */
function connectStdin(machine: PcMachine, quit: () => void): { readonly ended: boolean; close(): void } {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  let ended = false;
  let escape = false;
  if (tty) stdin.setRawMode(true);
  const onData = (chunk: Buffer) => {
    if (!tty) {
      machine.sendSerialInput(chunk);
      return;
    }
    const bytes: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 /* x */ || b === 0x58) {
          quit();
          return;
        }
        bytes.push(b === CTRL_A ? CTRL_A : b);
      } else if (b === CTRL_A) {
        escape = true;
      } else {
        bytes.push(b);
      }
    }
    if (bytes.length > 0) machine.sendSerialInput(bytes);
  };
  stdin.on('data', onData);
  stdin.on('end', () => {
    ended = true;
  });
  return {
    get ended() {
      return ended;
    },
    close() {
      stdin.off('data', onData);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

export const runCommand = { summary: 'boot a multiboot kernel, Linux kernel or BIOS ROM with COM1 on stdio', usage: USAGE, main };
