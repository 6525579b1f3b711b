/**
 * The browser promise: the browser bundles (dist/browser/ferry86.mjs and the module Web Worker
 * dist/browser/vm-worker.mjs) run the demo page examples/browser in headless Chromium. The toy OS
 * boots in Web Worker A and is migrated live between workers A and B several times; the page's
 * console sees every heartbeat exactly once, the guest's checker finds nothing lost, and the final
 * state equals that of an uninterrupted run to the same instruction — run here under Node, so the
 * browser and Node hosts are proved to execute the guest identically.
 *
 * Needs Debian's chromium (scripts/setup.sh installs it); without it this test fails, never skips.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as NodeWebSocket } from 'ws';
import { createPcMachine, MigrationTarget, stateDigest, VmWorker, WebSocketTransport, type MigratablePc, type WebSocketLike } from '@ferry86/migrate';
import type { DemoReport } from '../examples/browser/main.ts';
import { startDemoServer, type DemoServer } from '../examples/browser/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MIGRATIONS = 6;
const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL('../examples/toyos/toyos.bin', import.meta.url))));
const BUNDLES = ['ferry86.mjs', 'vm-worker.mjs', 'demo/main.mjs'].map((f) => new URL(`../dist/browser/${f}`, import.meta.url));

type Report = Omit<DemoReport, 'sendSerial'>;
const heartbeats = (text: string) => [...text.matchAll(/tick (\d+)\r\n/g)].map((m) => Number(m[1]));

describe('live migration between Web Workers in headless Chromium', () => {
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  const workers: VmWorker[] = [];
  /** What the page logged: shown when something fails. */
  const log: string[] = [];

  /** Checked in the test itself, so that a missing browser or bundle fails it rather than skips it. */
  async function startBrowser(): Promise<void> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh (it installs Debian's chromium), or set CHROMIUM_PATH`);
    }
    for (const b of BUNDLES) {
      if (!existsSync(b)) throw new Error(`${fileURLToPath(b)} is missing: run node scripts/build.mjs (pnpm test does)`);
    }
    server = await startDemoServer();
    browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in a container: no sandbox; /dev/shm is often tiny there.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
  }

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all(workers.map((w) => w.terminate()));
  });

  async function read(page: Page): Promise<Report> {
    return await page.evaluate(() => {
      const { sendSerial: _, ...r } = (globalThis as unknown as { ferry86Demo: DemoReport }).ferry86Demo;
      return r;
    });
  }

  /** Polls the page until cond holds; the bound only turns a hang into a failure with context. */
  async function until(page: Page, cond: (r: Report) => boolean): Promise<Report> {
    for (let i = 0; i < 3000; i++) {
      const r = await read(page);
      if (cond(r)) return r;
      if (r.phase === 'failed') throw new Error(`the page failed: ${r.error}\npage log:\n${log.join('\n')}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const r = await read(page);
    throw new Error(`condition never held (phase ${r.phase}); serial ends:\n${r.serial.slice(-500)}\npage log:\n${log.join('\n')}`);
  }

  it(`runs the toy OS in a Web Worker through ${MIGRATIONS} live migrations with nothing lost, ending in the uninterrupted run's state`, async () => {
    await startBrowser();
    const page = await browser!.newPage();
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    page.on('requestfailed', (r) => log.push(`request failed: ${r.url()}`));
    page.on('response', (r) => {
      if (r.status() >= 400) log.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(`${server!.url}?migrations=${MIGRATIONS}&ticks=2`);
    // Without the page script and its two workers loading, the report never appears.
    await page.waitForFunction(() => 'ferry86Demo' in globalThis).catch(() => {
      throw new Error(`the demo script did not load\npage log:\n${log.join('\n')}`);
    });

    const r = await until(page, (s) => s.phase === 'running');
    expect(r.error).toBe('');
    expect(r.migrations.map((m) => m.status)).toEqual(Array(MIGRATIONS).fill('completed'));
    expect(r.migrations.map((m) => `${m.from}${m.to}`)).toEqual(Array.from({ length: MIGRATIONS }, (_, i) => (i % 2 ? 'BA' : 'AB')));
    for (const m of r.migrations) {
      expect(m.digest).toMatch(/^[0-9a-f]{16,}$/);
      expect(m.sourceFenced).toBe(true);
    }

    const beats = heartbeats(r.serial);
    expect(beats.length).toBeGreaterThan(2 * MIGRATIONS);
    expect(beats).toEqual(beats.map((_, i) => i + 1)); // gap-free and duplicate-free across workers
    // The guest went on printing after every handover.
    for (const m of r.migrations) expect(beats.at(-1)!).toBeGreaterThan(m.lastTickBefore);
    expect(r.serial).toContain('ready\r\n');
    expect(r.serial).not.toMatch(/ERROR|PANIC/);
    console.log(
      `browser: ${MIGRATIONS} migrations between Web Workers, downtime ms: ` +
        `${r.migrations.map((m) => m.downtimeMs.toFixed(0)).join(' ')}; total ms: ` +
        `${r.migrations.map((m) => m.totalTimeMs.toFixed(0)).join(' ')}; ` +
        `${r.final!.instructionCount} instructions; crossOriginIsolated ${r.crossOriginIsolated}`,
    );

    // The same image run without interruption under Node to the browser's final instruction.
    const c = await VmWorker.spawn();
    workers.push(c);
    await c.create(r.config);
    await c.loadMultiboot(TOYOS, '');
    const count = r.final!.instructionCount;
    while ((await c.instructionCount()) < count) {
      await c.step(Math.min(50_000_000, count - (await c.instructionCount())));
    }
    expect(await c.instructionCount()).toBe(count);
    expect(await c.digest()).toBe(r.final!.digest);

    // The checker is live on the final worker: a deliberately rewound page is caught.
    await page.evaluate(() => (globalThis as unknown as { ferry86Demo: DemoReport }).ferry86Demo.sendSerial('corrupt\r'));
    await until(page, (s) => /ERROR: worker 0 page \d+ value \d+ expected \d+/.test(s.serial));
    // Nothing on the page failed along the way (a failed load, an uncaught error in a handler).
    expect(log.filter((l) => /error|failed|HTTP [45]\d\d/i.test(l))).toEqual([]);
  });

  it("migrates a guest from the page to Node over the browser's own WebSocket", async () => {
    if (!browser) await startBrowser();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const config = { memoryMiB: 16, pacing: 'deterministic' };
    try {
      const accepted = new Promise<NodeWebSocket>((r) => wss.once('connection', (ws) => r(ws)));
      const page = await browser!.newPage();
      page.on('pageerror', (e) => log.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
      await page.goto(`${server!.url}`);
      const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
      // In the page: boot the toy OS on its main thread and migrate it live (pre-copy, the guest
      // running between steps) through a WebSocketTransport over the browser's WebSocket.
      // (A string, not a function: the test runner would rewrite a function's import().)
      type Sent = { status: string; rounds: number; downtimeMs: number; count: number; digest: string };
      const sent = page.evaluate(`(async () => {
        const f = await import('/dist/browser/ferry86.mjs');
        const image = new Uint8Array(await (await fetch('/examples/toyos/toyos.bin')).arrayBuffer());
        const m = f.createPcMachine(${JSON.stringify(config)});
        m.loadMultiboot(image, 'workers=2');
        while (m.instructionCount < 3000000) m.run(3000000 - m.instructionCount);
        const transport = new f.WebSocketTransport(new WebSocket(${JSON.stringify(wsUrl)}));
        const stats = await new f.MigrationSource(m, { sliceInstructions: 50000 }).migrate(transport);
        return { status: stats.status, rounds: stats.rounds.length, downtimeMs: stats.downtimeMs, count: m.instructionCount, digest: f.stateDigest(m) };
      })()`) as Promise<Sent>;
      const target = new MigrationTarget<MigratablePc>({ createMachine: (c) => createPcMachine(c as typeof config) });
      // A page that fails before it connects must fail the test, not leave it waiting.
      const socket = await Promise.race([accepted, sent.then(() => Promise.reject(new Error('the page never connected')))]).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\npage log:\n${log.join('\n')}`);
      });
      const received = target.receive(new WebSocketTransport(socket as unknown as WebSocketLike));
      const [r, page2node] = await Promise.all([received, sent]);
      expect(page2node.status).toBe('completed');
      expect(r.digest).toBe(page2node.digest);
      expect(r.machine.instructionCount).toBe(page2node.count);
      console.log(`browser → Node over WebSocket: ${page2node.rounds} rounds, downtime ${page2node.downtimeMs.toFixed(0)} ms, at instruction ${page2node.count}`);
      // The same image run in Node to that instruction is in the same state.
      const ref = createPcMachine(config);
      ref.loadMultiboot(TOYOS, 'workers=2');
      while (ref.instructionCount < page2node.count) ref.run(page2node.count - ref.instructionCount);
      expect(stateDigest(ref)).toBe(r.digest);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((res) => wss.close(res));
    }
  });
});
