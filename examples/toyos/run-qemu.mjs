#!/usr/bin/env node
// Runs toyos.bin on the reference machine (Debian's qemu-system-i386) with a blank disk for
// its log, types `selftest` at the shell prompt and records the transcript in
// expected/selftest.qemu.txt; then types DISKLOG_SCRIPT (commands, then `log` reading them
// back from the disk) and records that transcript in expected/disklog.qemu.txt.
//
//   node run-qemu.mjs              run 3 times, require identical transcripts, write the file
//   node run-qemu.mjs --check      same, but compare with the committed file instead
//   node run-qemu.mjs --runs 5 --append "workers=3" --timeout 60
//   node run-qemu.mjs --check --wait-ticks 20 --qemu-arg -icount --qemu-arg shift=10
//        (type the command after heartbeat 20; slow the guest so heartbeats interleave)
//
// The helpers extractSelftest() and checkHeartbeats() are exported so a test that runs
// the same command on another machine can parse its output the same way.
// No dependencies beyond Node itself.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const HEARTBEAT = /^tick \d+$/;

/** Output as lines: CR LF and the prompt's bare CR are normalised away. */
export function serialLines(output) {
  return output.replace(/\r/g, '').split('\n');
}

/**
 * The selftest transcript in an output: the lines after the echoed command line
 * "> selftest" up to and including "selftest done", without heartbeat lines (the ticker
 * task may print "tick N" between any two lines). Returns null if it is not complete.
 */
export function extractSelftest(output) {
  const lines = serialLines(output);
  const done = lines.indexOf('selftest done');
  if (done < 0) return null;
  const command = lines.lastIndexOf('> selftest', done);
  if (command < 0) return null;
  return lines.slice(command + 1, done + 1).filter((l) => !HEARTBEAT.test(l));
}

/** Heartbeats must count 1, 2, 3, ... with no gap or repeat. Returns how many, or throws. */
export function checkHeartbeats(output) {
  let expected = 1;
  for (const line of serialLines(output)) {
    if (!HEARTBEAT.test(line)) continue;
    const n = Number(line.slice(5));
    if (n !== expected) throw new Error(`heartbeat out of order: got "tick ${n}", expected "tick ${expected}"`);
    expected++;
  }
  return expected - 1;
}

/** Sectors of the disk toyos keeps its log on in these recordings (1 MiB, all zero: a new log). */
export const TOYOS_DISK_SECTORS = 2048;

/** A blank disk image as the recordings use it. */
export function blankDisk() {
  return new Uint8Array(TOYOS_DISK_SECTORS * 512);
}

/** QEMU arguments that attach `disk` (a raw image file) as the primary master IDE disk. */
function diskArgs(disk) {
  return disk ? ['-drive', `file=${disk},format=raw,if=ide,index=0`] : [];
}

/** The commands typed by the disk-log recording (expected/disklog.qemu.txt). */
export const DISKLOG_SCRIPT = ['echo alpha', 'help', 'echo beta', 'log', 'echo gamma', 'log'];

/**
 * The transcript of a typed script: every line from the first echoed command on, without
 * heartbeats, empty lines and bare prompts (a heartbeat can redraw the prompt at any time).
 */
export function extractScript(output, firstCommand) {
  const lines = serialLines(output);
  const start = lines.indexOf(`> ${firstCommand}`);
  if (start < 0) return null;
  return lines.slice(start).filter((l) => l !== '' && l !== '> ' && !HEARTBEAT.test(l));
}

/** Whether `output` (everything since `command` was typed) shows it finished: echoed, then a prompt. */
export function commandFinished(output, command) {
  // The prompt before the echoed command was printed before it was typed.
  return output.includes(`${command}\r\n`) && output.endsWith('> ');
}

/** One QEMU run that types `commands` one at a time, each after the previous one finished. */
export function runScript({ image, append = '', timeoutMs, commands, disk, extraArgs = [] }) {
  const args = [
    '-M', 'pc', '-m', '64', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-serial', 'stdio', '-kernel', image, '-append', append, ...diskArgs(disk), ...extraArgs,
  ];
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-i386', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let next = 0;
    let since = -1;
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      qemu.kill('SIGTERM');
      if (error) reject(error);
      else resolve(out);
    };
    const timer = setTimeout(() => finish(new Error(`timed out; output so far:\n${out.slice(-2000)}`)), timeoutMs);
    qemu.stdout.setEncoding('latin1');
    qemu.stdout.on('data', (chunk) => {
      out += chunk;
      const ready = since < 0 ? /\nready\r?\n/.test(out) && out.endsWith('> ') : commandFinished(out.slice(since), commands[next - 1]);
      if (ready) {
        if (next === commands.length) return finish();
        since = out.length;
        qemu.stdin.write(`${commands[next++]}\r`);
      }
      if (/\n(ERROR|PANIC)[^\n]*\n/.test(out)) finish(new Error(`guest reported a failure:\n${out.slice(-2000)}`));
    });
    qemu.stderr.on('data', (chunk) => { err += chunk; });
    qemu.on('error', (e) => finish(new Error(`cannot start qemu-system-i386: ${e.message}`)));
    qemu.on('exit', (code) => finish(new Error(`qemu exited early (code ${code}): ${err}\n${out.slice(-2000)}`)));
  });
}

