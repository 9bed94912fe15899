import { UnavailableError } from '@ctrd/errdefs';
import { fault } from '@ctrd/fault';
import type { GcScheduler, GcStats } from '@ctrd/metadata';

/** Collectable is what the scheduler drives: a collection and the change feed of the metadata store. */
export interface Collectable {
  collectGarbage(): Promise<GcStats>;
  onMutation(fn: (dirty: boolean) => void): () => void;
}

/** SchedulerOptions are containerd's scheduler settings, in milliseconds and fractions. */
export interface SchedulerOptions {
  /** largest share of wall time spent collecting (0.02 = 2 %); 0 disables the limit. */
  pauseThreshold: number;
  /** deletions that force a collection even when one is already scheduled later; 0 = any deletion, rate-limited. */
  deletionThreshold: number;
  /** mutations that schedule a collection; 0 disables the trigger. */
  mutationThreshold: number;
  /** delay between a trigger and its collection. */
  scheduleDelayMs: number;
  /** delay before the first collection after start; 0 = none until something triggers one. */
  startupDelayMs: number;
  /** called when a collection fails (the scheduler goes on). */
  onError?: (err: unknown) => void;
  /** called after each successful collection. */
  onCollected?: (stats: GcStats) => void;
}

interface Waiter {
  resolve(stats: GcStats): void;
  reject(err: unknown): void;
}

/**
 * Scheduler is ctrd's GC scheduler, following containerd's rules: a collection runs after
 * `startupDelayMs`, then whenever a deletion (or `mutationThreshold` mutations, or an explicit
 * request) triggers one, `scheduleDelayMs` later. Triggers by deletions and mutations are
 * rate-limited so that, on average, collections take at most `pauseThreshold` of the time: after
 * each run the next automatic one waits `avg / pauseThreshold - avg`. Explicit requests and
 * `deletionThreshold` bypass the limit.
 *
 * Unlike containerd, no timer ticks while there is nothing to collect: a trigger arriving
 * inside the rate-limit window is scheduled at the window's end instead.
 */
export class Scheduler implements GcScheduler {
  readonly #target: Collectable;
  readonly #opts: SchedulerOptions;
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  #next: number | undefined;
  #last: number | undefined;
  #interval = 1000;
  #gcTime = 0;
  #collections = 0;
  #triggered = false;
  #deletions = 0;
  #mutations = 0;
  #running = false;
  #closed = false;
  #waiters: Waiter[] = [];

  constructor(target: Collectable, opts: SchedulerOptions) {
    this.#target = target;
    this.#opts = opts;
    this.#unsubscribe = target.onMutation((dirty) => this.#onMutation(dirty));
    if (opts.startupDelayMs > 0) this.#schedule(opts.startupDelayMs);
  }

  /** collections is the number of collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /** nextRunIn is the time until the scheduled collection, or undefined when none is scheduled. */
  get nextRunIn(): number | undefined {
    return this.#next === undefined ? undefined : Math.max(0, this.#next - Date.now());
  }

  schedule(): void {
    if (this.#closed) return;
    this.#triggered = true;
    this.#reschedule();
  }

  scheduleAndWait(): Promise<GcStats> {
    if (this.#closed) return Promise.reject(new UnavailableError('gc scheduler is closed'));
    return new Promise<GcStats>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** close stops scheduling; waiting callers are rejected with Unavailable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#next = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(new UnavailableError('gc scheduler is closed'));
  }

  #onMutation(dirty: boolean): void {
    if (this.#closed) return;
    this.#mutations++;
    if (dirty) this.#deletions++;
    this.#reschedule();
  }

  /** #reschedule applies containerd's trigger rules after an event. */
  #reschedule(): void {
    if (this.#running) return; // re-evaluated when the run ends
    const o = this.#opts;
    const forced = this.#triggered || (o.deletionThreshold > 0 && this.#deletions >= o.deletionThreshold);
    const wanted = (o.deletionThreshold === 0 && this.#deletions > 0) || (o.mutationThreshold > 0 && this.#mutations >= o.mutationThreshold);
    if (forced) {
      if (this.#next === undefined || this.#next > Date.now() + o.scheduleDelayMs) this.#schedule(o.scheduleDelayMs);
      return;
    }
    // Like containerd, only a forced trigger brings a scheduled collection (the start-up one, or
    // the rate limit's) forward; anything else waits for it.
    if (!wanted || this.#next !== undefined) return;
    const delay = this.#last === undefined ? o.scheduleDelayMs : Math.max(o.scheduleDelayMs, this.#last + this.#interval - Date.now());
    this.#schedule(delay);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#next = Date.now() + ms;
    this.#timer = setTimeout(() => void this.#run(), ms);
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    this.#next = undefined;
    if (this.#closed) return;
    const o = this.#opts;
    const idle = !this.#triggered && this.#last !== undefined && this.#deletions === 0 &&
      (o.mutationThreshold === 0 || this.#mutations < o.mutationThreshold);
    if (idle) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#triggered = false;
    this.#deletions = 0;
    this.#mutations = 0;
    this.#running = true;
    const started = performance.now();
    let failed = false;
    try {
      fault('gc.collect');
      const stats = await this.#target.collectGarbage();
      this.#gcTime += performance.now() - started;
      this.#collections++;
      if (o.pauseThreshold > 0) {
        const avg = this.#gcTime / this.#collections;
        this.#interval = avg / o.pauseThreshold - avg;
      }
      o.onCollected?.(stats);
      for (const w of waiters) w.resolve(stats);
    } catch (err) {
      failed = true;
      o.onError?.(err);
      for (const w of waiters) w.reject(err);
    } finally {
      this.#last = Date.now();
      this.#running = false;
    }
    if (this.#closed) return;
    if (failed) {
      // Retry later even if nothing else happens, as containerd does, without spinning on a persistent error.
      this.#deletions++;
      this.#schedule(this.#interval + 1000);
      return;
    }
    this.#reschedule();
  }
}
