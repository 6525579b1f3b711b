/** Prints benchmark figures as aligned tables, one row per system, with ratios to ferry86. */

export interface Row {
  label: string;
  cells: (string | number)[];
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export function printTable(title: string, header: string[], rows: Row[]): void {
  const all = [['', ...header], ...rows.map((r) => [r.label, ...r.cells.map(String)])];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  console.log(`\n${title}`);
  for (const [n, r] of all.entries()) {
    console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (n === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** Percentile of a sorted copy of `values` (nearest-rank). */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
