/**
 * Runs fetch-linux.sh (download and cache Debian's kernel and busybox, build the initramfs) and
 * returns the paths it printed. Throws with the script's output when it names no files: a test
 * that needs the guest fails rather than skips (DESIGN §6).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LinuxFiles {
  /** Debian's bzImage. */
  kernel: string;
  /** The ELF vmlinux unpacked from it. */
  vmlinux: string;
  /** Our initramfs (gzip-compressed newc cpio). */
  initrd: string;
  /** The IDE/SCSI/ext4 modules as a second archive (append it to initrd for ferry86.disk). */
  modules: string;
  /** An empty 16 MiB ext4 image. */
  disk: string;
}

export function fetchLinux(): LinuxFiles {
  const script = fileURLToPath(new URL('./fetch-linux.sh', import.meta.url));
  const out = execFileSync('sh', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(out)?.[1];
  const kernel = path('KERNEL');
  const vmlinux = path('VMLINUX');
  const initrd = path('INITRD');
  const modules = path('MODULES');
  const disk = path('DISK');
  if (!kernel || !vmlinux || !initrd || !modules || !disk) {
    throw new Error(`fetch-linux.sh did not name a kernel, vmlinux, initrd, modules archive and disk:\n${out}`);
  }
  return { kernel, vmlinux, initrd, modules, disk };
}
