/**
 * `ferry86 receive`: listens on a TCP port, accepts one live migration from `ferry86 send`,
 * reports it, then runs the guest it received with COM1 on stdio.
 */
import { MigrationError, MigrationTarget, RuntimeState, StreamSocketTransport, createPcMachine, stateDigest, type MigratablePc, type PostCopyPager } from '@ferry86/migrate';
import { createServer, type Server, type Socket } from 'node:net';
import { ConsoleOut, describeMigrationError, describeSocketError, mib } from './migration-cli.ts';
import { runOnConsole } from './guest-console.ts';
import { UsageError, parseCount, parseOptions } from './usage.ts';

const USAGE = `usage: ferry86 receive --port P [options]

  --port P                TCP port to listen on (0: any free port; the port is printed)
  --host H                address to listen on, default 127.0.0.1 (0.0.0.0: every interface)
  --run-for N             after the handover run N instructions, then exit (default: until
                          Ctrl-C or the guest stops)
  --max-mem MiB           refuse a guest with more RAM than this, default 2048
  --timeout S             give up when the sender is silent for S seconds, default 60

Accepts one migration. The guest's console (COM1) continues on stdout from the byte after the
sender's last; stdin is its input. Progress and figures go to stderr. The migration stream is
checked (sizes, CRCs, the final state digest) before the guest runs, but the channel is neither
authenticated nor encrypted: listen on a trusted network, or tunnel it (ssh -L, TLS).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'run-for': { type: 'string' },
      'max-mem': { type: 'string' },
      timeout: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.port === undefined) throw new UsageError('--port P is required');
  const port = parseCount('port', values.port, 0, 65535);
  const host = values.host ?? '127.0.0.1';
  const runFor = values['run-for'] === undefined ? Infinity : parseCount('run-for', values['run-for'], 0);
  const maxMemMiB = values['max-mem'] === undefined ? 2048 : parseCount('max-mem', values['max-mem'], 2);
  const idleTimeoutMs = 1000 * (values.timeout === undefined ? 60 : parseCount('timeout', values.timeout, 1, 86_400));

  let socket: Socket;
  try {
    socket = await acceptOne(host, port, (where) => process.stderr.write(`ferry86 receive: listening on ${where}\n`));
  } catch (e) {
    process.stderr.write(`ferry86 receive: ${describeSocketError(e as NodeJS.ErrnoException, `${host}:${port}`)}\n`);
    return 1;
  }
  process.stderr.write(`ferry86 receive: migration from ${socket.remoteAddress}:${socket.remotePort}\n`);

  const runtime = new RuntimeState();
  let round = 0;
  let finalRoundAt = 0;
  const target = new MigrationTarget<MigratablePc>({
    // The stream's header names the machine; this is where the receiver may refuse it.
    createMachine: (config) => {
      const mem = (config as { memoryMiB?: unknown }).memoryMiB;
      if (typeof mem === 'number' && mem > maxMemMiB) throw new Error(`the guest has ${mem} MiB of RAM; this receiver accepts at most ${maxMemMiB} MiB (--max-mem)`);
      return createPcMachine(config);
    },
    extraParts: [runtime],
    idleTimeoutMs,
    onProgress: (p) => {
      if (p.round !== round) {
        round = p.round;
        // Rounds only grow; the last one to start is the stop-and-copy, which begins when the
        // guest stops at the source: from there to COMMIT is the downtime as seen from here.
        finalRoundAt = performance.now();
        process.stderr.write(`ferry86 receive: round ${p.round} (${mib(p.bytesReceived)} so far)\n`);
      }
    },
  });
  const t0 = performance.now();
  let m: MigratablePc;
  let digest: string;
  let pager: PostCopyPager | null = null;
  try {
    const r = await target.receive(new StreamSocketTransport(socket));
    const committed = performance.now();
    m = r.machine;
    pager = r.postCopy ?? null;
    // After a post-copy handover pages are still arriving: the digest is verified when they are in.
    digest = pager ? '(post-copy: verified when the last page arrives)' : stateDigest(m, [runtime]);
    if (!pager && digest !== r.digest) throw new Error(`the loaded state's digest ${digest} differs from the verified ${r.digest}`);
    process.stderr.write(
      `ferry86 receive: received the guest at instruction ${m.instructionCount} in ${r.rounds} rounds, ${mib(r.bytesReceived)} in ${(committed - t0).toFixed(0)} ms, ` +
        (pager
          ? `post-copy: the guest runs now, its remaining pages follow; state digest ${digest}\n`
          : `downtime about ${(committed - finalRoundAt).toFixed(1)} ms (final round's first data to handover, as seen here); state digest ${digest}\n`),
    );
  } catch (e) {
    if (!(e instanceof MigrationError)) throw e;
    process.stderr.write(`ferry86 receive: ${describeMigrationError(e)}\n`);
    return 1;
  }
  if (pager) {
    pager.complete.then(
      (d) => process.stderr.write(`\nferry86 receive: post-copy complete: every page arrived in ${pager!.stats.faults} faults (${pager!.stats.blockTimeMs.toFixed(1)} ms blocked), state digest at the handover ${d} verified\n`),
      (e: MigrationError) => process.stderr.write(`\nferry86 receive: ${describeMigrationError(e)}\n`),
    );
  }
  return runGuest(m, runtime, runFor, pager);
}

/** Listens, takes the first connection and stops listening (one migration per command). */
function acceptOne(host: string, port: number, listening: (where: string) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer();
    server.once('error', reject);
    server.once('connection', (s) => {
      // A socket buffers what arrives until someone listens for 'data': nothing is lost
      // between here and the transport's creation.
      server.close();
      resolve(s);
    });
    server.listen(port, host, () => {
      const a = server.address();
      listening(typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a));
    });
  });
}

/** Runs the received guest with COM1 on stdio until the budget, Ctrl-C or the guest stops. */
async function runGuest(m: MigratablePc, runtime: RuntimeState, max: number, pager: PostCopyPager | null): Promise<number> {
  const out = new ConsoleOut();
  out.state.serialSeq = runtime.serialSeq;
  const start = m.instructionCount;
  let why: string;
  try {
    why = await runOnConsole(m, (n) => (pager ? pager.run(n) : m.run(n)), max, out);
  } catch (e) {
    if (!(e instanceof MigrationError)) throw e;
    process.stderr.write(`\nferry86 receive: ${describeMigrationError(e)}\n`);
    return 1;
  }
  if (pager) await pager.complete.catch(() => {});
  process.stderr.write(`\nferry86 receive: ${why} after ${m.instructionCount - start} instructions (at ${m.instructionCount}); state digest ${stateDigest(m, [out.state])}\n`);
  return 0;
}

export const receiveCommand = { summary: 'accept a live migration over TCP (from ferry86 send) and run the guest', usage: USAGE, main };
