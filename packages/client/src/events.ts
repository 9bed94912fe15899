import { fromTimestamp, toTimestamp } from '@ctrd/api';
import { EventsClient } from '@ctrd/api/gen/containerd/services/events/v1/events.js';
import { EventsClient as SequencedEventsClient } from '@ctrd/api/gen/ctrd/services/events/v1/events.js';
import type { Envelope, EventPayload, Exchange, SubscribeOptions } from '@ctrd/events';
import type { Connection } from './connection.js';

type WireEnvelope = { timestamp?: { seconds: number; nanos: number }; namespace: string; topic: string; event?: { typeUrl: string; value: Buffer }; sequence?: number };

function envelopeIn(e: WireEnvelope): Envelope {
  const out: Envelope = {
    timestamp: fromTimestamp(e.timestamp) ?? new Date(0),
    namespace: e.namespace,
    topic: e.topic,
    event: { typeUrl: e.event?.typeUrl ?? '', value: new Uint8Array(e.event?.value ?? []) },
  };
  return e.sequence ? { ...out, sequence: e.sequence } : out;
}

/**
 * RemoteEvents is the Exchange contract over the daemon's Events services: Publish and Forward
 * through containerd's, Subscribe through containerd's, or through ctrd's sequenced Subscribe when
 * `after` is given (envelopes then carry their sequence number).
 */
export class RemoteEvents implements Exchange {
  readonly #conn: Connection;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  async publish(namespace: string, topic: string, event: EventPayload): Promise<void> {
    const c = this.#conn.client(EventsClient);
    await this.#conn.unary(c, c.publish, { topic, event: { typeUrl: event.typeUrl, value: Buffer.from(event.value) } }, { namespace });
  }

  async forward(envelope: Envelope): Promise<void> {
    const c = this.#conn.client(EventsClient);
    const wire = {
      timestamp: toTimestamp(envelope.timestamp),
      namespace: envelope.namespace,
      topic: envelope.topic,
      event: { typeUrl: envelope.event.typeUrl, value: Buffer.from(envelope.event.value) },
    };
    await this.#conn.unary(c, c.forward, { envelope: wire }, { namespace: envelope.namespace });
  }

  /**
   * subscribe opens the stream at once (the daemon registers it when the request arrives) and
   * returns its envelopes; aborting `opts.signal` ends it without error.
   */
  subscribe(opts: SubscribeOptions = {}): AsyncIterable<Envelope> {
    const filters = [...(opts.filters ?? [])];
    const md = this.#conn.metadata({ namespace: '' });
    const call =
      opts.after === undefined
        ? this.#conn.client(EventsClient).subscribe({ filters }, md)
        : this.#conn.client(SequencedEventsClient).subscribe({ filters, afterSequence: opts.after }, md);
    const stream = this.#conn.stream<WireEnvelope>(call as never, opts.signal);
    return (async function* () {
      try {
        for await (const e of stream) yield envelopeIn(e);
      } catch (err) {
        if (!opts.signal?.aborted) throw err;
      }
    })();
  }
}
