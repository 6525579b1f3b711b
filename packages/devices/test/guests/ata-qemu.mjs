#!/usr/bin/env node
// Records the reference transcript of ata.asm: assembles it, writes the test disk image, runs
// qemu-system-i386 with the image as the primary master IDE disk and saves COM1's output in
// ata.qemu.txt (the file ata.test.ts compares ferry86's transcript with).
//
//   node ata-qemu.mjs          record ata.qemu.txt
//   node ata-qemu.mjs --check  run again and compare with the committed file
// Needs nasm and qemu-system-i386. No dependencies beyond Node.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The test disk: 4096 sectors (2 MiB), byte i of sector s = (s * 7 + i) & 0xFF. No MBR signature. */
export function ataTestImage() {
  const img = new Uint8Array(4096 * 512);
  for (let s = 0; s < 4096; s++) for (let i = 0; i < 512; i++) img[s * 512 + i] = (s * 7 + i) & 0xff;
  return img;
}

/** Runs `kernel` (a multiboot image file) on qemu-system-i386 with `disk` as primary master; resolves with COM1's output. */
export function runQemu(kernel, disk) {
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-i386', [
      '-M', 'pc', '-m', '32', '-display', 'none', '-monitor', 'none', '-no-reboot', '-serial', 'stdio',
      '-kernel', kernel, '-drive', `file=${disk},format=raw,if=ide,index=0`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { q.kill(); reject(new Error(`timeout; output:\n${out}`)); }, 60000);
    q.stdout.setEncoding('latin1');
    q.stdout.on('data', (c) => {
      out += c;
      if (out.includes('ata done\n') || out.includes('unexpected interrupt\n')) { clearTimeout(timer); q.kill(); resolve(out); }
    });
    q.stderr.on('data', (c) => { err += c; });
    q.on('exit', (code) => { clearTimeout(timer); if (!out.includes('ata done\n')) reject(new Error(`qemu exited (${code}): ${err}\n${out}`)); });
  });
}

/** Assembles ata.asm, writes the test image and runs both on QEMU: the live reference transcript. */
export async function referenceTranscript() {
  const dir = mkdtempSync(join(tmpdir(), 'ferry86-ata-'));
  const kernel = join(dir, 'ata.bin');
  const disk = join(dir, 'disk.img');
  execFileSync('nasm', ['-f', 'bin', '-i', `${here}/`, '-o', kernel, join(here, 'ata.asm')]);
  writeFileSync(disk, ataTestImage());
  return runQemu(kernel, disk);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await referenceTranscript();
  const file = join(here, 'ata.qemu.txt');
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'latin1') !== out) { console.error('ata.qemu.txt differs from a fresh QEMU run'); process.exit(1); }
    console.log('ata.qemu.txt matches');
  } else {
    writeFileSync(file, out, 'latin1');
    console.log(`wrote ${file} (${out.split('\n').length - 1} lines)`);
  }
}
