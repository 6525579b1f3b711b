/**
 * The initramfs for the Linux guest test: a cpio "newc" archive (the format the kernel unpacks,
 * Documentation/driver-api/early-userspace/buffer-format.rst), gzip-compressed, holding a static
 * busybox, a known data file and an /init script that does some real work, prints markers on the
 * console and reboots.
 *
 * Usage: tsx test/guests/initramfs.ts BUSYBOX OUT.cpio.gz
 *        tsx test/guests/initramfs.ts modules LIB_MODULES_VERSION_KERNEL_DIR OUT.cpio.gz
 * (the second form: the disk modules as an archive to append, see buildModulesArchive).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  /** Path without a leading slash, e.g. "bin/busybox". */
  name: string;
  /** File type and permission bits (S_IFREG | 0755, S_IFDIR | 0755, ...). */
  mode: number;
  data?: Uint8Array;
  /** For device nodes. */
  rdevMajor?: number;
  rdevMinor?: number;
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const enc = new TextEncoder();

/** Serialises entries as a newc archive ending with the TRAILER!!! record. */
export function buildCpio(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
    const pad = (4 - (size % 4)) % 4;
    if (pad > 0) {
      parts.push(new Uint8Array(pad));
      size += pad;
    }
  };
  const all = [...entries, { name: 'TRAILER!!!', mode: 0 }];
  all.forEach((e, i) => {
    const data = e.data ?? new Uint8Array(0);
    const name = enc.encode(e.name + '\0');
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    const isDir = (e.mode & 0o170000) === S_IFDIR;
    const header =
      '070701' +
      hex(e.name === 'TRAILER!!!' ? 0 : i + 1) + // ino
      hex(e.mode) +
      hex(0) + // uid
      hex(0) + // gid
      hex(isDir ? 2 : 1) + // nlink
      hex(0) + // mtime: fixed, so the archive is reproducible
      hex(data.length) +
      hex(0) + hex(0) + // dev major/minor
      hex(e.rdevMajor ?? 0) + hex(e.rdevMinor ?? 0) +
      hex(name.length) +
      hex(0); // check
    const h = new Uint8Array(header.length + name.length);
    h.set(enc.encode(header));
    h.set(name, header.length);
    push(h);
    if (data.length > 0) push(data);
  });
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 64 KiB of reproducible bytes (a 32-bit LCG) for the checksum and compression work. */
export function knownData(): Uint8Array {
  const d = new Uint8Array(65536);
  let x = 12345;
  for (let i = 0; i < d.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    d[i] = x >>> 24;
  }
  return d;
}

/** Sum of i*i for i in 0..999, what the init script's arithmetic loop must print. */
export const LOOP_EXPECTED = 332833500;

/** Console markers the test looks for. */
/** Printed just before the interactive shell starts (only with ferry86.shell on the command line). */
export const SHELL_MARKER = 'FERRY86-SHELL';

/**
 * Kernel modules the disk part of /init loads (with ferry86.disk on the command line), in
 * dependency order (each module's "depends=" in its .modinfo, and the crypto algorithms their
 * init functions ask for): libata and ata_piix for the PIIX3 IDE controller, the SCSI disk
 * driver, and ext4. Debian builds all of these as modules; paths are under
 * lib/modules/VERSION/kernel/. Signed, but the kernel does not insist (MODULE_SIG_FORCE unset).
 */
export const DISK_MODULES = [
  'crypto/crc32c_generic.ko',
  'crypto/crct10dif_common.ko',
  'crypto/crct10dif_generic.ko',
  'lib/crc-t10dif.ko',
  'lib/crc64.ko',
  'crypto/crc64_rocksoft_generic.ko',
  'lib/crc64-rocksoft.ko',
  'block/t10-pi.ko',
  'drivers/scsi/scsi_common.ko',
  'drivers/scsi/scsi_mod.ko',
  'drivers/ata/libata.ko',
  'drivers/ata/ata_piix.ko',
  'drivers/scsi/sd_mod.ko',
  'lib/crc16.ko',
  'fs/mbcache.ko',
  'fs/jbd2/jbd2.ko',
  'fs/ext4/ext4.ko',
] as const;

/** Console markers of the disk part of /init. */
export const DISK_MARKERS = {
  /** The ext4 disk is mounted at /mnt. */
  mounted: 'FERRY86-DISK-MOUNTED',
  /** The files are written, synced and the disk unmounted; /init now sleeps a second. */
  written: 'FERRY86-DISK-WRITTEN',
  /** Mounted again after dropping the caches, the file read back has the right sha256. */
  readOk: 'FERRY86-DISK-READ-OK',
} as const;

export const MARKERS = {
  start: 'FERRY86-INIT-START',
  shaOk: 'FERRY86-SHA256-OK',
  loopOk: `FERRY86-LOOP-OK ${LOOP_EXPECTED}`,
  gzipOk: 'FERRY86-GZIP-OK',
  done: 'FERRY86-INIT-DONE',
} as const;

