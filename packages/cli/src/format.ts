import { InvalidArgumentError } from '@ctrd/errdefs';

/**
 * parseLabelArgs turns `key=value` arguments into labels, as ctr does: `key=` and a bare `key`
 * give an empty value (which clears the label in an update). An empty key is InvalidArgument.
 */
export function parseLabelArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const at = a.indexOf('=');
    const key = at < 0 ? a : a.slice(0, at);
    if (key === '') throw new InvalidArgumentError(`invalid label ${JSON.stringify(a)}: empty key`);
    out[key] = at < 0 ? '' : a.slice(at + 1);
  }
  return out;
}

/** formatLabels joins labels as sorted `k=v` pairs separated by commas; `empty` when there are none. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined, empty = '-'): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? empty : pairs.sort().join(',');
}

/**
 * decimalSize formats bytes in decimal units with four significant digits (`1.234kB`, `12B`),
 * as ctr's content listings do.
 */
export function decimalSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/**
 * humanAge describes a span of milliseconds in words, as ctr's AGE columns do
 * (`Less than a second`, `About a minute`, `3 hours`, `2 weeks`).
 */
export function humanAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = ms / 3_600_000;
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(ms / 60_000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const hours = Math.round(h);
  if (hours === 1) return 'About an hour';
  if (h < 48) return `${hours} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/**
 * rfc3339 formats a date in local time with its offset and no fractional seconds
 * (`2024-05-01T12:00:00+02:00`), as Go's time.RFC3339 does.
 */
export function rfc3339(d: Date): string {
  const pad = (n: number): string => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

/**
 * jsonSafe prepares a decoded protobuf message for JSON: byte arrays become base64 strings (as
 * Go's encoding/json writes []byte) and Dates ISO strings.
 */
export function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v);
    return out;
  }
  return value;
}

/** parseDuration reads a Go-style duration (`90s`, `1h30m`, `500ms`) as milliseconds. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  if (s === '0') return 0;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s === '' || matched !== s.length) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(s)}`);
  return total;
}
