import type { RowReport } from './lib.js';

const COLS: { head: string; get: (r: RowReport) => string }[] = [
  { head: 'id', get: (r) => r.id },
  { head: 'what', get: (r) => r.what },
  { head: 'run', get: (r) => `${r.cases.toLocaleString('en-US')} ${r.unit}` },
  { head: 'lost', get: (r) => String(r.lost) },
  { head: 'dup', get: (r) => String(r.duplicates) },
  { head: 'crash/hang', get: (r) => String(r.crashes) },
  { head: 'verdict', get: (r) => (r.cases === 0 ? 'FAIL (ran nothing)' : r.verdict) },
];

/** The summary table, one row per torture row, as Markdown (it goes into the README as is). */
export function printTable(rows: RowReport[], write: (s: string) => void): void {
  const cells = rows.map((r) => COLS.map((c) => c.get(r)));
  const widths = COLS.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i])).join(' | ')} |\n`;
  write('\n');
  write(line(COLS.map((c) => c.head)));
  write(line(widths.map((w) => '-'.repeat(w))));
  for (const row of cells) write(line(row));
  for (const r of rows) if (r.notes) write(`${r.id}: ${r.notes}\n`);
  write('\n');
}
