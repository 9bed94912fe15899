import { UnavailableError } from '@ctrd/errdefs';

interface Held {
  since: Date;
  hr: bigint;
}

// Process-wide, keyed by absolute ingest path: two store instances on one root share the locks,
// stores on different roots never contend.
const refLocks = new Map<string, Held>();

const UNITS: Array<[number, string]> = [
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];

function trimFraction(n: number, scale: number): string {
  const whole = Math.floor(n / scale);
  const frac = n % scale;
  if (frac === 0) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(frac).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * formatDuration renders nanoseconds the way Go's `time.Duration.String` does
 * (`850µs`, `12.5ms`, `1.5s`, `2m3.25s`, `1h0m0s`), so lock messages read like containerd's.
 */
export function formatDuration(ns: number): string {
  const n = Math.max(0, Math.round(ns));
  if (n === 0) return '0s';
  if (n < 1e9) {
    for (const [scale, unit] of UNITS) if (n >= scale) return `${trimFraction(n, scale)}${unit}`;
  }
  const h = Math.floor(n / 3.6e12);
  const m = Math.floor((n % 3.6e12) / 6e10);
  const s = trimFraction(n % 6e10, 1e9);
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * tryLockRef takes the in-process lock on the ingest at `key` for `ref`, or throws Unavailable
 * (`ref <ref> locked for <duration> (since <time>)`) when another writer holds it. It returns
 * the release function; releasing twice is harmless.
 */
export function tryLockRef(key: string, ref: string): () => void {
  const held = refLocks.get(key);
  if (held !== undefined) {
    const age = Number(process.hrtime.bigint() - held.hr);
    throw new UnavailableError(`ref ${ref} locked for ${formatDuration(age)} (since ${held.since.toISOString()})`);
  }
  const mine: Held = { since: new Date(), hr: process.hrtime.bigint() };
  refLocks.set(key, mine);
  return () => {
    if (refLocks.get(key) === mine) refLocks.delete(key);
  };
}

// Process-wide as well, keyed by absolute blob path.
const digestQueues = new Map<string, Promise<unknown>>();

/**
 * withBlobLock runs `fn` after every earlier call for the same `key` has settled, so commit,
 * update and delete of one blob never interleave within the process.
 */
export async function withBlobLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = digestQueues.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  digestQueues.set(key, tail);
  try {
    return await run;
  } finally {
    if (digestQueues.get(key) === tail) digestQueues.delete(key);
  }
}
