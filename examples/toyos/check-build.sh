#!/bin/sh
# CI: rebuild toyos.bin from src/ into a temporary directory and require it to be
# byte-identical to the committed image (so the image in git is what the sources say).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/build.sh" "$tmp/toyos.bin"
if cmp "$tmp/toyos.bin" "$here/toyos.bin"; then
  echo "toyos.bin matches its sources"
else
  echo "toyos.bin is stale: run examples/toyos/build.sh and commit the result" >&2
  exit 1
fi
