import { describe, expect, it } from 'vitest';
import { LinuxBootError, loadLinux, loadBzImage, loadVmlinux } from '../src/linux-boot.ts';
import { BP, E820_RAM, E820_RESERVED } from '../src/linux-boot-params.ts';
import { PcMachine } from '../src/pc-machine.ts';
import { assemble } from './guests.ts';

const MiB = 1048576;

function machine(memoryMiB = 32): { m: PcMachine; con: number[] } {
  const con: number[] = [];
  const m = new PcMachine({ memoryMiB, debugcon: [{ port: 0xe9, sink: (b) => con.push(b) }] });
  return { m, con };
}

function runToHalt(m: PcMachine): string {
  const exit = m.run(1_000_000);
  return exit.reason;
}

const text = (b: number[]) => String.fromCharCode(...b);

/** Wraps 32-bit code in an ELF32 executable with one PT_LOAD segment. */
function elf(code: Uint8Array, paddr: number, vaddr: number, entry: number, opts: { cls?: number; machine?: number; bss?: number } = {}): Uint8Array {
  const off = 0x100;
  const out = new Uint8Array(off + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, opts.machine ?? 3, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, entry, true);
  v.setUint32(28, 52, true); // phoff
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint32(52, 1, true); // PT_LOAD
  v.setUint32(56, off, true);
  v.setUint32(60, vaddr, true);
  v.setUint32(64, paddr, true);
  v.setUint32(68, code.length, true);
  v.setUint32(72, code.length + (opts.bss ?? 0), true);
  out.set(code, off);
  return out;
}

