/**
 * Runs one fuzz batch on ferry86 and on the reference machine (Debian's qemu-system-i386) and
 * returns both transcripts, line for line.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMultiboot, PcMachine } from '@ferry86/devices';
import { generateBatch } from './generator.ts';

const GUEST_INCLUDES = fileURLToPath(new URL('../../examples/guests/', import.meta.url));

export interface BatchResult {
  seed: number;
  source: string;
  ours: string[];
  reference: string[];
}

function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ferry86-fuzz-'));
  try {
    writeFileSync(join(dir, 'fuzz.asm'), source);
    execFileSync('nasm', ['-f', 'bin', '-I', GUEST_INCLUDES, '-o', join(dir, 'fuzz.bin'), join(dir, 'fuzz.asm')]);
    return new Uint8Array(readFileSync(join(dir, 'fuzz.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runFerry86(image: Uint8Array): string {
  const machine = new PcMachine({ memoryMiB: 16 });
  loadMultiboot(machine, image, '');
  let out = '';
  machine.onSerialOutput((b) => {
    out += String.fromCharCode(b);
  });
  for (let spent = 0; !out.includes('fuzz done') && spent < 2e9; ) {
    const exit = machine.run(1_000_000);
    spent += exit.instructions;
    if (exit.reason !== 'limit' && exit.reason !== 'idle') break;
  }
  return out;
}

function runQemu(image: Uint8Array): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry86-fuzz-'));
  const file = join(dir, 'fuzz.bin');
  writeFileSync(file, image);
  return new Promise((resolve, reject) => {
    // pit=off: no timer interrupts (they are masked anyway); -no-reboot: a triple fault ends qemu.
    const q = spawn('qemu-system-i386', ['-M', 'pc,pit=off', '-m', '16', '-display', 'none', '-monitor', 'none',
      '-no-reboot', '-serial', 'stdio', '-kernel', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const done = (e?: Error) => {
      clearTimeout(timer);
      q.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      if (e) reject(e);
      else resolve(out);
    };
    const timer = setTimeout(() => done(new Error(`qemu did not finish the batch; output ends:\n${out.slice(-500)}`)), 120_000);
    q.stdout.setEncoding('latin1');
    q.stdout.on('data', (d) => {
      out += d;
      if (out.includes('fuzz done')) done();
    });
    q.stderr.on('data', (d) => (err += d));
    q.on('error', (e) => done(new Error(`cannot start qemu-system-i386: ${e.message}`)));
    q.on('exit', (code) => done(code === null ? undefined : new Error(`qemu exited (${code}): ${err}`)));
  });
}

const lines = (s: string) => s.replace(/\r/g, '').split('\n').filter((l) => l.length > 0);

export async function runBatch(seed: number, cases: number, length: number): Promise<BatchResult> {
  const { source } = generateBatch(seed, cases, length);
  const image = assemble(source);
  const reference = lines(await runQemu(image));
  const ours = lines(runFerry86(image));
  return { seed, source, ours, reference };
}

/** Source lines of one case, for a readable failure report. */
export function caseSource(source: string, index: number): string {
  const start = source.indexOf(`case_${index}:`);
  const end = source.indexOf('call dump', start);
  return source.slice(start, end);
}
