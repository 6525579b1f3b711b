/**
 * `pnpm demo:browser [--port N]`: builds the bundles, then serves the browser demo and prints its
 * address. Open it in any evergreen browser; Ctrl-C stops the server.
 */
import { parseArgs } from 'node:util';
import { startDemoServer } from './server.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8086' }, host: { type: 'string', default: '127.0.0.1' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: pnpm demo:browser [--port N] [--host ADDRESS]');
  process.exit(2);
}
const server = await startDemoServer({ port, host: values.host });
console.log(`ferry86 browser demo: ${server.url}`);
console.log('  options: ?migrations=6&mem=64&ticks=2    (Ctrl-C to stop)');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.close().then(() => process.exit(0)));
