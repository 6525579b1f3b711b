/**
 * Multiboot (version 0.6.96) kernel loader: finds the header in the first 8 KiB, loads the image
 * either from the header's address fields (flags bit 16, the "a.out kludge") or from its ELF32
 * program headers, builds the multiboot information structure (memory sizes, command line,
 * BIOS-style memory map, boot loader name) in low memory, and puts the CPU in the state §3.2
 * of the specification describes: EAX = 0x2BADB002, EBX = the info structure, flat protected
 * mode, paging off, interrupts off, A20 on.
 *
 * Every byte is written with PhysicalMemory.writeBytes, so active dirty logs see the load.
 */
import type { PcMachine } from './pc-machine.ts';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
const SEARCH_LIMIT = 8192;
/** Header flag bits 0-15 are requirements; a loader must refuse ones it does not know. */
const KNOWN_REQUIRED_FLAGS = 0x0007;
const FLAG_ADDRESS_FIELDS = 1 << 16;

// Info structure flags (spec §3.3).
const INFO_MEMORY = 1 << 0;
const INFO_CMDLINE = 1 << 2;
const INFO_MODS = 1 << 3;
const INFO_MMAP = 1 << 6;
const INFO_LOADER_NAME = 1 << 9;
const INFO_SIZE = 120;

/** Conventional memory ends where a PC's extended BIOS data area would start. */
const LOW_MEMORY_END = 0x9fc00;
/** Preferred place for the info structure, command line and memory map. */
const INFO_AREA = 0x10000;

/** The image cannot be loaded as a multiboot kernel; the message says why. */
export class MultibootError extends Error {
  override readonly name = 'MultibootError';
}

export interface MultibootLoadResult {
  entry: number;
  /** Physical range written from the image, and the end of its zeroed bss. */
  loadStart: number;
  loadEnd: number;
  bssEnd: number;
  /** Physical address of the multiboot information structure (EBX). */
  infoAddress: number;
  /** How the image was loaded. */
  format: 'aout-kludge' | 'elf32';
}

interface Segment {
  dest: number;
  fileOffset: number;
  fileSize: number;
  memSize: number;
}

interface Layout {
  format: MultibootLoadResult['format'];
  entry: number;
  segments: Segment[];
}

/** Loads `image` into `machine` as a multiboot kernel and sets the CPU up to enter it. */
export function loadMultiboot(machine: PcMachine, image: Uint8Array, cmdline = ''): MultibootLoadResult {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const headerOffset = findHeader(view);
  const flags = view.getUint32(headerOffset + 4, true);
  const unknown = flags & 0xffff & ~KNOWN_REQUIRED_FLAGS;
  if (unknown !== 0) {
    throw new MultibootError(`the kernel requires multiboot features this loader does not know (header flags 0x${unknown.toString(16)})`);
  }
  const layout = (flags & FLAG_ADDRESS_FIELDS) !== 0 ? aoutLayout(view, headerOffset) : elfLayout(view);
  const ram = machine.phys.ramSize;
  let lo = Infinity;
  let loadEnd = 0;
  let bssEnd = 0;
  for (const s of layout.segments) {
    if (s.dest + s.memSize > ram) {
      throw new MultibootError(`the kernel loads at 0x${s.dest.toString(16)}-0x${(s.dest + s.memSize).toString(16)}, beyond the ${ram / 1048576} MiB of RAM`);
    }
    lo = Math.min(lo, s.dest);
    loadEnd = Math.max(loadEnd, s.dest + s.fileSize);
    bssEnd = Math.max(bssEnd, s.dest + s.memSize);
  }
  if (layout.segments.length === 0) throw new MultibootError('the kernel has nothing to load');

  const phys = machine.phys;
  for (const s of layout.segments) {
    phys.writeBytes(s.dest, image.subarray(s.fileOffset, s.fileOffset + s.fileSize));
    if (s.memSize > s.fileSize) phys.writeBytes(s.dest + s.fileSize, new Uint8Array(s.memSize - s.fileSize));
  }

  const infoAddress = writeInfo(machine, cmdline, lo, bssEnd);
  phys.setA20(true);
  const cpu = machine.cpu;
  cpu.enterFlatProtectedMode(layout.entry);
  cpu.regs.eax = MULTIBOOT_BOOTLOADER_MAGIC;
  cpu.regs.ebx = infoAddress;
  return { entry: layout.entry, loadStart: lo, loadEnd, bssEnd, infoAddress, format: layout.format };
}

function findHeader(view: DataView): number {
  const end = Math.min(SEARCH_LIMIT, view.byteLength) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (view.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    const checksum = view.getUint32(off + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) === 0) return off;
  }
  throw new MultibootError('no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB of the image');
}

