/**
 * Linux boot loader for the 32-bit boot protocol (Documentation/arch/x86/boot.rst):
 *
 * - a bzImage (protocol 2.02 or later, LOADED_HIGH): the setup header is read from the image, the
 *   protected-mode kernel (everything after the setup sectors) goes to its load address (1 MiB),
 *   and the CPU enters code32_start, where the kernel's own decompressor runs;
 * - an uncompressed ELF32 vmlinux (the fast path): PT_LOAD segments go to their physical
 *   addresses and the CPU enters the physical entry point.
 *
 * Either way the loader builds boot_params (the zero page) with an E820 map of our RAM, puts the
 * command line and the initrd in memory (the initrd as high as the kernel allows), loads a GDT
 * with flat __BOOT_CS (0x10) and __BOOT_DS (0x18), and enters with paging off, interrupts off,
 * ESI = boot_params and EBP = EDI = EBX = 0 — the state boot.rst "32-bit boot protocol" requires.
 * Every byte goes through PhysicalMemory.writeBytes, so dirty logs see the load.
 */
import { x86 } from '@ferry86/cpu';
import type { PcMachine } from './pc-machine.ts';
import { BP, HDRS_MAGIC, LOADFLAG_LOADED_HIGH, buildBootParams } from './linux-boot-params.ts';

/** The image cannot be booted as Linux; the message says why. */
export class LinuxBootError extends Error {
  override readonly name = 'LinuxBootError';
}

export interface LinuxBootOptions {
  cmdline?: string;
  initrd?: Uint8Array;
}

export interface LinuxBootResult {
  format: 'bzImage' | 'vmlinux';
  /** Boot protocol version of a bzImage (e.g. 0x020f), or the one claimed for a vmlinux. */
  protocol: number;
  entry: number;
  /** Physical range the kernel was loaded to. */
  kernelStart: number;
  kernelEnd: number;
  bootParams: number;
  cmdline: number;
  initrdStart: number;
  initrdSize: number;
  /** The kernel's version string from a bzImage header, if it has one. */
  kernelVersion: string;
}

const MiB = 0x100000;
// Low-memory layout used by the loader (all below the 640 KiB the E820 map reports as RAM).
const GDT_ADDR = 0x6000;
const BOOT_PARAMS_ADDR = 0x7000;
const CMDLINE_ADDR = 0x8000;
/** Room for the command line: up to the start of the conventional memory hole, minus margin. */
const CMDLINE_MAX_ROOM = 0x10000;
const BOOT_CS = 0x10;
const BOOT_DS = 0x18;
/** Protocols before 2.03 do not state initrd_addr_max; boot.rst says to assume this. */
const DEFAULT_INITRD_ADDR_MAX = 0x37ffffff;
const PROTOCOL_MIN = 0x0202;

/** Loads a bzImage or an ELF32 vmlinux and sets the CPU up to enter it. */
export function loadLinux(machine: PcMachine, image: Uint8Array, opts: LinuxBootOptions = {}): LinuxBootResult {
  if (image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46) {
    return loadVmlinux(machine, image, opts);
  }
  return loadBzImage(machine, image, opts);
}

