#!/bin/sh
# Builds a bootable CD image (ISOLINUX, El Torito no-emulation boot) holding the given kernel and
# initramfs, booted with the given command line. The v86 peer needs it: its own bzImage loader
# puts the initrd at a fixed 64 MiB, so it cannot boot our initramfs in a 64 MiB machine, while
# SeaBIOS booting a CD goes through ISOLINUX, which places the initrd as the boot protocol says.
# ISOLINUX prepends "BOOT_IMAGE=/vmlinuz" to the command line; nothing in our /init reads it.
#
# Needs xorriso and isolinux/syslinux-common (installed with apt-get when missing; root, Debian).
# Cached: the image is rebuilt only when the inputs change. Prints ISO=path as its last line.
#
# Usage: sh test/guests/linux-iso.sh KERNEL INITRD CMDLINE
set -eu

kernel=$1
initrd=$2
cmdline=$3

if ! command -v xorriso >/dev/null 2>&1 || [ ! -f /usr/lib/ISOLINUX/isolinux.bin ] || [ ! -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends xorriso isolinux syslinux-common >&2
fi

key=$( (sha256sum "$kernel" "$initrd" | cut -c1-64; echo "$cmdline") | sha256sum | cut -c1-12)
out="$(dirname "$initrd")/linux-$key.iso"
if [ ! -f "$out" ]; then
  tree=$(mktemp -d)
  mkdir -p "$tree/isolinux"
  cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree/isolinux/"
  cp "$kernel" "$tree/vmlinuz"
  cp "$initrd" "$tree/initrd.gz"
  printf 'DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND %s initrd=/initrd.gz\n' "$cmdline" > "$tree/isolinux/isolinux.cfg"
  xorriso -as mkisofs -quiet -o "$out.tmp" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$tree" >&2
  rm -rf "$tree"
  mv "$out.tmp" "$out"
fi
echo "ISO=$out"
