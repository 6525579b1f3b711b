import { describe, expect, it } from 'vitest';
import { PcMachine } from '../src/pc-machine.ts';
import { MultibootError, loadMultiboot } from '../src/multiboot.ts';
import { BiosRomError, loadBiosRom } from '../src/bios-rom.ts';

const MAGIC = 0x1badb002;

/** A flat image with a multiboot header at `at` (flags, optional address fields) and some code. */
function image(opts: { at?: number; flags?: number; fields?: number[]; size?: number; checksum?: number }) {
  const at = opts.at ?? 0;
  const img = new Uint8Array(opts.size ?? at + 64);
  const v = new DataView(img.buffer);
  const flags = opts.flags ?? 0x10000;
  v.setUint32(at, MAGIC, true);
  v.setUint32(at + 4, flags, true);
  v.setUint32(at + 8, opts.checksum ?? (-(MAGIC + flags)) >>> 0, true);
  (opts.fields ?? []).forEach((f, i) => v.setUint32(at + 12 + 4 * i, f, true));
  return img;
}

/** A minimal ELF32 i386 executable: one PT_LOAD at paddr with the given vaddr. */
function elf(opts: { entry: number; vaddr: number; paddr: number; memsz?: number; machine?: number }) {
  const img = new Uint8Array(0x1100);
  const v = new DataView(img.buffer);
  img.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); v.setUint16(18, opts.machine ?? 3, true);
  v.setUint32(24, opts.entry, true); v.setUint32(28, 52, true);
  v.setUint16(42, 32, true); v.setUint16(44, 1, true);
  v.setUint32(52, 1, true); v.setUint32(56, 0x1000, true);
  v.setUint32(60, opts.vaddr, true); v.setUint32(64, opts.paddr, true);
  v.setUint32(68, 0x100, true); v.setUint32(72, opts.memsz ?? 0x2000, true);
  // multiboot header (ELF mode: no address fields) inside the first 8 KiB
  v.setUint32(0x1000, MAGIC, true); v.setUint32(0x1004, 0, true); v.setUint32(0x1008, (-MAGIC) >>> 0, true);
  img[0x10ff] = 0xc3;
  return img;
}

describe('loadMultiboot', () => {
  const m = () => new PcMachine({ memoryMiB: 8 });

  it('finds a header anywhere 4-aligned in the first 8 KiB and maps file offsets through the address fields', () => {
    // header at file offset 0x800 describes load_addr 0x200000 = file offset 0 (header_addr - load_addr = 0x800)
    const img = image({ at: 0x800, fields: [0x200800, 0x200000, 0x200900, 0x204000, 0x200840], size: 0x900 });
    img[0x10] = 0x5a;
    img[0x8ff] = 0xa5;
    const machine = m();
    machine.phys.writeBytes(0x200900, new Uint8Array([1, 2, 3]));
    const r = loadMultiboot(machine, img);
    expect(r).toMatchObject({ format: 'aout-kludge', entry: 0x200840, loadStart: 0x200000, loadEnd: 0x200900, bssEnd: 0x204000 });
    expect(machine.phys.readPhys8(0x200010)).toBe(0x5a);
    expect(machine.phys.readPhys8(0x2008ff)).toBe(0xa5);
    expect(machine.phys.readPhys8(0x200900)).toBe(0); // bss zeroed
    expect(machine.cpu.regs.eip).toBe(0x200840);
  });

  it('load_end_addr 0 loads to the end of the file; bss_end_addr 0 means no bss', () => {
    const img = image({ fields: [0x100000, 0x100000, 0, 0, 0x100020], size: 0x3000 });
    img[0x2fff] = 0x77;
    const r = loadMultiboot(m(), img);
    expect(r).toMatchObject({ loadEnd: 0x103000, bssEnd: 0x103000 });
  });

  it('puts the information structure after the kernel when the kernel covers the usual place', () => {
    const img = image({ fields: [0x8000, 0x8000, 0, 0x30000, 0x8020], size: 0x100 });
    const r = loadMultiboot(m(), img);
    expect(r.infoAddress).toBe(0x30000);
  });

  it('ELF: loads PT_LOAD at its physical address and translates a virtual entry point', () => {
    const machine = m();
    const r = loadMultiboot(machine, elf({ entry: 0xc0100010, vaddr: 0xc0100000, paddr: 0x100000 }));
    expect(r).toMatchObject({ format: 'elf32', entry: 0x100010, loadStart: 0x100000, bssEnd: 0x102000 });
    expect(machine.phys.readPhys8(0x1000ff)).toBe(0xc3);
  });

  it.each([
    ['no header', new Uint8Array(9000), /no multiboot header/],
    ['a header past 8 KiB', image({ at: 8192, size: 8300 }), /no multiboot header/],
    ['a bad checksum', image({ checksum: 1 }), /no multiboot header/],
    ['an unknown required feature', image({ flags: 0x10010, fields: [0x100000, 0x100000, 0, 0, 0x100000] }), /features this loader does not know \(header flags 0x10\)/],
    ['a kernel beyond RAM', image({ fields: [0x100000, 0x100000, 0, 0x10000000, 0x100000] }), /beyond the 8 MiB of RAM/],
    ['load_end past the file', image({ fields: [0x100000, 0x100000, 0x200000, 0, 0x100000] }), /more than the file has/],
    ['a load address after the header', image({ fields: [0x100000, 0x100010, 0, 0, 0x100010] }), /before the file/],
    ['neither address fields nor ELF', image({ flags: 0 }), /not ELF/],
    ['an ELF for another machine', elf({ entry: 0, vaddr: 0x100000, paddr: 0x100000, machine: 62 }), /not for i386/],
  ])('refuses %s', (_what, img, message) => {
    expect(() => loadMultiboot(m(), img)).toThrow(MultibootError);
    expect(() => loadMultiboot(m(), img)).toThrow(message);
  });
});

describe('loadBiosRom', () => {
  it('refuses images that are not whole pages', () => {
    expect(() => loadBiosRom(new PcMachine({ memoryMiB: 4 }), new Uint8Array(1000))).toThrow(BiosRomError);
  });
});
