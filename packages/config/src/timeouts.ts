import { InvalidArgumentError } from '@ctrd/errdefs';
import { parseDuration } from '@ctrd/plugin/schema';

/**
 * TIMEOUT_KEYS names the `[timeouts]` keys containerd 1.6 has, each with the code that reads it:
 *
 * | key | default | read by |
 * | --- | --- | --- |
 * | `io.containerd.timeout.bolt.open` | `0s` (wait forever) | the metadata plugin, opening its database |
 * | `io.containerd.timeout.shim.load` | `5s` | runtime v2: reconnecting to the shim of a task found at start-up |
 * | `io.containerd.timeout.shim.cleanup` | `5s` | runtime v2: `<shim> delete` after a shim is gone, and the cleanup of a failed start |
 * | `io.containerd.timeout.shim.shutdown` | `3s` | runtime v2: the Shutdown call that lets a shim exit |
 * | `io.containerd.timeout.task.state` | `2s` | the tasks service: the State call per task behind Get and List |
 *
 * Any other key is kept too (plugins may read their own); an unknown key reads as
 * {@link DEFAULT_TIMEOUT_MS}, as in containerd.
 */
export const TIMEOUT_KEYS = {
  boltOpen: 'io.containerd.timeout.bolt.open',
  shimLoad: 'io.containerd.timeout.shim.load',
  shimCleanup: 'io.containerd.timeout.shim.cleanup',
  shimShutdown: 'io.containerd.timeout.shim.shutdown',
  taskState: 'io.containerd.timeout.task.state',
} as const;

/** DEFAULT_TIMEOUTS are containerd 1.6's built-in values for {@link TIMEOUT_KEYS}, as Go durations. */
export const DEFAULT_TIMEOUTS: Readonly<Record<string, string>> = Object.freeze({
  [TIMEOUT_KEYS.boltOpen]: '0s',
  [TIMEOUT_KEYS.shimCleanup]: '5s',
  [TIMEOUT_KEYS.shimLoad]: '5s',
  [TIMEOUT_KEYS.shimShutdown]: '3s',
  [TIMEOUT_KEYS.taskState]: '2s',
});

/** DEFAULT_TIMEOUT_MS is what a key nobody set reads as: one second, containerd's default. */
export const DEFAULT_TIMEOUT_MS = 1000;

/**
 * parseTimeouts checks a `[timeouts]` table and returns it in milliseconds; a value that is not
 * a Go duration is an InvalidArgumentError, as it stops containerd's start-up.
 */
export function parseTimeouts(values: Readonly<Record<string, string>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of Object.entries(values)) {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (err) {
      throw new InvalidArgumentError(`[timeouts] "${key}": unable to parse ${JSON.stringify(value)} into a time duration`, { cause: err });
    }
    if (ms < 0) throw new InvalidArgumentError(`[timeouts] "${key}": ${value} is negative`);
    out.set(key, ms);
  }
  return out;
}

/**
 * Timeouts is the accessor plugins read named timeouts through: the built-in defaults with the
 * config's `[timeouts]` laid over them. `get` returns milliseconds (0 means no limit).
 */
export class Timeouts {
  readonly #ms: Map<string, number>;

  constructor(values: Readonly<Record<string, string>> = {}) {
    this.#ms = parseTimeouts({ ...DEFAULT_TIMEOUTS, ...values });
  }

  /** get returns a key's timeout in milliseconds, {@link DEFAULT_TIMEOUT_MS} when it was never set. */
  get(key: string): number {
    return this.#ms.get(key) ?? DEFAULT_TIMEOUT_MS;
  }

  /** has reports whether a key was set by default or config. */
  has(key: string): boolean {
    return this.#ms.has(key);
  }

  /** set changes one key (a plugin registering its own default, or a test). */
  set(key: string, ms: number): void {
    if (!(ms >= 0)) throw new InvalidArgumentError(`timeout "${key}" must be a non-negative number of milliseconds`);
    this.#ms.set(key, ms);
  }

  /** signal returns an AbortSignal that fires after the key's timeout; one that never fires for 0. */
  signal(key: string): AbortSignal {
    const ms = this.get(key);
    return ms > 0 ? AbortSignal.timeout(ms) : new AbortController().signal;
  }

  /** all returns every key that was set, in milliseconds. */
  all(): Record<string, number> {
    return Object.fromEntries([...this.#ms].sort(([a], [b]) => a.localeCompare(b)));
  }
}

let current = new Timeouts();

/**
 * timeouts returns the daemon's timeouts: the defaults until the daemon applies its config with
 * {@link configureTimeouts} at start-up, before any plugin initialises. Like containerd's, the
 * table is one per process.
 */
export function timeouts(): Timeouts {
  return current;
}

/** configureTimeouts replaces the process's timeouts with the defaults plus `values`, and returns them. */
export function configureTimeouts(values: Readonly<Record<string, string>>): Timeouts {
  current = new Timeouts(values);
  return current;
}