/** Writes a blank disk image to a temporary file and returns its path. */
export function blankDiskFile() {
  const dir = mkdtempSync(join(tmpdir(), 'toyos-disk-'));
  const file = join(dir, 'disk.img');
  writeFileSync(file, blankDisk());
  return file;
}

/** One QEMU run: boot, wait for the prompt, type selftest, collect until "selftest done". */
export function runOnce({ image, append, timeoutMs, waitTicks = 0, extraArgs = [], command = 'selftest', disk }) {
  const args = [
    '-M', 'pc', '-m', '64', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-serial', 'stdio', '-kernel', image, '-append', append, ...diskArgs(disk), ...extraArgs,
  ];
  const waitFor = waitTicks > 0 ? new RegExp(`\\ntick ${waitTicks}\\r?\\n`) : /\nready\r?\n/;
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-i386', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sent = false;
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      qemu.kill('SIGTERM');
      if (error) reject(error);
      else resolve(out);
    };
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${timeoutMs} ms; output so far:\n${out.slice(-2000)}`)),
      timeoutMs,
    );
    qemu.stdout.setEncoding('latin1');
    qemu.stdout.on('data', (chunk) => {
      out += chunk;
      // The prompt is the unterminated "> " after the "ready" (or "tick N") line.
      if (!sent && waitFor.test(out) && out.endsWith('> ')) {
        sent = true;
        qemu.stdin.write(`${command}\n`);
      }
      if (sent && /\nselftest done\r?\n/.test(out)) finish();
      if (/\n(ERROR|PANIC)[^\n]*\n/.test(out)) finish(new Error(`guest reported a failure:\n${out.slice(-2000)}`));
    });
    qemu.stderr.on('data', (chunk) => { err += chunk; });
    qemu.on('error', (e) => finish(new Error(`cannot start qemu-system-i386: ${e.message}`)));
    qemu.on('exit', (code) => finish(new Error(`qemu exited early (code ${code}): ${err}\n${out.slice(-2000)}`)));
  });
}

function parseArgs(argv) {
  const opts = {
    runs: 3, append: '', timeoutMs: 30000, waitTicks: 0, extraArgs: [], check: false,
    out: join(here, 'expected', 'selftest.qemu.txt'), image: join(here, 'toyos.bin'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') opts.runs = Number(value());
    else if (a === '--append') opts.append = value();
    else if (a === '--timeout') opts.timeoutMs = Number(value()) * 1000;
    else if (a === '--wait-ticks') opts.waitTicks = Number(value());
    else if (a === '--qemu-arg') opts.extraArgs.push(value());
    else if (a === '--out') opts.out = value();
    else if (a === '--image') opts.image = value();
    else if (a === '--check') opts.check = true;
    else throw new Error(`unknown option ${a} (known: --runs N --append S --wait-ticks N --qemu-arg ARG --timeout SECONDS --out FILE --image FILE --check)`);
  }
  if (!(opts.runs >= 1)) throw new Error('--runs must be at least 1');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The machine has toyos's log disk attached (a fresh blank one per run), as the tests run it.
  let first = null;
  for (let run = 1; run <= opts.runs; run++) {
    const output = await runOnce({ ...opts, disk: blankDiskFile() });
    const transcript = extractSelftest(output);
    if (!transcript) throw new Error(`run ${run}: no complete selftest transcript in:\n${output}`);
    const beats = checkHeartbeats(output);
    const text = `${transcript.join('\n')}\n`;
    console.log(`run ${run}: ${transcript.length} selftest lines, ${beats} heartbeats in order`);
    if (first === null) first = text;
    else if (text !== first) throw new Error(`run ${run} printed a different transcript than run 1:\n${text}`);
  }
  // The disk log: typed commands, then `log` reads them back from the disk.
  const logOut = join(dirname(opts.out), 'disklog.qemu.txt');
  let firstLog = null;
  for (let run = 1; run <= opts.runs; run++) {
    const output = await runScript({ ...opts, commands: DISKLOG_SCRIPT, disk: blankDiskFile() });
    const text = `${extractScript(output, DISKLOG_SCRIPT[0]).join('\n')}\n`;
    console.log(`disk log run ${run}: ${text.split('\n').length - 1} lines`);
    if (firstLog === null) firstLog = text;
    else if (text !== firstLog) throw new Error(`disk log run ${run} printed a different transcript than run 1:\n${text}`);
  }
  if (opts.check) {
    if (readFileSync(logOut, 'latin1') !== firstLog) throw new Error(`${logOut} differs from what QEMU prints now:\n${firstLog}`);
    console.log(`${logOut} matches`);
  } else {
    writeFileSync(logOut, firstLog, 'latin1');
    console.log(`wrote ${logOut}`);
  }
  if (opts.check) {
    const committed = readFileSync(opts.out, 'latin1');
    if (committed !== first) throw new Error(`${opts.out} differs from what QEMU prints now:\n${first}`);
    console.log(`${opts.out} matches`);
  } else {
    writeFileSync(opts.out, first, 'latin1');
    console.log(`wrote ${opts.out}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