export function initScript(sha256: string): string {
  return `#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo ${MARKERS.start}
echo "kernel: $(uname -r)"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S')"
cat /proc/cpuinfo
sum=$(sha256sum /data/known.bin | cut -d' ' -f1)
if [ "$sum" = "${sha256}" ]; then echo ${MARKERS.shaOk}; else echo "FERRY86-SHA256-BAD $sum"; fi
i=0
s=0
while [ $i -lt 1000 ]; do s=$((s + i * i)); i=$((i + 1)); done
if [ "$s" = "${LOOP_EXPECTED}" ]; then echo "${MARKERS.loopOk}"; else echo "FERRY86-LOOP-BAD $s"; fi
gz=$(gzip -c /data/known.bin | gunzip -c | sha256sum | cut -d' ' -f1)
if [ "$gz" = "${sha256}" ]; then echo ${MARKERS.gzipOk}; else echo "FERRY86-GZIP-BAD $gz"; fi
# With ferry86.disk: load the IDE/SCSI/ext4 modules (a second archive, initramfs-modules), write
# a file to the ext4 disk on the primary IDE channel, unmount, wait, mount again with the caches
# dropped (so the read comes from the disk, not from RAM) and check what comes back.
if grep -q ferry86.disk /proc/cmdline; then
  for m in ${DISK_MODULES.map((m) => m.replace(/^.*\//, '')).join(' ')}; do
    insmod /lib/modules/$m || echo "FERRY86-INSMOD-BAD $m"
  done
  mount -t devtmpfs devtmpfs /dev
  n=0
  while [ ! -b /dev/sda ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
  mkdir -p /mnt
  if mount -t ext4 /dev/sda /mnt; then
    echo ${DISK_MARKERS.mounted}
    cp /data/known.bin /mnt/known.bin
    echo "written by $(uname -r) at loop sum $s" > /mnt/note.txt
    sync
    umount /mnt
    echo ${DISK_MARKERS.written}
    sleep 1
    echo 3 > /proc/sys/vm/drop_caches
    mount -t ext4 -o ro /dev/sda /mnt
    back=$(sha256sum /mnt/known.bin | cut -d' ' -f1)
    if [ "$back" = "${sha256}" ]; then echo ${DISK_MARKERS.readOk}; else echo "FERRY86-DISK-READ-BAD $back"; fi
    cat /mnt/note.txt
    umount /mnt
  else
    echo "FERRY86-DISK-MOUNT-BAD"
  fi
fi
echo ${MARKERS.done}
# With ferry86.shell on the kernel command line, hand the console to an interactive shell first
# (tests type commands into it over the serial line); reboot when it exits.
if grep -q ferry86.shell /proc/cmdline; then
  echo ${SHELL_MARKER}
  setsid cttyhack sh
fi
reboot -f
`;
}

/** The whole archive (uncompressed) around `busybox`. */
export function buildInitramfs(busybox: Uint8Array): Uint8Array {
  const data = knownData();
  const sha = createHash('sha256').update(data).digest('hex');
  const dir = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  return buildCpio([
    dir('bin'), dir('sbin'), dir('usr'), dir('usr/bin'), dir('usr/sbin'),
    dir('dev'), dir('proc'), dir('sys'), dir('tmp'), dir('etc'), dir('data'),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: 'bin/sh', mode: S_IFLNK | 0o777, data: enc.encode('busybox') },
    { name: 'data/known.bin', mode: S_IFREG | 0o644, data },
    { name: 'init', mode: S_IFREG | 0o755, data: enc.encode(initScript(sha)) },
  ]);
}

/**
 * The second archive for the disk test: DISK_MODULES flattened into /lib/modules. The kernel
 * unpacks concatenated archives one after the other, so the boot passes base + this as its initrd
 * only when it needs the modules (unpacking 2 MB of modules costs every other boot nothing).
 */
export function buildModulesArchive(readModule: (path: string) => Uint8Array): Uint8Array {
  const dir = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  return buildCpio([
    dir('lib'), dir('lib/modules'),
    ...DISK_MODULES.map((m): CpioEntry => ({ name: `lib/modules/${m.replace(/^.*\//, '')}`, mode: S_IFREG | 0o644, data: readModule(m) })),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === 'modules' && args.length === 3) {
    const [, kernelDir, outPath] = args as [string, string, string];
    const cpio = buildModulesArchive((m) => new Uint8Array(readFileSync(join(kernelDir, m))));
    writeFileSync(outPath, gzipSync(cpio, { level: 9 }));
  } else if (args.length === 2) {
    const [busyboxPath, outPath] = args as [string, string];
    const cpio = buildInitramfs(new Uint8Array(readFileSync(busyboxPath)));
    writeFileSync(outPath, gzipSync(cpio, { level: 9 }));
  } else {
    process.stderr.write('usage: tsx test/guests/initramfs.ts BUSYBOX OUT.cpio.gz\n' +
      '       tsx test/guests/initramfs.ts modules LIB_MODULES_VERSION_KERNEL_DIR OUT.cpio.gz\n');
    process.exit(2);
  }
}
