/**
 * The browser demo (examples/browser/index.html): boots the toy OS in Web Worker A, shows its
 * serial console, and migrates it live to worker B and back a few times while its memory workload
 * runs, with each migration's downtime. test/browser.test.ts drives this page in headless
 * Chromium and reads `window.ferry86Demo`.
 *
 * Query parameters: migrations (default 6), mem (MiB, default 64), ticks (heartbeats the guest
 * prints on each host before it moves on, default 2).
 */
import { SerialAssembler, VmWorker } from '@ferry86/migrate';

export interface DemoMigration {
  /** 'completed' when the destination verified the state and took over. */
  status: string;
  from: string;
  to: string;
  downtimeMs: number;
  totalTimeMs: number;
  rounds: number;
  bytesTransferred: number;
  /** The state digest the destination verified before the guest ran there. */
  digest: string;
  /** Last heartbeat printed before the migration started. */
  lastTickBefore: number;
  /** The source refuses to run the guest again after the handover. */
  sourceFenced: boolean;
}

/** What the page reports (window.ferry86Demo); test/browser.test.ts reads it. */
export interface DemoReport {
  phase: 'loading' | 'booting' | 'migrating' | 'running' | 'failed';
  error: string;
  config: { memoryMiB: number; pacing: 'deterministic' };
  /** Everything the guest printed, in order, across all hosts. */
  serial: string;
  migrations: DemoMigration[];
  /** Taken with the guest paused after the last migration. */
  final: { host: string; instructionCount: number; digest: string } | null;
  crossOriginIsolated: boolean;
  /** Types a line into the guest's serial console (whichever worker runs it now). */
  sendSerial(text: string): Promise<void>;
}

const params = new URLSearchParams(location.search);
const count = (name: string, fallback: number, min: number): number => {
  const v = Number(params.get(name) ?? fallback);
  return Number.isInteger(v) && v >= min ? v : fallback;
};
const MIGRATIONS = count('migrations', 6, 0);
const TICKS_PER_HOST = count('ticks', 2, 1);
const CONFIG = { memoryMiB: count('mem', 64, 9), pacing: 'deterministic' as const };

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const statusEl = $('status');
const serialEl = $('serial');
const rowsEl = $<HTMLTableElement>('migrations').tBodies[0]!;

let host = 'A';
let current: VmWorker | null = null;
const report: DemoReport = {
  phase: 'loading',
  error: '',
  config: CONFIG,
  serial: '',
  migrations: [],
  final: null,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  sendSerial: async (text) => {
    if (!current) throw new Error('the guest is not running yet');
    await current.sendSerial(text);
  },
};
(globalThis as unknown as { ferry86Demo: DemoReport }).ferry86Demo = report;

function setStatus(phase: DemoReport['phase'], text: string): void {
  report.phase = phase;
  statusEl.textContent = text;
  statusEl.className = phase;
}

// ---- the guest's console: one gap-free stream across both workers ----------------------------

let lastTick = 0;
let line = '';
const tickWaiters: { tick: number; resolve: () => void }[] = [];
const decoder = new TextDecoder();

const serial = new SerialAssembler((bytes) => {
  const text = decoder.decode(bytes, { stream: true });
  report.serial += text;
  // Colour each piece of output by the worker that produced it.
  const span = document.createElement('span');
  span.className = `host-${host}`;
  span.textContent = text.replace(/\r/g, '');
  serialEl.append(span);
  while (serialEl.childNodes.length > 2000) serialEl.firstChild!.remove();
  serialEl.scrollTop = serialEl.scrollHeight;
  line += text;
  let nl: number;
  while ((nl = line.indexOf('\n')) >= 0) {
    const m = /^tick (\d+)\r?$/.exec(line.slice(0, nl));
    line = line.slice(nl + 1);
    if (m) lastTick = Number(m[1]);
  }
  for (let i = tickWaiters.length - 1; i >= 0; i--) {
    if (lastTick >= tickWaiters[i]!.tick) tickWaiters.splice(i, 1)[0]!.resolve();
  }
});

const untilTick = (tick: number): Promise<void> =>
  lastTick >= tick ? Promise.resolve() : new Promise((resolve) => tickWaiters.push({ tick, resolve }));

// ---- boot, migrate back and forth ------------------------------------------------------------

function addRow(n: number, m: DemoMigration): void {
  const tr = rowsEl.insertRow();
  const cells = [
    String(n),
    `${m.from} → ${m.to}`,
    m.downtimeMs.toFixed(1),
    m.totalTimeMs.toFixed(0),
    String(m.rounds),
    (m.bytesTransferred / 2 ** 20).toFixed(1),
    String(m.lastTickBefore),
  ];
  for (const c of cells) tr.insertCell().textContent = c;
}

async function main(): Promise<void> {
  const image = await fetch(new URL('/examples/toyos/toyos.bin', location.href));
  if (!image.ok) throw new Error(`could not fetch the toy OS image: HTTP ${image.status}`);
  const toyos = new Uint8Array(await image.arrayBuffer());

  const workers = { A: await VmWorker.spawn({ name: 'vm-A' }), B: await VmWorker.spawn({ name: 'vm-B' }) };
  await workers.A.subscribeSerial(serial);
  await workers.B.subscribeSerial(serial);

  setStatus('booting', `booting the toy OS (${CONFIG.memoryMiB} MiB) in worker A`);
  await workers.A.create(CONFIG);
  await workers.A.loadMultiboot(toyos, '');
  await workers.A.start();
  current = workers.A;
  await untilTick(TICKS_PER_HOST);

  for (let i = 1; i <= MIGRATIONS; i++) {
    const from = host;
    const to = host === 'A' ? 'B' : 'A';
    setStatus('migrating', `migration ${i} of ${MIGRATIONS}: worker ${from} → worker ${to}`);
    const lastTickBefore = lastTick;
    const r = await VmWorker.migrate(workers[from as 'A'], workers[to as 'B']);
    host = to;
    current = workers[to as 'A'];
    const m: DemoMigration = {
      status: r.stats.status,
      from,
      to,
      downtimeMs: r.stats.downtimeMs,
      totalTimeMs: r.stats.totalTimeMs,
      rounds: r.stats.rounds.length,
      bytesTransferred: r.stats.bytesTransferred,
      digest: r.digest,
      lastTickBefore,
      sourceFenced: (await workers[from as 'A'].status()).fenced,
    };
    report.migrations.push(m);
    addRow(i, m);
    // Let the guest show it carries on in its new worker before moving it again.
    await untilTick(lastTick + TICKS_PER_HOST);
  }

  await current.pause();
  report.final = { host, instructionCount: await current.instructionCount(), digest: await current.digest() };
  await current.start();
  const downs = report.migrations.map((m) => m.downtimeMs.toFixed(0)).join(', ');
  setStatus(
    'running',
    `${MIGRATIONS} live migrations done (downtime ms: ${downs || 'none'}); the guest runs on in worker ${host}.`,
  );
}

document.getElementById('input')!.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('line');
  void report.sendSerial(`${input.value}\r`).catch((e: unknown) => setStatus('failed', String(e)));
  input.value = '';
});

main().catch((e: unknown) => {
  report.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  setStatus('failed', `failed: ${report.error}`);
  console.error(e);
});
