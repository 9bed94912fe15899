import { EventsDefinition } from './gen/containerd/services/ttrpc/events/v1/events.js';
import { TtrpcClient, createClient } from '@ctrd/ttrpc';
import type { MessageFns } from '@ctrd/ttrpc';
import { packAny, toTimestamp } from './wire.js';

/** EventSink receives the shim's task events; {@link Publisher} forwards them to containerd. */
export interface EventSink {
  /** publish queues an event; events leave in the order they were queued. */
  publish<T>(topic: string, typeUrl: string, codec: MessageFns<T>, event: T): void;
}

const RETRIES = 5;

/**
 * Publisher forwards events over ttrpc `containerd.services.events.ttrpc.v1.Events/Forward`
 * to containerd's ttrpc address, one at a time so the order containerd sees is the order of
 * `publish` calls. It dials lazily and redials after a failure; an event that cannot be
 * delivered after a few tries is reported to `onError` and dropped.
 */
export class Publisher implements EventSink {
  private client: TtrpcClient | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ttrpcAddress: string,
    private readonly namespace: string,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  publish<T>(topic: string, typeUrl: string, codec: MessageFns<T>, event: T): void {
    const envelope = {
      timestamp: toTimestamp(Date.now()),
      namespace: this.namespace,
      topic,
      event: packAny(typeUrl, codec as never, event),
    };
    this.queue = this.queue.then(() => this.forward(envelope));
  }

  /** flush resolves once every queued event was sent (or given up). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** close flushes, then hangs up. */
  async close(): Promise<void> {
    await this.flush();
    this.client?.close();
    this.client = undefined;
  }

  private async forward(envelope: Parameters<ReturnType<typeof this.events>['forward']>[0]['envelope']): Promise<void> {
    if (this.ttrpcAddress === '') return;
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await this.connect();
        await this.events(client).forward({ envelope }, { timeoutMs: 5000 });
        return;
      } catch (err) {
        this.client?.close();
        this.client = undefined;
        if (attempt + 1 >= RETRIES) {
          this.onError(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
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