/** The bzImage path. */
export function loadBzImage(machine: PcMachine, image: Uint8Array, opts: LinuxBootOptions = {}): LinuxBootResult {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 0x264) throw new LinuxBootError(`the image is ${image.length} bytes, too short for a Linux setup header`);
  if (v.getUint32(BP.header, true) !== HDRS_MAGIC) {
    throw new LinuxBootError('no "HdrS" signature at offset 0x202: not a bzImage (or a kernel older than boot protocol 2.00)');
  }
  if (v.getUint16(BP.bootFlag, true) !== 0xaa55) throw new LinuxBootError('boot_flag at 0x1FE is not 0xAA55');
  const protocol = v.getUint16(BP.version, true);
  if (protocol < PROTOCOL_MIN) {
    throw new LinuxBootError(`boot protocol ${fmtProtocol(protocol)} is too old: this loader needs 2.02 or later`);
  }
  const loadflags = v.getUint8(BP.loadflags);
  if ((loadflags & LOADFLAG_LOADED_HIGH) === 0) {
    throw new LinuxBootError('the kernel is a zImage (loaded low, at 0x10000); only bzImage kernels are supported');
  }
  const setupSects = v.getUint8(BP.setupSects) || 4;
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= image.length) {
    throw new LinuxBootError(`setup_sects ${setupSects} puts the protected-mode kernel past the end of the ${image.length}-byte image`);
  }
  // The header runs from 0x1F1 to 0x202 + the jump's 8-bit displacement (boot.rst).
  const headerEnd = Math.min(0x202 + v.getUint8(BP.jump + 1), kernelOffset);
  const header = image.slice(BP.setupSects, headerEnd);
  const kernel = image.subarray(kernelOffset);
  const ram = machine.phys.ramSize;
  const loadAddr = v.getUint32(BP.code32Start, true) || MiB;
  // The kernel decompresses into [max(load, pref_address), + init_size) (protocol 2.10+), and
  // the initrd must stay out of that.
  let kernelEnd = loadAddr + kernel.length;
  if (protocol >= 0x020a) {
    const pref = Number(v.getBigUint64(BP.prefAddress, true));
    const initSize = v.getUint32(BP.initSize, true);
    const decompressAt = Math.max(loadAddr, pref < 0x100000000 ? pref : 0);
    kernelEnd = Math.max(kernelEnd, decompressAt + initSize);
  }
  if (loadAddr + kernel.length > ram || kernelEnd > ram) {
    throw new LinuxBootError(`the kernel needs RAM up to 0x${kernelEnd.toString(16)} (${Math.ceil(kernelEnd / MiB)} MiB); the machine has ${ram / MiB} MiB`);
  }
  const cmdlineMax = protocol >= 0x0206 ? v.getUint32(BP.cmdlineSize, true) : 255;
  const initrdMax = protocol >= 0x0203 ? v.getUint32(BP.initrdAddrMax, true) : DEFAULT_INITRD_ADDR_MAX;
  const kernelVersion = readKernelVersion(image, v, kernelOffset);

  machine.phys.writeBytes(loadAddr, kernel);
  const r = finishBoot(machine, header, protocol, opts, cmdlineMax, initrdMax, kernelEnd, loadAddr);
  return { format: 'bzImage', protocol, entry: loadAddr, kernelStart: loadAddr, kernelEnd: loadAddr + kernel.length, ...r, kernelVersion };
}

/** The vmlinux (ELF32) path. */
export function loadVmlinux(machine: PcMachine, image: Uint8Array, opts: LinuxBootOptions = {}): LinuxBootResult {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 52 || v.getUint32(0, false) !== 0x7f454c46) throw new LinuxBootError('not an ELF file');
  if (v.getUint8(4) !== 1 || v.getUint8(5) !== 1) throw new LinuxBootError('the ELF image is not 32-bit little-endian (a 64-bit vmlinux cannot boot on an i686)');
  if (v.getUint16(16, true) !== 2) throw new LinuxBootError('the ELF image is not an executable (e_type != ET_EXEC)');
  if (v.getUint16(18, true) !== 3) throw new LinuxBootError('the ELF image is not for i386 (e_machine != EM_386)');
  const entry = v.getUint32(24, true);
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > image.length) throw new LinuxBootError('the ELF program header table is outside the file');
  const ram = machine.phys.ramSize;
  const segs: { paddr: number; off: number; filesz: number; memsz: number }[] = [];
  let physEntry = -1;
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (v.getUint32(p, true) !== 1) continue; // PT_LOAD
    const off = v.getUint32(p + 4, true);
    const vaddr = v.getUint32(p + 8, true);
    const paddr = v.getUint32(p + 12, true);
    const filesz = v.getUint32(p + 16, true);
    const memsz = v.getUint32(p + 20, true);
    if (filesz > memsz) throw new LinuxBootError(`ELF segment ${i} has p_filesz > p_memsz`);
    if (off + filesz > image.length) throw new LinuxBootError(`ELF segment ${i} extends past the end of the file`);
    if (memsz === 0) continue;
    if (paddr + memsz > ram) {
      throw new LinuxBootError(`ELF segment ${i} loads at 0x${paddr.toString(16)}-0x${(paddr + memsz).toString(16)}, beyond the ${ram / MiB} MiB of RAM`);
    }
    segs.push({ paddr, off, filesz, memsz });
    lo = Math.min(lo, paddr);
    hi = Math.max(hi, paddr + memsz);
    // e_entry may be virtual (PAGE_OFFSET-linked) or already physical; find the segment.
    if (entry >= paddr && entry < paddr + memsz) physEntry = entry;
    else if (physEntry < 0 && entry >= vaddr && entry < vaddr + memsz) physEntry = entry - vaddr + paddr;
  }
  if (segs.length === 0) throw new LinuxBootError('the ELF image has nothing to load');
  if (physEntry < 0) throw new LinuxBootError(`the ELF entry point 0x${entry.toString(16)} is in no loaded segment`);
  if (lo < MiB) throw new LinuxBootError(`the ELF image loads at 0x${lo.toString(16)}, below 1 MiB where the loader keeps boot_params`);
  for (const s of segs) {
    machine.phys.writeBytes(s.paddr, image.subarray(s.off, s.off + s.filesz));
    if (s.memsz > s.filesz) machine.phys.writeBytes(s.paddr + s.filesz, new Uint8Array(s.memsz - s.filesz));
  }
  const protocol = 0x020f;
  const r = finishBoot(machine, null, protocol, opts, 2048, 0x7fffffff, hi, physEntry);
  return { format: 'vmlinux', protocol, entry: physEntry, kernelStart: lo, kernelEnd: hi, ...r, kernelVersion: '' };
}