describe('Linux 32-bit boot protocol: bzImage', () => {
  it('loads the protected-mode kernel at 1 MiB and enters it in the state boot.rst requires', () => {
    const { m, con } = machine();
    const image = assemble('linux-stub');
    const initrd = new TextEncoder().encode('INITRD-DATA');
    const r = loadLinux(m, image, { cmdline: 'console=ttyS0 quiet', initrd });
    expect(r.format).toBe('bzImage');
    expect(r.protocol).toBe(0x020f);
    expect(r.entry).toBe(0x100000);
    expect(r.kernelVersion).toBe('ferry86-stub 1.0');
    // The protected-mode part (file offset 1024) is at 1 MiB.
    expect(m.phys.readBytes(0x100000, 16)).toEqual(image.subarray(1024, 1040));
    expect(runToHalt(m)).toBe('halted');
    expect(text(con)).toBe('console=ttyS0 quiet|INITRD-DATA|4');
  });

  it('puts the initrd as high as RAM and initrd_addr_max allow, page-aligned, and fills boot_params', () => {
    const { m } = machine(32);
    const initrd = new Uint8Array(10000).fill(7);
    const r = loadBzImage(m, assemble('linux-stub'), { cmdline: 'x', initrd });
    expect(r.initrdStart % 4096).toBe(0);
    expect(r.initrdStart + initrd.length).toBeLessThanOrEqual(32 * MiB);
    expect(32 * MiB - (r.initrdStart + initrd.length)).toBeLessThan(4096);
    const bp = new DataView(m.phys.readBytes(r.bootParams, 4096).buffer);
    expect(bp.getUint8(BP.typeOfLoader)).toBe(0xff);
    expect(bp.getUint32(BP.ramdiskImage, true)).toBe(r.initrdStart);
    expect(bp.getUint32(BP.ramdiskSize, true)).toBe(10000);
    expect(bp.getUint32(BP.cmdLinePtr, true)).toBe(r.cmdline);
    expect(bp.getUint16(BP.version, true)).toBe(0x020f);
    expect(bp.getUint32(BP.altMemK, true)).toBe(31 * 1024);
    // E820: conventional RAM, the EBDA and BIOS holes, RAM from 1 MiB to the end.
    const n = bp.getUint8(BP.e820Entries);
    const map = Array.from({ length: n }, (_, i) => ({
      addr: Number(bp.getBigUint64(BP.e820Table + i * 20, true)),
      size: Number(bp.getBigUint64(BP.e820Table + i * 20 + 8, true)),
      type: bp.getUint32(BP.e820Table + i * 20 + 16, true),
    }));
    expect(map).toEqual([
      { addr: 0, size: 0x9fc00, type: E820_RAM },
      { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
      { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
      { addr: 0x100000, size: 31 * MiB, type: E820_RAM },
    ]);
  });

  it('keeps the initrd below initrd_addr_max', () => {
    const { m, con } = machine(32);
    const image = assemble('linux-stub', ['INITRD_MAX=0x00ffffff']);
    const r = loadBzImage(m, image, { initrd: new TextEncoder().encode('abc') });
    expect(r.initrdStart + 3).toBeLessThanOrEqual(0x1000000);
    expect(r.initrdStart).toBe(0x1000000 - 4096);
    expect(runToHalt(m)).toBe('halted');
    expect(text(con)).toBe('|abc|4');
  });

  it('refuses images it cannot boot, with the reason', () => {
    const { m } = machine(32);
    const good = assemble('linux-stub');
    const bad = (patch: (v: DataView, b: Uint8Array) => void): Uint8Array => {
      const b = good.slice();
      patch(new DataView(b.buffer), b);
      return b;
    };
    expect(() => loadBzImage(m, new Uint8Array(100))).toThrow(LinuxBootError);
    expect(() => loadBzImage(m, bad((v) => v.setUint32(0x202, 0, true)))).toThrow(/HdrS/);
    expect(() => loadBzImage(m, bad((v) => v.setUint16(0x206, 0x0201, true)))).toThrow(/2\.01 is too old/);
    expect(() => loadBzImage(m, bad((v) => v.setUint8(0x211, 0)))).toThrow(/zImage/);
    expect(() => loadBzImage(m, bad((v) => v.setUint32(0x260, 64 * MiB, true)))).toThrow(/needs RAM up to/);
    expect(() => loadBzImage(m, good, { cmdline: 'x'.repeat(2048) })).toThrow(/at most 2047/);
    expect(() => loadBzImage(m, good, { initrd: new Uint8Array(31 * MiB) })).toThrow(/no room for the .*initrd/);
  });
});

describe('Linux 32-bit boot protocol: ELF vmlinux', () => {
  const code = () => assemble('linux-stub', ['ELF_CODE']);

  it('loads PT_LOAD segments at their physical addresses and enters the physical entry point', () => {
    const { m, con } = machine(32);
    // As Linux links it: virtual 0xC1000000 (PAGE_OFFSET + 16 MiB), physical 16 MiB, e_entry physical.
    const image = elf(code(), 0x1000000, 0xc1000000, 0x1000000, { bss: 0x3000 });
    const r = loadLinux(m, image, { cmdline: 'root=/dev/ram0', initrd: new TextEncoder().encode('RD') });
    expect(r.format).toBe('vmlinux');
    expect(r.entry).toBe(0x1000000);
    expect(r.kernelEnd).toBe(0x1000000 + code().length + 0x3000);
    expect(r.initrdStart).toBeGreaterThanOrEqual(r.kernelEnd);
    expect(runToHalt(m)).toBe('halted');
    expect(text(con)).toBe('root=/dev/ram0|RD|4');
  });

  it('translates a virtual e_entry to its physical address', () => {
    const { m, con } = machine(32);
    const r = loadVmlinux(m, elf(code(), 0x200000, 0xc0200000, 0xc0200000), { cmdline: 'v' });
    expect(r.entry).toBe(0x200000);
    expect(runToHalt(m)).toBe('halted');
    expect(text(con)).toBe('v||4');
  });

  it('refuses ELF images that are not i386 executables that fit', () => {
    const { m } = machine(32);
    expect(() => loadVmlinux(m, elf(code(), 0x200000, 0x200000, 0x200000, { cls: 2 }))).toThrow(/32-bit/);
    expect(() => loadVmlinux(m, elf(code(), 0x200000, 0x200000, 0x200000, { machine: 62 }))).toThrow(/i386/);
    expect(() => loadVmlinux(m, elf(code(), 0x4000000, 0x4000000, 0x4000000))).toThrow(/beyond the 32 MiB/);
    expect(() => loadVmlinux(m, elf(code(), 0x200000, 0x200000, 0x900000))).toThrow(/entry point .* in no loaded segment/);
  });
});
