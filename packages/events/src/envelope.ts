/**
 * EventPayload is an event as it travels: a protobuf `Any`, the type URL naming the message
 * (`containerd.events.TaskExit`) and the encoded message bytes.
 */
export interface EventPayload {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/**
 * Envelope is one published event with its routing data: when and in which namespace it happened
 * and its topic (`/tasks/exit`). `sequence` is set by the exchange on every envelope it delivers
 * and is what a subscriber passes back as `after` to resume.
 */
export interface Envelope {
  readonly timestamp: Date;
  readonly namespace: string;
  readonly topic: string;
  readonly event: EventPayload;
  readonly sequence?: number;
}

/**
 * EventDecoder turns an event's `Any` into a plain object so filters can reach its fields
 * (`event.container_id`); it returns `undefined` for a type it does not know. Field names are
 * the decoder's: use the protobuf names for filters to read as they do against containerd.
 */
export type EventDecoder = (event: EventPayload) => Record<string, unknown> | undefined;

/** Publisher accepts events raised inside the daemon (the Events.Publish RPC and every service). */
export interface Publisher {
  /**
   * publish stamps an event with the current time and hands it to subscribers. Rejects with
   * FailedPrecondition when `namespace` is empty and InvalidArgument when the namespace or topic
   * is malformed.
   */
  publish(namespace: string, topic: string, event: EventPayload): Promise<void>;
}

/** Forwarder accepts complete envelopes raised elsewhere (shims, over Events.Forward). */
export interface Forwarder {
  /** forward hands `envelope` to subscribers as it is; it needs a namespace, a topic and a real timestamp (else InvalidArgument). */
  forward(envelope: Envelope): Promise<void>;
}

/** SubscribeOptions selects what a subscription receives. */
export interface SubscribeOptions {
  /** filters on `topic`, `namespace` and `event.<field>`, in `@ctrd/filters` syntax, OR'ed. None: everything. */
  readonly filters?: readonly string[];
  /** signal ends the subscription, without error, when aborted. */
  readonly signal?: AbortSignal;
  /** after asks for the retained envelopes with a greater sequence to be replayed before live ones. */
  readonly after?: number;
}

/** Subscriber hands out event streams. Subscriptions are not namespace-scoped: filter on `namespace` to narrow. */
export interface Subscriber {
  /**
   * subscribe starts a subscription at once (events published after the call returns are kept
   * for it even before iteration starts) and returns its stream. Throws InvalidArgument when a
   * filter does not parse.
   */
  subscribe(opts?: SubscribeOptions): AsyncIterable<Envelope>;
}

/** Exchange is the daemon's event hub (`io.containerd.event.v1.exchange`): publisher, forwarder and subscriber in one. */
export interface Exchange extends Publisher, Forwarder, Subscriber {}
