#!/bin/sh
# CI: rebuild the guests into a temporary directory and require the committed images to match.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/build.sh" "$tmp"
status=0
for bin in "$tmp"/*.bin; do
  name=$(basename "$bin")
  if ! cmp -s "$bin" "$here/$name"; then
    echo "$name is stale: run examples/guests/build.sh and commit the result" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "guest images match their sources"
exit $status
