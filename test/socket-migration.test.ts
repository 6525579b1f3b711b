/**
 * Live migration between two separate Node processes over TCP on localhost, through the command
 * line: `ferry86 receive` in one process, `ferry86 send` in another, the toy OS's workers dirtying
 * memory all along. The console printed by the receiver continues the sender's without a gap or a
 * repeat; both processes compute the same state digest at the handover; and — guest time being
 * virtual — the receiver's guest, run on, is byte for byte the guest of an uninterrupted run
 * (console and state digest at the same instruction).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeState, createPcMachine, stateDigest } from '@ferry86/migrate';

const workspace = fileURLToPath(new URL('..', import.meta.url));
const TOYOS_PATH = 'examples/toyos/toyos.bin';
const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL(`../${TOYOS_PATH}`, import.meta.url))));
const RUN_AFTER = 20_000_000;

interface Cli {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number>;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill();
});

/** Starts `ferry86 ARGS...` (examples/node/cli.ts through tsx) in a new process. */
function ferry86(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/node/cli.ts', ...args], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const cli: Cli = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    }),
  };
  child.stdout!.setEncoding('latin1').on('data', (s: string) => (cli.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (cli.stderr += s));
  return cli;
}

/** Starts `ferry86 receive` on a free port and waits until it listens. */
async function receiver(args: string[]): Promise<{ cli: Cli; port: number }> {
  const cli = ferry86(['receive', '--port', '0', ...args]);
  for (;;) {
    const m = /listening on [\d.]+:(\d+)/.exec(cli.stderr);
    if (m) return { cli, port: Number(m[1]) };
    if (cli.child.exitCode !== null) throw new Error(`ferry86 receive exited early:\n${cli.stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function field(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`no ${what} in:\n${text}`);
  return m;
}

const heartbeats = (text: string) => [...text.matchAll(/tick (\d+)\r\n/g)].map((m) => Number(m[1]));

describe('live migration between two processes over TCP (ferry86 send / receive)', () => {
  it('moves the running toy OS: the console continues exactly, and the guest is the uninterrupted one', async () => {
    const runFor = 25_000_000;
    const { cli: rx, port } = await receiver(['--run-for', String(runFor)]);
    const tx = ferry86(['send', '--to', `127.0.0.1:${port}`, '--multiboot', TOYOS_PATH, '--deterministic', '--after', String(RUN_AFTER)]);
    const [txCode, rxCode] = await Promise.all([tx.exited, rx.exited]);
    expect(txCode, tx.stderr).toBe(0);
    expect(rxCode, rx.stderr).toBe(0);

    // Both processes computed the state digest at the handover themselves: the same.
    const sent = field(tx.stderr, /migrated at instruction (\d+): downtime ([\d.]+) ms.*?(\d+) rounds.*?([\d.]+) MiB sent.*state digest ([0-9a-f]{32})/, 'send summary');
    const got = field(rx.stderr, /received the guest at instruction (\d+) in (\d+) rounds.*state digest ([0-9a-f]{32})/, 'receive summary');
    const handover = Number(sent[1]);
    expect(Number(got[1])).toBe(handover);
    expect(got[3]).toBe(sent[5]);
    // Live: the guest ran during pre-copy, so there was more than one round.
    expect(handover).toBeGreaterThan(RUN_AFTER);
    expect(Number(sent[3])).toBeGreaterThanOrEqual(2);
    console.log(`toyos 64 MiB over loopback TCP: downtime ${sent[2]} ms, ${sent[3]} rounds, ${sent[4]} MiB sent`);

    // The receiver's console continues the sender's: every heartbeat once, in order.
    const screen = tx.stdout + rx.stdout;
    const beats = heartbeats(screen);
    expect(heartbeats(tx.stdout).length).toBeGreaterThan(0);
    expect(heartbeats(rx.stdout).length).toBeGreaterThan(0);
    expect(beats).toEqual(beats.map((_, i) => i + 1));
    expect(screen).not.toMatch(/ERROR|PANIC/);

    // The same image, uninterrupted, to the receiver's last instruction: same console, same state.
    const end = field(rx.stderr, /after (\d+) instructions \(at (\d+)\); state digest ([0-9a-f]{32})/, 'receive end');
    expect(Number(end[1])).toBe(runFor);
    const last = Number(end[2]);
    const m = createPcMachine({ memoryMiB: 64, pacing: 'deterministic' });
    m.loadMultiboot(TOYOS, '');
    const ref = new RuntimeState();
    let text = '';
    m.setSerialOutput((b) => {
      text += String.fromCharCode(b);
      ref.serialSeq++;
    });
    while (m.instructionCount < last) m.run(Math.min(5_000_000, last - m.instructionCount));
    expect(m.instructionCount).toBe(last);
    expect(screen).toBe(text);
    expect(stateDigest(m, [ref])).toBe(end[3]);
  });

  it('reports a refused connection, and a guest the receiver will not take, clearly on both sides', async () => {
    // A port nobody listens on (taken, then released).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const refused = ferry86(['send', '--to', `127.0.0.1:${freePort}`, '--multiboot', TOYOS_PATH, '--deterministic', '--after', '1000']);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connection refused/);

    const { cli: rx, port } = await receiver(['--max-mem', '32']);
    const tx = ferry86(['send', '--to', `127.0.0.1:${port}`, '--multiboot', TOYOS_PATH, '--deterministic', '--after', '1000', '--mem', '64']);
    const [txCode, rxCode] = await Promise.all([tx.exited, rx.exited]);
    expect(txCode).toBe(1);
    expect(tx.stderr).toMatch(/migration failed \(target-error\):.*64 MiB of RAM; this receiver accepts at most 32 MiB/);
    expect(tx.stderr).toMatch(/the guest stays here \(not moved\)/);
    expect(rxCode).toBe(1);
    expect(rx.stderr).toMatch(/migration failed \(stream-error\):.*cannot build a machine.*at most 32 MiB/);
  });

  it('prints usage for --help and rejects a malformed --to', async () => {
    const help = ferry86(['receive', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout).toMatch(/usage: ferry86 receive --port P/);
    const bad = ferry86(['send', '--to', 'localhost', '--multiboot', TOYOS_PATH]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr).toMatch(/--to expects HOST:PORT, not "localhost"/);
  });
});
