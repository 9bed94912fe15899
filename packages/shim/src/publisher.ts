import { EventsDefinition } from './gen/containerd/services/ttrpc/events/v1/events.js';
import { TtrpcClient, createClient } from '@ctrd/ttrpc';
import type { MessageFns } from '@ctrd/ttrpc';
import { packAny, toTimestamp } from './wire.js';

/** EventSink receives the shim's task events; {@link Publisher} forwards them to containerd. */
export interface EventSink {
  /** publish queues an event; events leave in the order they were queued. */
  publish<T>(topic: string, typeUrl: string, codec: MessageFns<T>, event: T): void;
}

/**
 * afterReplies resolves once this turn of the event loop is over. A handler publishes its event
 * before it returns; forwarding only after the turn lets its reply leave first, so the caller
 * does not wait for containerd to take the event in (which containerd's own shim does not make
 * it wait for either). Events keep their order: they all go through the same queue.
 */
function afterReplies(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** PublisherOptions bound how long an undelivered event is retried. */
export interface PublisherOptions {
  /** how long one event is retried before it is dropped; 5 minutes unless given. */
  giveUpMs?: number;
  /** the longest pause between two tries; 1 s unless given. */
  maxBackoffMs?: number;
}

/**
 * Publisher forwards events over ttrpc `containerd.services.events.ttrpc.v1.Events/Forward`
 * to containerd's ttrpc address, one at a time so the order containerd sees is the order of
 * `publish` calls. It dials lazily and redials after a failure. An event that cannot be
 * delivered is retried (and holds back the ones behind it) until the daemon is back or
 * `giveUpMs` has passed: a task that exits while the daemon restarts is reported once the daemon
 * listens again, exactly once, because nothing else reports a live shim's exits. Closing stops
 * the retrying; what is left is reported to `onError` and dropped.
 */
export class Publisher implements EventSink {
  private client: TtrpcClient | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closing = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ttrpcAddress: string,
    private readonly namespace: string,
    private readonly onError: (err: Error) => void = () => {},
    private readonly opts: PublisherOptions = {},
  ) {}

  publish<T>(topic: string, typeUrl: string, codec: MessageFns<T>, event: T): void {
    const envelope = {
      timestamp: toTimestamp(Date.now()),
      namespace: this.namespace,
      topic,
      event: packAny(typeUrl, codec as never, event),
    };
    this.queue = this.queue.then(afterReplies).then(() => this.forward(envelope));
  }

  /** flush resolves once every queued event was sent (or given up). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** close gives up on events that cannot be delivered now, flushes, then hangs up. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.flush();
    this.client?.close();
    this.client = undefined;
  }

  private async forward(envelope: Parameters<ReturnType<typeof this.events>['forward']>[0]['envelope']): Promise<void> {
    if (this.ttrpcAddress === '') return;
    const giveUpAt = Date.now() + (this.opts.giveUpMs ?? 300_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await this.connect();
        await this.events(client).forward({ envelope }, { timeoutMs: 5000 });
        return;
      } catch (err) {
        this.client?.close();
        this.client = undefined;
        if (this.closing || Date.now() >= giveUpAt) {
          this.onError(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const pause = Math.min(50 * 2 ** Math.min(attempt, 10), this.opts.maxBackoffMs ?? 1000);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, pause);
          this.wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private events(client: TtrpcClient) {
    return createClient(EventsDefinition, client);
  }

  private async connect(): Promise<TtrpcClient> {
    if (this.client !== undefined && !this.client.isClosed) return this.client;
    const path = this.ttrpcAddress.replace(/^unix:\/\//, '');
    this.client = await TtrpcClient.connect(path, { timeoutMs: 5000 });
    return this.client;
  }
}
