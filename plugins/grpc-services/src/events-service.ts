import { EventsService, type Envelope as WireEnvelope } from '@ctrd/api/gen/containerd/services/events/v1/events.js';
import { EventsService as CtrdEventsService, type Envelope as SequencedEnvelope } from '@ctrd/api/gen/ctrd/services/events/v1/events.js';
import { EventsDefinition as TtrpcEventsDefinition, type ForwardRequest as TtrpcForwardRequest } from '@ctrd/api/gen/containerd/services/ttrpc/events/v1/events.js';
import type { Any, Timestamp } from '@ctrd/api';
import type { Envelope, Exchange } from '@ctrd/events';
import { bindService, type BoundService } from '@ctrd/grpc';
import { registerService, type TtrpcServer } from '@ctrd/ttrpc';
import { anyOut, date, ts } from './convert.js';

interface WireLike {
  timestamp?: Timestamp | undefined;
  namespace: string;
  topic: string;
  event?: Any | undefined;
}

function envelopeIn(e: WireLike | undefined): Envelope {
  return {
    timestamp: date(e?.timestamp),
    namespace: e?.namespace ?? '',
    topic: e?.topic ?? '',
    event: e?.event ? { typeUrl: e.event.typeUrl, value: new Uint8Array(e.event.value) } : (undefined as never),
  };
}

function envelopeOut(e: Envelope): WireEnvelope {
  return { timestamp: ts(e.timestamp), namespace: e.namespace, topic: e.topic, event: anyOut(e.event) };
}

/**
 * eventsService binds containerd's `containerd.services.events.v1.Events`: Publish (namespace from
 * the header), Forward (a complete envelope) and Subscribe, which spans every namespace unless a
 * filter narrows it.
 */
export function eventsService(exchange: Exchange): BoundService {
  return bindService(EventsService, {
    async publish(req, ctx) {
      const event = req.event ? { typeUrl: req.event.typeUrl, value: new Uint8Array(req.event.value) } : (undefined as never);
      await exchange.publish(ctx.namespace, req.topic, event);
      return {};
    },
    async forward(req) {
      await exchange.forward(envelopeIn(req.envelope));
      return {};
    },
    async *subscribe(req, ctx) {
      for await (const e of exchange.subscribe({ filters: req.filters, signal: ctx.signal })) yield envelopeOut(e);
    },
  });
}

/**
 * sequencedEventsService binds ctrd's own `ctrd.services.events.v1.Events`: Subscribe with each
 * envelope's sequence number, and with `after_sequence` a replay of the retained events after it
 * before the live ones, with no gap and no duplicate.
 */
export function sequencedEventsService(exchange: Exchange): BoundService {
  return bindService(CtrdEventsService, {
    async *subscribe(req, ctx) {
      const stream = exchange.subscribe({ filters: req.filters, signal: ctx.signal, after: req.afterSequence });
      for await (const e of stream) {
        const out: SequencedEnvelope = { ...envelopeOut(e), sequence: e.sequence ?? 0 };
        yield out;
      }
    },
  });
}

/**
 * afterTrailers resolves two loop turns from now, in the check phase, once the gRPC answers in
 * flight have had their trailers written (see registerTtrpcEvents).
 */
function afterTrailers(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * registerTtrpcEvents serves `containerd.services.events.ttrpc.v1.Events/Forward` on the daemon's
 * ttrpc socket, where shims hand over their task events.
 *
 * A shim sends a call's reply and then its event (a pause, a start), so the event tends to arrive
 * while the gRPC answer to that call is still going out. Node's HTTP/2 writes an answer's message
 * in the check phase of the turn the handler returned in, and its trailers only in the next
 * turn's; the client waits for the trailers. Handled at once, the event sat between the two
 * writes. Forward therefore hands the event on two turns later. Nothing in the daemon acts on a
 * forwarded event, only subscribers see it, and events keep their order: each waits the same two
 * turns, in arrival order.
 */
export function registerTtrpcEvents(server: TtrpcServer, exchange: Exchange): void {
  registerService(server, TtrpcEventsDefinition, {
    async forward(req: TtrpcForwardRequest) {
      await afterTrailers();
      await exchange.forward(envelopeIn(req.envelope));
      return {};
    },
  });
}
