import { ResourceExhaustedError } from '@ctrd/errdefs';
import type { Envelope } from '@ctrd/events';
import type { Adaptor, Filter } from '@ctrd/filters';
import { Fifo } from './ring.js';

/** Entry is an envelope as the exchange stores it: sealed, with its filter adaptor built once. */
export interface Entry {
  readonly envelope: Envelope & { readonly sequence: number };
  readonly adaptor: Adaptor;
}

type State = 'open' | 'overflowed' | 'closing' | 'done';

interface Waiter {
  resolve(result: IteratorResult<Envelope>): void;
  reject(err: unknown): void;
}

const DONE: IteratorResult<Envelope> = Object.freeze({ done: true, value: undefined });

/**
 * Subscription is one subscriber's stream. The exchange offers it every envelope; those its filter
 * selects are queued until the consumer pulls them. Replayed envelopes come first and do not count
 * against `limit`, which bounds only the live queue.
 *
 * When the live queue is full the subscription stops accepting envelopes and counts the ones it
 * misses; the consumer still receives everything queued before that, then the iteration fails
 * with ResourceExhausted naming the count and the last sequence delivered (to resume from with
 * `after`). An abort ends the stream at once; closing the exchange ends it after the queue drains.
 */
export class Subscription implements AsyncIterableIterator<Envelope> {
  readonly #replay = new Fifo<Envelope>();
  readonly #queue = new Fifo<Envelope>();
  readonly #waiters: Waiter[] = [];
  #state: State = 'open';
  #missed = 0;
  #lastDelivered: number;
  #detach: (() => void) | undefined;

  constructor(
    private readonly filter: Filter,
    private readonly limit: number,
    replay: Iterable<Entry>,
    after: number,
    private readonly onEnd: (sub: Subscription) => void,
  ) {
    this.#lastDelivered = after;
    for (const entry of replay) {
      if (entry.envelope.sequence > after && filter.match(entry.adaptor)) this.#replay.push(entry.envelope);
    }
  }

  /** Ends the subscription when `signal` aborts; the listener is removed when the stream ends. */
  watch(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) {
      this.abort();
      return;
    }
    const onAbort = (): void => this.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#detach = () => signal.removeEventListener('abort', onAbort);
  }

  /** Takes `entry` if the filter selects it; never blocks and never throws. */
  offer(entry: Entry): void {
    if (this.#state !== 'open' && this.#state !== 'overflowed') return;
    if (!this.filter.match(entry.adaptor)) return;
    if (this.#state === 'overflowed') {
      this.#missed++;
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#lastDelivered = entry.envelope.sequence;
      waiter.resolve({ done: false, value: entry.envelope });
      return;
    }
    if (this.#queue.length >= this.limit) {
      this.#state = 'overflowed';
      this.#missed = 1;
      return;
    }
    this.#queue.push(entry.envelope);
  }

  next(): Promise<IteratorResult<Envelope>> {
    const value = this.#replay.shift() ?? this.#queue.shift();
    if (value !== undefined) {
      this.#lastDelivered = value.sequence!;
      return Promise.resolve({ done: false, value });
    }
    switch (this.#state) {
      case 'open':
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      case 'overflowed': {
        const err = this.#overflowError();
        this.#finish();
        return Promise.reject(err);
      }
      default:
        this.#finish();
        return Promise.resolve(DONE);
    }
  }

  return(): Promise<IteratorResult<Envelope>> {
    this.abort();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream now, dropping whatever is queued. */
  abort(): void {
    if (this.#state === 'done') return;
    this.#replay.clear();
    this.#queue.clear();
    this.#finish();
  }

  /** Stops taking envelopes; the consumer drains the queue and then sees the end (or the overflow error). */
  close(): void {
    if (this.#state === 'open') this.#state = 'closing';
    this.#unregister();
    if (this.#waiters.length > 0) this.#finish();
  }

  #overflowError(): ResourceExhaustedError {
    return new ResourceExhaustedError(
      `event subscriber fell behind: missed ${this.#missed} events after sequence ${this.#lastDelivered} ` +
        `(queue limit ${this.limit})`,
    );
  }

  #finish(): void {
    const failed = this.#state === 'overflowed' && this.#waiters.length > 0 ? this.#overflowError() : undefined;
    this.#state = 'done';
    this.#unregister();
    for (const w of this.#waiters.splice(0)) {
      if (failed) w.reject(failed);
      else w.resolve(DONE);
    }
  }

  #unregister(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.onEnd(this);
  }
}
