#!/bin/sh
# Assemble every guest program here (NAME.asm -> NAME.bin, or into directory $1). Needs only nasm;
# flat binaries carry no timestamps or paths, so the output is byte-for-byte reproducible.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here"}
cd "$here"
for src in *.asm; do
  nasm -f bin -I "$here/" -o "$out/${src%.asm}.bin" "$src"
done