/** Command line, initrd, zero page, GDT and CPU state: common to both paths. */
function finishBoot(
  machine: PcMachine, header: Uint8Array | null, protocol: number, opts: LinuxBootOptions,
  cmdlineMax: number, initrdMax: number, kernelEnd: number, entry: number,
): { bootParams: number; cmdline: number; initrdStart: number; initrdSize: number } {
  const phys = machine.phys;
  const ram = phys.ramSize;
  const cmd = new TextEncoder().encode(opts.cmdline ?? '');
  if (cmd.length > cmdlineMax || cmd.length + 1 > CMDLINE_MAX_ROOM) {
    throw new LinuxBootError(`the command line is ${cmd.length} bytes; this kernel accepts at most ${Math.min(cmdlineMax, CMDLINE_MAX_ROOM - 1)}`);
  }
  const cmdz = new Uint8Array(cmd.length + 1);
  cmdz.set(cmd);
  phys.writeBytes(CMDLINE_ADDR, cmdz);

  let initrdStart = 0;
  const initrd = opts.initrd;
  const initrdSize = initrd?.length ?? 0;
  if (initrd !== undefined && initrd.length > 0) {
    // As high as possible, page-aligned, ending at or below initrd_addr_max (inclusive address).
    const top = Math.min(ram, initrdMax + 1);
    initrdStart = Math.floor((top - initrd.length) / 4096) * 4096;
    if (initrdStart < kernelEnd) {
      throw new LinuxBootError(
        `no room for the ${initrd.length}-byte initrd between the kernel (ends 0x${kernelEnd.toString(16)}) and 0x${top.toString(16)}: give the machine more RAM`,
      );
    }
    phys.writeBytes(initrdStart, initrd);
  }

  const bp = buildBootParams({
    setupHeader: header, ramBytes: ram, cmdLinePtr: CMDLINE_ADDR, ramdiskImage: initrdStart, ramdiskSize: initrdSize, version: protocol,
  });
  phys.writeBytes(BOOT_PARAMS_ADDR, bp);

  // GDT: null, null, __BOOT_CS (0x10) flat 4 GiB code, __BOOT_DS (0x18) flat 4 GiB data.
  const gdt = new Uint8Array(32);
  const gv = new DataView(gdt.buffer);
  gv.setBigUint64(0x10, 0x00cf9b000000ffffn, true);
  gv.setBigUint64(0x18, 0x00cf93000000ffffn, true);
  phys.writeBytes(GDT_ADDR, gdt);

  phys.setA20(true);
  const cpu = machine.cpu;
  cpu.enterFlatProtectedMode(entry);
  cpu.gdtrBase = GDT_ADDR;
  cpu.gdtrLimit = gdt.length - 1;
  const flat = 0xffffffff;
  const big = x86.ATTR_DB | x86.ATTR_G;
  for (let s = 0; s < 6; s++) {
    if (s === x86.CS) cpu.setSegCache(s, BOOT_CS, 0, flat, 0x9b | big);
    else cpu.setSegCache(s, BOOT_DS, 0, flat, 0x93 | big);
  }
  const regs = cpu.regs;
  regs.esi = BOOT_PARAMS_ADDR;
  regs.eax = 0;
  regs.ebx = 0;
  regs.ecx = 0;
  regs.edx = 0;
  regs.ebp = 0;
  regs.edi = 0;
  regs.esp = 0;
  return { bootParams: BOOT_PARAMS_ADDR, cmdline: CMDLINE_ADDR, initrdStart, initrdSize };
}

/** kernel_version (protocol 2.00+): a pointer - 0x200 into the setup code to a C string. */
function readKernelVersion(image: Uint8Array, v: DataView, kernelOffset: number): string {
  const p = v.getUint16(0x20e, true);
  if (p === 0) return '';
  const at = p + 0x200;
  if (at >= kernelOffset) return '';
  let end = at;
  while (end < kernelOffset && end - at < 256 && image[end] !== 0) end++;
  return new TextDecoder('latin1').decode(image.subarray(at, end));
}

function fmtProtocol(p: number): string {
  return `${p >> 8}.${(p & 0xff).toString().padStart(2, '0')}`;
}