/** Header address fields (spec §3.1.3): the file from header_addr's offset maps to load_addr. */
function aoutLayout(view: DataView, h: number): Layout {
  if (h + 32 > view.byteLength) throw new MultibootError('the multiboot header is cut short: its address fields are missing');
  const headerAddr = view.getUint32(h + 12, true);
  const loadAddr = view.getUint32(h + 16, true);
  const loadEndAddr = view.getUint32(h + 20, true);
  const bssEndAddr = view.getUint32(h + 24, true);
  const entry = view.getUint32(h + 28, true);
  if (headerAddr < loadAddr || headerAddr - loadAddr > h) {
    throw new MultibootError(`header_addr 0x${headerAddr.toString(16)} and load_addr 0x${loadAddr.toString(16)} put the load start before the file`);
  }
  const fileOffset = h - (headerAddr - loadAddr);
  const fileSize = loadEndAddr === 0 ? view.byteLength - fileOffset : loadEndAddr - loadAddr;
  if (loadEndAddr !== 0 && loadEndAddr < loadAddr) throw new MultibootError('load_end_addr is below load_addr');
  if (fileOffset + fileSize > view.byteLength) {
    throw new MultibootError(`load_end_addr 0x${loadEndAddr.toString(16)} asks for ${fileOffset + fileSize - view.byteLength} bytes more than the file has`);
  }
  const end = loadAddr + fileSize;
  if (bssEndAddr !== 0 && bssEndAddr < end) throw new MultibootError('bss_end_addr is below load_end_addr');
  const memSize = (bssEndAddr === 0 ? end : bssEndAddr) - loadAddr;
  return { format: 'aout-kludge', entry, segments: [{ dest: loadAddr, fileOffset, fileSize, memSize }] };
}

/** ELF32 executable for i386: PT_LOAD segments go to their physical addresses. */
function elfLayout(view: DataView): Layout {
  if (view.byteLength < 52 || view.getUint32(0, false) !== 0x7f454c46) {
    throw new MultibootError('the header has no address fields (flags bit 16) and the image is not ELF');
  }
  if (view.getUint8(4) !== 1 || view.getUint8(5) !== 1) throw new MultibootError('the ELF image is not 32-bit little-endian');
  if (view.getUint16(16, true) !== 2) throw new MultibootError('the ELF image is not an executable (e_type != ET_EXEC)');
  if (view.getUint16(18, true) !== 3) throw new MultibootError('the ELF image is not for i386 (e_machine != EM_386)');
  const entry = view.getUint32(24, true);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > view.byteLength) throw new MultibootError('the ELF program header table is outside the file');
  const segments: Segment[] = [];
  let physEntry = entry;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (view.getUint32(p, true) !== 1) continue; // PT_LOAD only
    const fileOffset = view.getUint32(p + 4, true);
    const vaddr = view.getUint32(p + 8, true);
    const paddr = view.getUint32(p + 12, true);
    const fileSize = view.getUint32(p + 16, true);
    const memSize = view.getUint32(p + 20, true);
    if (fileSize > memSize) throw new MultibootError(`ELF segment ${i} has p_filesz > p_memsz`);
    if (fileOffset + fileSize > view.byteLength) throw new MultibootError(`ELF segment ${i} extends past the end of the file`);
    if (memSize === 0) continue;
    segments.push({ dest: paddr, fileOffset, fileSize, memSize });
    // A kernel linked at a virtual address but loaded lower (AT()) has a virtual e_entry.
    if (vaddr !== paddr && entry >= vaddr && entry - vaddr < memSize) physEntry = entry - vaddr + paddr;
  }
  return { format: 'elf32', entry: physEntry >>> 0, segments };
}

/** Builds the information structure, command line, loader name and memory map; returns its address. */
function writeInfo(machine: PcMachine, cmdline: string, kernelStart: number, kernelEnd: number): number {
  const enc = new TextEncoder();
  const cmd = enc.encode(cmdline + '\0');
  const name = enc.encode('ferry86\0');
  const ram = machine.phys.ramSize;
  const map: [number, number, number][] = [
    [0, LOW_MEMORY_END, 1],
    [LOW_MEMORY_END, 0xa0000 - LOW_MEMORY_END, 2],
    [0xf0000, 0x10000, 2],
    [0x100000, ram - 0x100000, 1],
  ];
  const mmapSize = map.length * 24;
  const size = INFO_SIZE + align4(cmd.length) + align4(name.length) + mmapSize;
  let base = INFO_AREA;
  if (base < kernelEnd && kernelStart < base + size) base = align4k(kernelEnd);
  if (base + size > ram) throw new MultibootError('no room for the multiboot information after the kernel');

  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  const cmdAddr = base + INFO_SIZE;
  const nameAddr = cmdAddr + align4(cmd.length);
  const mmapAddr = nameAddr + align4(name.length);
  v.setUint32(0, INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MMAP | INFO_LOADER_NAME, true);
  v.setUint32(4, LOW_MEMORY_END / 1024, true); // mem_lower, KiB from 0
  v.setUint32(8, (ram - 0x100000) / 1024, true); // mem_upper, KiB from 1 MiB to the first hole
  v.setUint32(16, cmdAddr, true);
  v.setUint32(20, 0, true); // mods_count
  v.setUint32(24, 0, true); // mods_addr: no modules
  v.setUint32(44, mmapSize, true);
  v.setUint32(48, mmapAddr, true);
  v.setUint32(64, nameAddr, true);
  buf.set(cmd, INFO_SIZE);
  buf.set(name, nameAddr - base);
  let e = mmapAddr - base;
  for (const [start, length, type] of map) {
    v.setUint32(e, 20, true); // size of the entry, not counting this field
    v.setBigUint64(e + 4, BigInt(start), true);
    v.setBigUint64(e + 12, BigInt(length), true);
    v.setUint32(e + 20, type, true);
    e += 24;
  }
  machine.phys.writeBytes(base, buf);
  return base;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function align4k(n: number): number {
  return Math.ceil(n / 4096) * 4096;
}
