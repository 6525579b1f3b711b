import type { MigrationStats } from '@ferry86/migrate';

const MB = 1024 * 1024;

/** A migration's statistics as a short human-readable report (QEMU `info migrate` style). */
export function formatMigrationStats(s: MigrationStats): string {
  const lines = [
    `status: ${s.status}${s.convergence ? ` (pre-copy stopped: ${s.convergence})` : ''}`,
    `total time: ${s.totalTimeMs.toFixed(0)} ms, setup ${s.setupTimeMs.toFixed(1)} ms`,
    `downtime: ${s.downtimeMs.toFixed(1)} ms (expected ${s.expectedDowntimeMs.toFixed(1)} ms, limit ${s.downtimeLimitMs} ms)`,
    `transferred: ${(s.bytesTransferred / MB).toFixed(1)} MiB of ${(s.ram.totalBytes / MB).toFixed(0)} MiB RAM` +
      ` at ${(s.bandwidthBytesPerSec / MB).toFixed(0)} MiB/s; ${s.ram.fullPages} full pages, ${s.ram.zeroPages} zero pages`,
    `dirty rate: ${s.ram.dirtyPagesRate.toFixed(0)} pages/s`,
    'rounds:',
    ...s.rounds.map(
      (r) =>
        `  ${String(r.round).padStart(2)}${r.stopAndCopy ? ' stop-and-copy' : ''}: ${r.pages} pages` +
        ` (${r.zeroPages} zero), ${(r.bytes / MB).toFixed(1)} MiB, ${r.durationMs.toFixed(0)} ms, ${r.dirtyPagesAfter} dirty after`,
    ),
  ];
  return lines.join('\n');
}
