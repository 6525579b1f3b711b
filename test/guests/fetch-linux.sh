#!/bin/sh
# Fetches Debian bookworm's i386 Linux 6.1 kernel (linux-image-6.1.0-N-686, the newest N the
# archive has) and busybox-static:i386, extracts them with dpkg-deb, and builds the test
# initramfs with test/guests/initramfs.ts. Everything is cached by package version under
# test/guests/.cache/ (gitignored); a second run with the same versions does no work.
#
# Needs root (dpkg --add-architecture, apt-get update) on a Debian machine, and pnpm/tsx for the
# initramfs. Prints the paths of the kernel, its unpacked ELF and the initramfs as its last lines:
#   KERNEL=.../vmlinuz
#   VMLINUX=.../vmlinux
#   INITRD=.../initramfs.cpio.gz
#   MODULES=.../initramfs-modules.cpio.gz   (IDE/SCSI/ext4 modules, appended to INITRD for disk tests)
#   DISK=.../disk.ext4                      (a 16 MiB empty ext4 image)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache="$here/.cache"
mkdir -p "$cache"

if ! dpkg --print-foreign-architectures | grep -qx i386; then
  dpkg --add-architecture i386
fi
# A partial failure (one mirror mid-sync) still leaves the main archive's lists usable; the
# package look-ups below fail loudly if what we need is missing.
apt-get update -qq || echo "fetch-linux: apt-get update reported errors; continuing with the lists it got" >&2

# Newest linux-image-6.1.0-N-686 (not -pae, not -dbg, not -unsigned meta packages).
kpkg=$(apt-cache pkgnames linux-image-6.1.0- \
  | grep -E '^linux-image-6\.1\.0-[0-9]+-686$' \
  | sort -t- -k4,4n | tail -n 1)
if [ -z "$kpkg" ]; then
  echo "fetch-linux: no linux-image-6.1.0-N-686 package in the archive (is i386 enabled?)" >&2
  exit 1
fi
kver=$(apt-cache show "$kpkg:i386" | sed -n 's/^Version: //p' | head -n 1)
bver=$(apt-cache show busybox-static:i386 | sed -n 's/^Version: //p' | head -n 1)
# Epochs ("1:1.35") would put a colon in the path.
# The initramfs also depends on its generator: a changed /init must not reuse an old archive.
ihash=$(sha256sum "$here/initramfs.ts" | cut -c1-12)
dir=$(printf "%s/%s-%s+busybox-%s+init-%s" "$cache" "$kpkg" "$kver" "$bver" "$ihash" | tr : _)

if [ ! -f "$dir/initramfs.cpio.gz" ]; then
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp/debs" "$dir.tmp/root"
  (cd "$dir.tmp/debs" && apt-get download -q "$kpkg:i386" busybox-static:i386)
  for deb in "$dir.tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$dir.tmp/root"; done
  cp "$dir.tmp"/root/boot/vmlinuz-* "$dir.tmp/vmlinuz"
  cp "$dir.tmp/root/bin/busybox" "$dir.tmp/busybox"
  (cd "$here/../.." && pnpm exec tsx test/guests/initramfs.ts "$dir.tmp/busybox" "$dir.tmp/initramfs.cpio.gz")
  # The IDE/SCSI/ext4 modules the disk part of /init loads, as a second archive.
  kdir=$(echo "$dir.tmp"/root/lib/modules/*/kernel)
  (cd "$here/../.." && pnpm exec tsx test/guests/initramfs.ts modules "$kdir" "$dir.tmp/initramfs-modules.cpio.gz")
  rm -rf "$dir.tmp/debs" "$dir.tmp/root"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi
# Debian ships only the bzImage. For the loader's ELF path, unpack the kernel it carries: the
# payload is an xz stream (found by its magic) that holds the uncompressed vmlinux ELF. xz
# complains about the bytes after the stream; the ELF check below is what counts.
if [ ! -f "$dir/vmlinux" ]; then
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$dir/vmlinuz" | head -n 1 | cut -d: -f1)
  if [ -z "$off" ]; then echo "fetch-linux: no xz payload found in $dir/vmlinuz" >&2; exit 1; fi
  tail -c +"$((off + 1))" "$dir/vmlinuz" | xz -dc > "$dir/vmlinux.tmp" 2>/dev/null || true
  if [ "$(head -c 4 "$dir/vmlinux.tmp" | od -An -tx1 | tr -d ' \n')" != "7f454c46" ]; then
    echo "fetch-linux: the payload of $dir/vmlinuz did not unpack to an ELF vmlinux" >&2; exit 1
  fi
  mv "$dir/vmlinux.tmp" "$dir/vmlinux"
fi
# An empty ext4 filesystem for the disk test, made reproducibly (fixed UUID, hash seed and time)
# by the host's mke2fs (e2fsprogs).
if [ ! -f "$dir/disk.ext4" ]; then
  uuid=6e6f6e65-0000-4000-8000-666572727938
  rm -f "$dir/disk.ext4.tmp"
  E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext4 -b 4096 -L ferry86 -U "$uuid" \
    -E "hash_seed=$uuid,root_owner=0:0" "$dir/disk.ext4.tmp" 16M >&2
  mv "$dir/disk.ext4.tmp" "$dir/disk.ext4"
fi
echo "KERNEL=$dir/vmlinuz"
echo "VMLINUX=$dir/vmlinux"
echo "INITRD=$dir/initramfs.cpio.gz"
echo "MODULES=$dir/initramfs-modules.cpio.gz"
echo "DISK=$dir/disk.ext4"
