/**
 * `@ctrd/events` is the contract of the daemon's event system.
 *
 * Services publish an {@link EventPayload} (a protobuf `Any`) on a topic within a namespace; the
 * exchange wraps it in an {@link Envelope} with a timestamp and hands it to every subscription
 * whose filters select it. Shims forward ready-made envelopes. Subscriptions see all namespaces
 * unless they filter on `namespace`; filters may also use `topic` and `event.<field>` (see
 * {@link envelopeAdaptor}).
 *
 * Topics are `/`-separated identifiers with a leading `/` ({@link validateTopic}); containerd's
 * own are listed in {@link TOPICS}.
 *
 * The implementation lives in `@ctrd/events-exchange`.
 *
 * @packageDocumentation
 */

export type {
  EventPayload,
  Envelope,
  EventDecoder,
  Forwarder,
  Subscriber,
  SubscribeOptions,
} from './envelope.js';
export { Exchange, Publisher } from './token.js';
export { validateTopic } from './topic.js';
export { envelopeAdaptor } from './adaptor.js';
export { TOPICS } from './topics.js';
