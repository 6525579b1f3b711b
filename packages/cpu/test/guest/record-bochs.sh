#!/bin/sh
# Rebuilds a multiboot test kernel and records its port-0xE9 output on Bochs (the reference for
# protected-mode exactness; Debian's `bochs` 2.7, default CPU model), e.g.:
#     ./record-bochs.sh tasktest      -> tasktest.bin, tasktest.expected.txt
# The kernel is loaded by bochs-boot.asm from a floppy image (at most 16 sectors = 8 KiB) and runs
# until `cli; hlt`; Bochs is stopped after TIMEOUT seconds (default 20) and the lines of eight hex
# digits it printed are kept.
set -eu
name=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nasm -f bin -o "$here/$name.bin" "$here/$name.asm"
size=$(wc -c < "$here/$name.bin")
[ "$size" -le 8192 ] || { echo "$name.bin is $size bytes; bochs-boot.asm loads 8192" >&2; exit 1; }
nasm -f bin -o "$tmp/boot.bin" "$here/bochs-boot.asm"
cat "$tmp/boot.bin" "$here/$name.bin" > "$tmp/boot.img"
truncate -s 1474560 "$tmp/boot.img"
cat > "$tmp/bochsrc" <<RC
megs: 32
floppya: 1_44=$tmp/boot.img, status=inserted
boot: floppy
port_e9_hack: enabled=1
display_library: rfb, options="timeout=0"
clock: sync=none
log: $tmp/bochs.log
RC
echo c > "$tmp/cmds"
timeout "${TIMEOUT:-20}" bochs -q -f "$tmp/bochsrc" -rc "$tmp/cmds" > "$tmp/out.txt" 2>&1 || true
grep -E '^[0-9a-f]{8}$' "$tmp/out.txt" > "$here/$name.expected.txt"
echo "$name: $(wc -l < "$here/$name.expected.txt") lines recorded from Bochs"
