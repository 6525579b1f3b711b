import { describe, expect, it } from 'vitest';
import { StateError, loadStateful, type StateRecord } from '@ferry86/mmu';
import { PcMachine, type PcMachineConfig, type RunExit } from '../src/pc-machine.ts';
import { loadMultiboot } from '../src/multiboot.ts';
import { loadBiosRom } from '../src/bios-rom.ts';
import { runUntilExit } from '../src/run-async.ts';
import { assemble, reference } from './guests.ts';

const text = (bytes: number[]) => String.fromCharCode(...bytes);

interface Booted {
  m: PcMachine;
  out: number[];
}

function boot(guest: string, config: PcMachineConfig = {}, cmdline = ''): Booted {
  const m = new PcMachine(config);
  const out: number[] = [];
  m.onSerialOutput((b) => out.push(b));
  loadMultiboot(m, assemble(guest), cmdline);
  return { m, out };
}

/** Runs until something other than the limit (or a zero-wait idle) stops it, in chunks of chunk(i). */
function runToEnd(m: PcMachine, chunk: (i: number) => number = () => 10_000_000): RunExit {
  for (let i = 0; ; i++) {
    const exit = m.run(chunk(i));
    if (exit.reason === 'limit' || (exit.reason === 'idle' && exit.waitMs === 0)) continue;
    return exit;
  }
}

interface Snapshot {
  parts: [string, StateRecord][];
  ram: Uint8Array;
}

function snapshot(m: PcMachine): Snapshot {
  return { parts: m.stateParts().map((p) => [p.sectionName, p.saveState()]), ram: m.phys.ram.slice() };
}

function restore(snap: Snapshot, config: PcMachineConfig = {}): Booted {
  const m = new PcMachine(config);
  const out: number[] = [];
  m.onSerialOutput((b) => out.push(b));
  m.phys.ram.set(snap.ram);
  const parts = new Map(m.stateParts().map((p) => [p.sectionName, p]));
  for (const [name, rec] of snap.parts) loadStateful(parts.get(name)!, rec);
  return { m, out };
}

/** Runs until exactly `count` instructions have retired in total. */
function runUntilCount(m: PcMachine, count: number): void {
  while (m.cpu.instructionCount < count) {
    const exit = m.run(count - m.cpu.instructionCount);
    if (exit.reason !== 'limit' && !(exit.reason === 'idle' && exit.waitMs === 0)) throw new Error(`stopped early: ${exit.reason}`);
  }
}

/** Pseudo-random chunk sizes. */
const jitter = (seed: number) => (i: number) => 1 + ((i * 7919 + seed * 104729) % 4093);

