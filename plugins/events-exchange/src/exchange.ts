import { InvalidArgumentError, UnavailableError, codeOf, newError } from '@ctrd/errdefs';
import {
  envelopeAdaptor, validateTopic,
  type Envelope, type EventDecoder, type EventPayload, type Exchange, type SubscribeOptions,
} from '@ctrd/events';
import { parseAll, type Filter } from '@ctrd/filters';
import { resolveNamespace, validateNamespace } from '@ctrd/namespaces';
import { Ring } from './ring.js';
import { Subscription, type Entry } from './subscription.js';

/** ExchangeOptions tunes an exchange built by {@link createExchange}. */
export interface ExchangeOptions {
  /** ringSize is how many of the latest envelopes are kept for `subscribe({ after })` (default 4096; 0 keeps none). */
  readonly ringSize?: number;
  /** queueSize bounds each subscription's queue of undelivered live envelopes (default 1024). */
  readonly queueSize?: number;
  /** decodeEvent turns an event's `Any` into an object so filters can use `event.<field>`. */
  readonly decodeEvent?: EventDecoder;
}

/** EventExchange is the in-process {@link Exchange}, with the controls its owner needs. */
export interface EventExchange extends Exchange {
  /** lastSequence is the sequence of the newest envelope (0 before the first). */
  readonly lastSequence: number;
  /** subscriberCount is the number of live subscriptions. */
  readonly subscriberCount: number;
  /** close ends every subscription (each drains its queue first) and refuses further use with Unavailable. Idempotent. */
  close(): void;
}

/* Go's zero time, which is what an unset timestamp becomes in containerd; the Unix epoch is what protobuf's zero Timestamp becomes here. */
const GO_ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

function isZeroTime(ts: unknown): boolean {
  if (!(ts instanceof Date)) return true;
  const t = ts.getTime();
  return Number.isNaN(t) || t === 0 || t <= GO_ZERO_TIME;
}

/** Re-raises `err` with `prefix` in front of its message, keeping its class. */
function prefixed(prefix: string, err: unknown): Error {
  return newError(codeOf(err), `${prefix}: ${(err as Error).message}`, { cause: err });
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
  return value;
}

class InProcessExchange implements EventExchange {
  readonly #ring: Ring<Entry>;
  readonly #queueSize: number;
  readonly #decodeEvent: EventDecoder | undefined;
  readonly #subscribers = new Set<Subscription>();
  #sequence = 0;
  #closed = false;

  constructor(opts: ExchangeOptions) {
    this.#ring = new Ring(checkCount('ringSize', opts.ringSize ?? 4096, 0));
    this.#queueSize = checkCount('queueSize', opts.queueSize ?? 1024, 1);
    this.#decodeEvent = opts.decodeEvent;
  }

  get lastSequence(): number {
    return this.#sequence;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  async publish(namespace: string, topic: string, event: EventPayload): Promise<void> {
    this.#checkOpen();
    let ns: string;
    try {
      ns = resolveNamespace(namespace);
    } catch (err) {
      throw prefixed('failed publishing event', err);
    }
    this.#checkTopic(topic);
    this.#checkEvent(event);
    this.#dispatch({ timestamp: new Date(), namespace: ns, topic, event });
  }

  async forward(envelope: Envelope): Promise<void> {
    this.#checkOpen();
    try {
      validateNamespace(envelope.namespace);
    } catch (err) {
      throw prefixed('event envelope has invalid namespace', err);
    }
    this.#checkTopic(envelope.topic);
    if (isZeroTime(envelope.timestamp)) {
      throw new InvalidArgumentError('timestamp must be set on forwarded event');
    }
    this.#checkEvent(envelope.event);
    this.#dispatch({
      timestamp: new Date(envelope.timestamp.getTime()),
      namespace: envelope.namespace,
      topic: envelope.topic,
      event: envelope.event,
    });
  }

  subscribe(opts: SubscribeOptions = {}): AsyncIterable<Envelope> {
    this.#checkOpen();
    let filter: Filter;
    try {
      filter = parseAll(opts.filters ?? []);
    } catch (err) {
      throw prefixed('failed parsing subscription filters', err);
    }
    const after = opts.after === undefined ? undefined : checkCount('after', opts.after, 0);
    const sub = new Subscription(
      filter,
      this.#queueSize,
      after === undefined ? [] : this.#ring,
      after ?? this.#sequence,
      (s) => this.#subscribers.delete(s),
    );
    // Registered before returning, so nothing published from here on can be missed, and the replay
    // above already ended at the current sequence, so nothing is seen twice.
    this.#subscribers.add(sub);
    sub.watch(opts.signal);
    return sub;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of [...this.#subscribers]) sub.close();
    this.#subscribers.clear();
    this.#ring.clear();
  }

  #dispatch(fields: Omit<Envelope, 'sequence'>): void {
    // The ring keeps envelopes for a long time, so each is built as one fixed literal: spreading
    // `fields` gives V8 a fresh hidden class per envelope once publish and forward have passed
    // differently shaped events, and copying the event keeps only its two fields from the caller.
    const { timestamp, namespace, topic, event } = fields;
    const envelope = Object.freeze({
      timestamp,
      namespace,
      topic,
      event: Object.freeze({ typeUrl: event.typeUrl, value: event.value }),
      sequence: ++this.#sequence,
    });
    const entry: Entry = { envelope, adaptor: envelopeAdaptor(envelope, this.#decodeEvent) };
    this.#ring.push(entry);
    for (const sub of this.#subscribers) sub.offer(entry);
  }

  #checkOpen(): void {
    if (this.#closed) throw new UnavailableError('event exchange is closed');
  }

  #checkTopic(topic: string): void {
    try {
      validateTopic(topic);
    } catch (err) {
      throw prefixed(`envelope topic ${JSON.stringify(topic)}`, err);
    }
  }

  #checkEvent(event: EventPayload | undefined): void {
    if (event === undefined || event === null || typeof event.typeUrl !== 'string' || event.typeUrl === '') {
      throw new InvalidArgumentError('event must have a type url');
    }
    if (!(event.value instanceof Uint8Array)) throw new InvalidArgumentError('event value must be bytes');
  }
}

/**
 * createExchange builds the daemon's event exchange.
 *
 * Beyond containerd's exchange: every envelope gets a `sequence` (1, 2, …, in publish order) and
 * the last `ringSize` envelopes are retained, so `subscribe({ after: n })` first replays the
 * retained envelopes with a sequence above `n` that match its filters and then continues live, with
 * no gap and no duplicate. If `n` is older than the ring, the replay starts at the oldest retained
 * envelope (the gap is not reported).
 *
 * Publishing never waits for subscribers. Each subscription queues at most `queueSize` live
 * envelopes; a subscription that falls further behind stops receiving, delivers what it has
 * queued, and then fails with ResourceExhausted
 * `event subscriber fell behind: missed <n> events after sequence <s> (queue limit <q>)`,
 * where `<n>` counts the envelopes its filters selected but it could not take and `<s>` is the
 * last one it delivered: resubscribing with `after: <s>` recovers what the ring still holds.
 * Other subscriptions and publishers are unaffected.
 *
 * A subscription ends without error when its `signal` aborts (immediately) or when the exchange
 * is closed (after its queue drains); breaking out of `for await` also ends it.
 */
export function createExchange(opts: ExchangeOptions = {}): EventExchange {
  return new InProcessExchange(opts);
}
