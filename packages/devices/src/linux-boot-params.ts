/**
 * The Linux/x86 "zero page" (struct boot_params, Documentation/arch/x86/zero-page.rst and
 * boot.rst) as a boot loader fills it for the 32-bit boot protocol: the kernel's setup header
 * copied at 0x1F1 with the loader's fields set, the BIOS memory map the kernel would otherwise
 * ask INT 15h/E820 for, and the older memory-size fields.
 */

/** Offsets inside boot_params. */
export const BP = {
  extMemK: 0x002, // screen_info.ext_mem_k (u16)
  altMemK: 0x1e0, // u32
  e820Entries: 0x1e8, // u8
  setupSects: 0x1f1,
  vidMode: 0x1fa,
  bootFlag: 0x1fe,
  jump: 0x200,
  header: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  kernelAlignment: 0x230,
  relocatableKernel: 0x234,
  cmdlineSize: 0x238,
  hardwareSubarch: 0x23c,
  prefAddress: 0x258,
  initSize: 0x260,
  e820Table: 0x2d0,
} as const;

export const BOOT_PARAMS_SIZE = 4096;
export const E820_MAX_ENTRIES = 128;
export const E820_RAM = 1;
export const E820_RESERVED = 2;
/** "HdrS", the setup header signature. */
export const HDRS_MAGIC = 0x53726448;
/** Loader id 0xFF: "undefined", what a loader without an assigned id uses (boot.rst). */
export const LOADER_ID_UNDEFINED = 0xff;
export const LOADFLAG_LOADED_HIGH = 0x01;

/** Conventional memory ends where a PC's extended BIOS data area would begin. */
export const LOW_MEMORY_END = 0x9fc00;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** The PC memory map for `ramBytes` of RAM: conventional memory, the BIOS holes, then RAM above 1 MiB. */
export function pcE820Map(ramBytes: number): E820Entry[] {
  return [
    { addr: 0, size: LOW_MEMORY_END, type: E820_RAM },
    { addr: LOW_MEMORY_END, size: 0xa0000 - LOW_MEMORY_END, type: E820_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
    { addr: 0x100000, size: ramBytes - 0x100000, type: E820_RAM },
  ];
}

export interface BootParamsInput {
  /** The setup header as found in the image (bytes 0x1F1 up to its end), or null for a vmlinux. */
  setupHeader: Uint8Array | null;
  ramBytes: number;
  cmdLinePtr: number;
  ramdiskImage: number;
  ramdiskSize: number;
  /** Protocol version to claim when there is no header (vmlinux). */
  version?: number;
}

/** Builds the 4 KiB zero page. */
export function buildBootParams(input: BootParamsInput): Uint8Array {
  const bp = new Uint8Array(BOOT_PARAMS_SIZE);
  const v = new DataView(bp.buffer);
  if (input.setupHeader !== null) {
    bp.set(input.setupHeader.subarray(0, BOOT_PARAMS_SIZE - BP.setupSects), BP.setupSects);
  } else {
    // No image header (an ELF vmlinux): write the fields the kernel checks as a loader would.
    v.setUint16(BP.bootFlag, 0xaa55, true);
    v.setUint32(BP.header, HDRS_MAGIC, true);
    v.setUint16(BP.version, input.version ?? 0x020f, true);
    v.setUint8(BP.loadflags, LOADFLAG_LOADED_HIGH);
  }
  v.setUint16(BP.vidMode, 0xffff, true); // "normal" video mode
  v.setUint8(BP.typeOfLoader, LOADER_ID_UNDEFINED);
  v.setUint16(BP.heapEndPtr, 0, true);
  v.setUint32(BP.cmdLinePtr, input.cmdLinePtr, true);
  v.setUint32(BP.ramdiskImage, input.ramdiskImage, true);
  v.setUint32(BP.ramdiskSize, input.ramdiskSize, true);
  v.setUint32(BP.hardwareSubarch, 0, true); // a normal PC
  const extKiB = Math.max(0, Math.floor((input.ramBytes - 0x100000) / 1024));
  v.setUint16(BP.extMemK, Math.min(0xffff, extKiB), true);
  v.setUint32(BP.altMemK, extKiB, true);
  const map = pcE820Map(input.ramBytes);
  v.setUint8(BP.e820Entries, map.length);
  map.forEach((e, i) => {
    const o = BP.e820Table + i * 20;
    v.setBigUint64(o, BigInt(e.addr), true);
    v.setBigUint64(o + 8, BigInt(e.size), true);
    v.setUint32(o + 16, e.type, true);
  });
  return bp;
}
