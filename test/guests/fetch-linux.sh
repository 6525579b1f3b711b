#!/bin/sh
# Fetches Debian bookworm's i386 Linux 6.1 kernel (linux-image-6.1.0-N-686, the newest N the
# archive has) and busybox-static:i386, extracts them with dpkg-deb, and builds the test
# initramfs with test/guests/initramfs.ts. Everything is cached by package version under
# test/guests/.cache/ (gitignored); a second run with the same versions does no work.
#
# Needs root (dpkg --add-architecture, apt-get update) on a Debian machine, and pnpm/tsx for the
# initramfs. Prints the paths of the kernel and the initramfs as its last two lines:
#   KERNEL=.../vmlinuz
#   INITRD=.../initramfs.cpio.gz
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
  rm -rf "$dir.tmp/debs" "$dir.tmp/root"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi
echo "KERNEL=$dir/vmlinuz"
echo "INITRD=$dir/initramfs.cpio.gz"
