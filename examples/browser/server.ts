/**
 * A tiny static server for the browser demo (node:http only). It serves just what the page needs:
 * the page itself, the browser bundles in dist/browser and the toy OS image. It sends the
 * cross-origin isolation headers so the page may use SharedArrayBuffer (DESIGN §2.7).
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root; every served file lies under one of PUBLIC below it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUBLIC = ['/examples/browser/', '/dist/browser/', '/examples/toyos/toyos.bin'];
export const DEMO_PAGE = '/examples/browser/index.html';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

export interface DemoServer {
  /** Address of the demo page, e.g. http://127.0.0.1:8086/examples/browser/index.html */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the server; port 0 (the default) picks a free port. */
export async function startDemoServer(opts: { port?: number; host?: string } = {}): Promise<DemoServer> {
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path === '/') {
      res.writeHead(302, { location: DEMO_PAGE }).end();
      return;
    }
    const allowed = PUBLIC.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !allowed || path.includes('..')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not served: ${path}\n`);
      return;
    }
    readFile(join(ROOT, path)).then(
      (body) => {
        res.writeHead(200, {
          'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
          'content-length': body.length,
          'cache-control': 'no-store',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        const hint = path.startsWith('/dist/') ? ' (run `node scripts/build.mjs`)' : '';
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}${hint}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  return {
    url: `http://${host}:${port}${DEMO_PAGE}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
