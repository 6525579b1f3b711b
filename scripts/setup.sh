#!/usr/bin/env bash
# Installs everything ferry86's tests, demo and benchmarks need on a fresh Debian machine:
# Debian packages (nasm rebuilds the toy OS; qemu-system-i386 is the reference machine; seabios's
# /usr/share/seabios/bios.bin is the real BIOS the devices tests boot; chromium runs the browser
# test headless; e2fsprogs makes and reads the Linux guest's ext4 disk; xorriso and isolinux build
# the CD image the snapshot bench boots v86 from), pnpm, and the workspace's npm dependencies.
# Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.21.0
DEBS=(nasm qemu-system-x86 seabios chromium e2fsprogs xorriso isolinux syslinux-common)

missing=()
for p in "${DEBS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi

pnpm install --frozen-lockfile --reporter=silent
