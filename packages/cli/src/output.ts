/** OutputFormat is `--format`: a table for people or JSON for scripts. */
export type OutputFormat = 'table' | 'json';

/**
 * table renders rows as columns separated by at least four spaces, like ctr's tabwriter output;
 * the first row is the header.
 */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 4))).join('').trimEnd()).join('\n') + '\n';
}

/** print writes text to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
}

/** printJSON writes a value as indented JSON. */
export function printJSON(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** humanSize formats bytes as ctr does (`1.2 MiB`). */
export function humanSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** humanDuration formats a millisecond count briefly (`850µs`, `12.3ms`, `1.2s`). */
export function humanDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}
