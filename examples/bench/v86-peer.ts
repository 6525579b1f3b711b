/**
 * Runs a multiboot image in the peer emulator (the `v86` npm package) and measures how fast it
 * executes guest instructions, so every ferry86 figure is printed next to the peer's from the same
 * run on the same machine.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { V86 } from 'v86';

export interface PeerRun {
  label: string;
  /** Guest instructions between the start marker and the end marker. */
  instructions: number;
  /** Wall-clock milliseconds between the markers. */
  ms: number;
  mips: number;
  /** Everything the guest printed on COM1. */
  output: string;
}

export interface PeerOptions {
  image: Uint8Array;
  jit: boolean;
  memoryMiB?: number;
  cmdline?: string;
  /** Serial output that starts the measurement (excludes emulator start-up and guest boot). */
  startMarker: string;
  /** Serial output that ends it; or a wall-clock budget after the start marker. */
  endMarker?: string;
  runMs?: number;
}

/**
 * v86's `get_instruction_counter()` is a 32-bit counter (`instruction_counter[0] >>> 0`): it wraps
 * every 2^32 instructions (about 4 s with the JIT on, 55 s with it off). This reads it often enough
 * that at most one wrap happens between reads, and sums the deltas modulo 2^32 into a full count.
 * Session 1 compared Linux boots using the raw counter and took v86's 6.37e9 instructions for
 * 2.08e9.
 */
export class PeerInstructionCounter {
  private last: number;
  private total = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly emulator: { get_instruction_counter(): number }, pollMs = 250) {
    this.last = emulator.get_instruction_counter() >>> 0;
    this.timer = setInterval(() => this.read(), pollMs);
  }

  /** Instructions since construction. */
  read(): number {
    const now = this.emulator.get_instruction_counter() >>> 0;
    this.total += (now - this.last + 2 ** 32) % 2 ** 32;
    this.last = now;
    return this.total;
  }

  /** Final count; stops polling. */
  stop(): number {
    clearInterval(this.timer);
    return this.read();
  }
}

function wasmPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('v86')), 'v86.wasm');
}

export function runPeer(opts: PeerOptions): Promise<PeerRun> {
  const label = `v86 (JIT ${opts.jit ? 'on' : 'off'})`;
  return new Promise((resolve, reject) => {
    const image = Uint8Array.from(opts.image).buffer;
    const emulator = new V86({
      wasm_path: wasmPath(),
      multiboot: { buffer: image },
      cmdline: opts.cmdline,
      memory_size: (opts.memoryMiB ?? 64) << 20,
      autostart: true,
      disable_jit: !opts.jit,
    } as ConstructorParameters<typeof V86>[0]);
    let out = '';
    let startMs = 0;
    let counter: PeerInstructionCounter | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      const ms = performance.now() - startMs;
      const instructions = counter!.stop();
      if (timer) clearTimeout(timer);
      void emulator.destroy();
      resolve({ label, instructions, ms, mips: instructions / ms / 1000, output: out });
    };
    const guard = setTimeout(() => {
      void emulator.destroy();
      reject(new Error(`${label}: no "${opts.startMarker}" from the guest within 120 s; output so far: ${JSON.stringify(out)}`));
    }, 120_000);
    emulator.add_listener('serial0-output-byte', (byte: number) => {
      out += String.fromCharCode(byte);
      if (!startMs && out.includes(opts.startMarker)) {
        clearTimeout(guard);
        startMs = performance.now();
        counter = new PeerInstructionCounter(emulator);
        if (opts.runMs !== undefined) timer = setTimeout(finish, opts.runMs);
      } else if (startMs && opts.endMarker && out.endsWith(opts.endMarker)) {
        finish();
      }
    });
  });
}

export interface PeerSaveRestore {
  label: string;
  p50Ms: number;
  p99Ms: number;
  stateBytes: number;
}

/**
 * How long v86 keeps a guest stopped to move it: save_state() on a running instance plus
 * restore_state() into a second instance with the same configuration, repeated `runs` times.
 */
export async function peerSaveRestore(opts: {
  image: Uint8Array;
  memoryMiB: number;
  startMarker: string;
  runs: number;
}): Promise<PeerSaveRestore[]> {
  const make = () =>
    new V86({
      wasm_path: wasmPath(),
      multiboot: { buffer: Uint8Array.from(opts.image).buffer },
      memory_size: opts.memoryMiB << 20,
      autostart: true,
    } as ConstructorParameters<typeof V86>[0]);
  const source = make();
  await new Promise<void>((resolve) => {
    let out = '';
    source.add_listener('serial0-output-byte', (b: number) => {
      out += String.fromCharCode(b);
      if (out.includes(opts.startMarker)) resolve();
    });
  });
  const target = make();
  await new Promise((r) => setTimeout(r, 500));
  // Restoring is the other half of a move, but v86 0.5.x throws in its PCI set_state for this
  // BIOS-less multiboot machine (into a second instance and into the same one alike). Then only
  // save_state() is timed: a lower bound on how long v86 would keep the guest stopped.
  let label = 'v86 save_state + restore_state';
  let restoreWorks = true;
  const times: number[] = [];
  let stateBytes = 0;
  for (let i = 0; i < opts.runs; i++) {
    const t0 = performance.now();
    await source.stop();
    const state = await source.save_state();
    if (restoreWorks) {
      try {
        await target.restore_state(state);
      } catch {
        restoreWorks = false;
        label = 'v86 save_state only (its restore_state crashes on this machine)';
      }
    }
    if (restoreWorks || i > 0) times.push(performance.now() - t0);
    stateBytes = state.byteLength;
    await source.run();
    await new Promise((r) => setTimeout(r, 200));
  }
  await Promise.all([source.destroy(), target.destroy()]);
  times.sort((a, b) => a - b);
  const pick = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
  return [{ label, p50Ms: pick(50), p99Ms: pick(99), stateBytes }];
}
