/** Assembles the hand-written test guests in test/guests with nasm (a declared build dependency). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GUEST_DIR = join(dirname(fileURLToPath(import.meta.url)), 'guests');
const outDir = mkdtempSync(join(tmpdir(), 'ferry86-devices-guests-'));
const cache = new Map<string, Uint8Array>();

export function assemble(name: string, defines: string[] = []): Uint8Array {
  const key = `${name} ${defines.join(' ')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const out = join(outDir, `${name}-${cache.size}.bin`);
  execFileSync('nasm', ['-f', 'bin', '-i', `${GUEST_DIR}/`, ...defines.map((d) => `-D${d}`), '-o', out, join(GUEST_DIR, `${name}.asm`)]);
  const bin = new Uint8Array(readFileSync(out));
  cache.set(key, bin);
  return bin;
}

export function reference(name: string): string {
  return readFileSync(join(GUEST_DIR, name), 'latin1');
}