describe('PcMachine with a multiboot guest', () => {
  it('boots the hello guest: output matches QEMU except the command line prefix and mem_upper', () => {
    const { m, out } = boot('hello', {}, 'a=1 b=2');
    const exit = runToEnd(m);
    expect(exit.reason).toBe('halted');
    expect(exit.instructions).toBeGreaterThan(100);
    // QEMU puts the kernel's file name before the command line and reserves 512 KiB at the top
    // of RAM for its firmware tables; ferry86 passes the command line as given and all of RAM.
    const qemu = reference('hello.qemu.txt').replace('cmdline: /tmp/hello.bin ', 'cmdline: ').replace('0000fb80', '0000fc00');
    expect(text(out)).toBe(qemu);
  });

  it('the loader builds the multiboot information and hands over in the specified machine state', () => {
    const m = new PcMachine({ memoryMiB: 32 });
    const log = m.phys.createDirtyLog('loader-test');
    const r = loadMultiboot(m, assemble('hello'), 'console=ttyS0');
    expect(r).toMatchObject({ format: 'aout-kludge', loadStart: 0x100000, entry: 0x100020 });
    expect(m.cpu.regs.eax >>> 0).toBe(0x2badb002);
    expect(m.cpu.regs.ebx >>> 0).toBe(r.infoAddress);
    expect(m.cpu.regs.eip >>> 0).toBe(0x100020);
    expect(m.cpu.getEflags() & 0x200).toBe(0);
    const p = m.phys;
    const info = r.infoAddress;
    expect(p.readPhys32(info) & 0x245).toBe(0x245); // mem, cmdline, mmap, loader name
    expect(p.readPhys32(info + 4)).toBe(639);
    expect(p.readPhys32(info + 8)).toBe(31 * 1024);
    const cstr = (addr: number) => { let s = ''; for (let c; (c = p.readPhys8(addr++)) !== 0;) s += String.fromCharCode(c); return s; };
    expect(cstr(p.readPhys32(info + 16))).toBe('console=ttyS0');
    expect(cstr(p.readPhys32(info + 64))).toBe('ferry86');
    const mmap: [number, number, number][] = [];
    const mmapAddr = p.readPhys32(info + 48);
    for (let e = mmapAddr; e < mmapAddr + p.readPhys32(info + 44); e += p.readPhys32(e) + 4) {
      mmap.push([p.readPhys32(e + 4), p.readPhys32(e + 12), p.readPhys32(e + 20)]);
    }
    expect(mmap).toContainEqual([0x100000, 31 * 1048576, 1]);
    expect(mmap[0]).toEqual([0, 0x9fc00, 1]);
    // Loader writes went through the dirty-logging path.
    const dirty = [...log.collect()];
    expect(dirty).toContain(0x100);
    expect(dirty).toContain(info >>> 12);
  });

  it('loads an ELF32 kernel from its program headers', () => {
    const flat = assemble('hello', ['ELF']);
    const bssEnd = new DataView(flat.buffer, flat.byteOffset).getUint32(24, true);
    const elf = new Uint8Array(0x1000 + flat.length);
    const v = new DataView(elf.buffer);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    v.setUint16(16, 2, true); v.setUint16(18, 3, true); v.setUint32(20, 1, true);
    v.setUint32(24, 0x100020, true); v.setUint32(28, 52, true);
    v.setUint16(40, 52, true); v.setUint16(42, 32, true); v.setUint16(44, 1, true);
    v.setUint32(52, 1, true); v.setUint32(56, 0x1000, true);
    v.setUint32(60, 0x100000, true); v.setUint32(64, 0x100000, true);
    v.setUint32(68, flat.length, true); v.setUint32(72, bssEnd - 0x100000, true); v.setUint32(76, 5, true);
    elf.set(flat, 0x1000);
    const m = new PcMachine();
    const out: number[] = [];
    m.onSerialOutput((b) => out.push(b));
    m.phys.writeBytes(0x100000 + flat.length, new Uint8Array(16).fill(0xaa)); // bss must be zeroed
    const r = loadMultiboot(m, elf, 'elf');
    expect(r.format).toBe('elf32');
    expect(runToEnd(m).reason).toBe('halted');
    expect(text(out)).toContain('cmdline: elf\n');
    expect(text(out)).not.toContain('BAD');
  });

  it('timer guest: IRQ0 via PIC, HLT skip-ahead; 20 ticks take 190 ms of guest time', () => {
    const { m, out } = boot('ticks');
    const exit = runToEnd(m);
    expect(exit.reason).toBe('halted');
    expect(text(out)).toMatch(/^ticks:\.{20}\n[0-9a-f]{8}\n$/);
    // The mode 2 control word raises OUT0 at once (the first tick), then one tick every 10 ms;
    // the CPU itself ran for well under 1 ms of that.
    expect(m.clock.nowNs()).toBeGreaterThan(189e6);
    expect(m.clock.nowNs()).toBeLessThan(191e6);
    expect(m.clock.idleNs).toBeGreaterThan(180e6);
  });

  it('is deterministic: the same guest run in different chunkings gives the same instruction count and output', () => {
    const a = boot('ticks');
    runToEnd(a.m);
    for (const seed of [1, 2]) {
      const b = boot('ticks');
      runToEnd(b.m, jitter(seed));
      expect(text(b.out)).toBe(text(a.out));
      expect(b.m.cpu.instructionCount).toBe(a.m.cpu.instructionCount);
      expect(b.m.clock.nowNs()).toBe(a.m.clock.nowNs());
    }
  });

  it('a snapshot taken mid-run restores into a new machine that continues exactly like the original', () => {
    const ref = boot('ticks');
    runToEnd(ref.m);
    const total = ref.m.cpu.instructionCount;
    for (const cut of [37, Math.floor(total / 3), total - 5]) {
      const a = boot('ticks');
      runUntilCount(a.m, cut);
      expect(a.m.cpu.instructionCount).toBe(cut);
      const b = restore(snapshot(a.m));
      const before = a.out.length;
      runToEnd(b.m, jitter(cut));
      expect(text(a.out.slice(0, before)) + text(b.out)).toBe(text(ref.out));
      expect(b.m.cpu.instructionCount).toBe(total);
      expect(b.m.clock.nowNs()).toBe(ref.m.clock.nowNs());
    }
  });

  it('serial input: idle while waiting, stamped on delivery, and a replayed input log reproduces the run', () => {
    const a = boot('echo', { recordInput: true });
    const first = runToEnd(a.m);
    expect(first).toMatchObject({ reason: 'idle', waitMs: Infinity });
    expect(text(a.out)).toBe('>');
    a.m.sendSerialInput('ab.');
    expect(a.m.inputLog).toHaveLength(1);
    expect(a.m.inputLog[0]!.atInstruction).toBe(a.m.cpu.instructionCount);
    expect(runToEnd(a.m).reason).toBe('halted');
    expect(text(a.out)).toMatch(/^>A[a-p]B[a-p]\.[a-p]$/);

    const b = boot('echo');
    for (const e of a.m.inputLog) b.m.sendSerialInput(e.bytes, e.atInstruction, e.atNs);
    expect(runToEnd(b.m, jitter(3)).reason).toBe('halted');
    expect(text(b.out)).toBe(text(a.out));
    expect(b.m.cpu.instructionCount).toBe(a.m.cpu.instructionCount);
    expect(b.m.clock.nowNs()).toBe(a.m.clock.nowNs());
  });

  it('input stamped with a future instruction count enters exactly there', () => {
    const probe = boot('echo');
    runToEnd(probe.m);
    const ready = probe.m.cpu.instructionCount - 3; // the guest has set up COM1 by then
    const a = boot('echo', { recordInput: true });
    a.m.sendSerialInput('x.', ready);
    expect(runToEnd(a.m, jitter(4)).reason).toBe('halted');
    expect(a.m.inputLog.map((e) => e.atInstruction)).toEqual([ready]);
    expect(text(a.out)).toMatch(/^>X[a-p]\.[a-p]$/);
  });

  it('input stamped past the point where the guest waits forever is delivered when it starts waiting', () => {
    const a = boot('echo', { recordInput: true });
    a.m.sendSerialInput('z.', 1e9);
    expect(runToEnd(a.m).reason).toBe('halted');
    expect(text(a.out)).toMatch(/^>Z[a-p]\.[a-p]$/);
    expect(a.m.inputLog[0]!.atInstruction).toBeLessThan(1e9);
  });

  it('pending stamped input travels in a snapshot', () => {
    const a = boot('echo');
    a.m.sendSerialInput('q.', 5000);
    a.m.run(100);
    const b = restore(snapshot(a.m));
    expect(runToEnd(b.m).reason).toBe('halted');
    expect(text(b.out)).toMatch(/^>?Q[a-p]\.[a-p]$/);
  });

  it('reports the instruction limit, a triple fault, and a halt with interrupts off', () => {
    const { m } = boot('ticks');
    expect(m.run(10)).toEqual({ reason: 'limit', instructions: 10 });
    const t = boot('triple');
    expect(runToEnd(t.m).reason).toBe('shutdown');
  });

  it('realtime pacing: sleeps (returns idle with a wait) instead of running guest time ahead of the wall', () => {
    let wall = 0;
    const { m, out } = boot('ticks', { pacing: 'realtime', wallClockMs: () => wall });
    let exit: RunExit;
    let waits = 0;
    for (;;) {
      exit = m.run(1_000_000);
      if (exit.reason === 'idle') {
        expect(exit.waitMs).toBeGreaterThan(0);
        wall += exit.waitMs!;
        waits++;
        continue;
      }
      if (exit.reason === 'limit') continue;
      break;
    }
    expect(exit.reason).toBe('halted');
    expect(text(out)).toMatch(/^ticks:\.{20}\n/);
    expect(waits).toBeGreaterThanOrEqual(20);
    // Guest time and wall time agree to within the pacing slack.
    expect(Math.abs(m.clock.nowNs() / 1e6 - wall)).toBeLessThan(3);
  });

  it('boots a BIOS ROM at F000:FFF0 with the low alias below 1 MiB (output matches QEMU)', () => {
    const m = new PcMachine({ memoryMiB: 16 });
    const out: number[] = [];
    m.onSerialOutput((b) => out.push(b));
    const rom = assemble('rom');
    expect(loadBiosRom(m, rom)).toEqual({ highBase: 0xffff0000, lowBase: 0xf0000 });
    expect(runToEnd(m).reason).toBe('halted');
    expect(text(out)).toBe(reference('rom.qemu.txt'));
    const big = new Uint8Array(256 * 1024).map((_, i) => i >> 12);
    const m2 = new PcMachine({ memoryMiB: 16 });
    loadBiosRom(m2, big);
    expect(m2.phys.readPhys8(0xe0000)).toBe(big[0x20000]);
    expect(m2.phys.readPhys8(0xfffc0000)).toBe(0);
    m2.phys.writePhys8(0xf0000, 0x55); // ROM: writes ignored
    expect(m2.phys.readPhys8(0xf0000)).toBe(big[0x30000]);
  });

  it('lists every stateful part once; each round-trips its own record', () => {
    const { m } = boot('ticks');
    m.run(5000);
    const parts = m.stateParts();
    const names = parts.map((p) => p.sectionName);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['cpu0', 'ram-meta', 'clock', 'pic', 'pit', 'com1', 'debugcon-e9', 'io-bus', 'serial-input', 'run-loop']));
    for (const p of parts) {
      const rec = p.saveState();
      loadStateful(p, rec);
      expect(p.saveState()).toEqual(rec);
    }
    const loop = parts.find((p) => p.sectionName === 'run-loop')!;
    const good = loop.saveState();
    expect(() => loop.loadState({ sliceEnd: -1 })).toThrow(StateError);
    expect(() => loop.loadState({ sliceEnd: 1.5 })).toThrow(StateError);
    expect(loop.saveState()).toEqual(good);
  });

  it('runUntilExit drives the machine from the event loop: input sent while it waits wakes the guest', async () => {
    const { m, out } = boot('echo');
    let idleCalls = 0;
    const exit = await runUntilExit(m, {
      chunk: 500,
      onIdleForever: () => {
        if (idleCalls++ === 0) setTimeout(() => m.sendSerialInput('ok.'), 0);
        return true;
      },
    });
    expect(exit.reason).toBe('halted');
    expect(exit.instructions).toBe(m.cpu.instructionCount);
    expect(text(out)).toMatch(/^>O[a-p]K[a-p]\.[a-p]$/);
    const t = boot('ticks');
    expect((await runUntilExit(t.m, { maxInstructions: 1234, chunk: 100 })).instructions).toBe(1234);
    const stop = new AbortController();
    stop.abort();
    expect((await runUntilExit(t.m, { signal: stop.signal })).reason).toBe('limit');
  });
});
