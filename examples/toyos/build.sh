#!/bin/sh
# Build toyos.bin (or the path given as $1) from src/. Needs only nasm; the output is
# byte-for-byte reproducible (a flat binary has no timestamps or paths in it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/toyos.bin"}
cd "$here"
nasm -f bin -I src/ -o "$out" src/toyos.asm
