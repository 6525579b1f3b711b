/**
 * What `ferry86 send` and `ferry86 receive` share: the guest console on stdout, whose byte
 * position travels with the guest (RuntimeState, as in the worker runtime) so the receiver's
 * console continues exactly where the sender's stopped; and how migration figures are printed.
 */
import { RuntimeState, type MigrationError, type RoundStats } from '@ferry86/migrate';
import { UsageError, parseCount } from './usage.ts';

/** Run exits after which the guest cannot continue by itself. */
export const STOPS: ReadonlySet<string> = new Set(['shutdown', 'halted', 'absent']);

/** Guest serial output to stdout in batches, counting the stream position. */
export class ConsoleOut {
  /** Migrates with the guest: the number of console bytes it has written since boot. */
  readonly state = new RuntimeState();
  private buf = new Uint8Array(4096);
  private len = 0;

  push(b: number): void {
    if (this.len === this.buf.length) this.flush();
    this.buf[this.len++] = b;
    this.state.serialSeq++;
  }

  flush(): void {
    if (this.len === 0) return;
    process.stdout.write(this.buf.slice(0, this.len));
    this.len = 0;
  }
}

export function parseHostPort(text: string): { host: string; port: number } {
  // "host:port", "[v6::addr]:port" or ":port" (localhost).
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--to expects HOST:PORT, not "${text}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: parseCount('to', m[3]!, 1, 65535) };
}

export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(2)} MiB`;
}

export function describeRound(r: RoundStats): string {
  const kind = r.stopAndCopy ? 'stop-and-copy' : `round ${r.round}`;
  return `${kind}: ${r.pages} pages (${r.zeroPages} zero), ${mib(r.bytes)} in ${r.durationMs.toFixed(1)} ms` +
    (r.stopAndCopy ? '' : `, ${r.dirtyPagesAfter} dirty after`);
}

/** A MigrationError as one line: its code says which side failed and how. */
export function describeMigrationError(e: MigrationError): string {
  return `migration failed (${e.code}): ${e.message}`;
}

/** A socket error as a person would say it. */
export function describeSocketError(e: NodeJS.ErrnoException, where: string): string {
  switch (e.code) {
    case 'ECONNREFUSED': return `cannot connect to ${where}: connection refused (is 'ferry86 receive' listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `cannot connect to ${where}: unknown host`;
    case 'ETIMEDOUT': return `cannot connect to ${where}: timed out`;
    case 'EADDRINUSE': return `cannot listen on ${where}: the address is in use`;
    case 'EACCES': return `cannot listen on ${where}: permission denied`;
    default: return `${where}: ${e.message}`;
  }
}
