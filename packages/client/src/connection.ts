import * as grpc from '@grpc/grpc-js';
import { fromServiceError } from '@ctrd/grpc';

/** DEFAULT_ADDRESS is ctrd's default socket. */
export const DEFAULT_ADDRESS = '/run/ctrd/ctrd.sock';

/** ConnectionOptions configures a Connection. */
export interface ConnectionOptions {
  /** namespace sent as `containerd-namespace` on namespaced calls; `default` unless given. */
  namespace?: string;
  /** lease sent as `containerd-lease`, if any. */
  lease?: string;
  /** deadline for each unary call, in milliseconds; none when 0 or absent. */
  timeoutMs?: number;
  /** largest message sent or received; 16 MiB like ctr. */
  maxMessageSize?: number;
}

/** CallOptions adjusts one call. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** override the connection's namespace for this call ('' sends none). */
  namespace?: string;
  lease?: string;
}

type ClientCtor<C> = new (address: string, creds: grpc.ChannelCredentials, options?: Partial<grpc.ChannelOptions>) => C;

/**
 * Connection is one gRPC channel to a ctrd (or containerd) socket, shared by every service
 * client built on it. Errors coming back are errdefs classes, not gRPC status objects.
 */
export class Connection {
  readonly address: string;
  readonly namespace: string;
  readonly lease: string | undefined;
  readonly #timeoutMs: number;
  readonly #channelOptions: Partial<grpc.ChannelOptions>;
  readonly #clients = new Map<unknown, grpc.Client>();
  #channel?: grpc.Channel;

  constructor(address: string, opts: ConnectionOptions = {}) {
    this.address = address.startsWith('unix://') ? address.slice('unix://'.length) : address;
    this.namespace = opts.namespace ?? 'default';
    this.lease = opts.lease;
    this.#timeoutMs = opts.timeoutMs ?? 0;
    const max = opts.maxMessageSize ?? 16 * 1024 * 1024;
    this.#channelOptions = { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max };
  }

  /** client returns the (cached) grpc-js client of a generated service, on the shared channel. */
  client<C extends grpc.Client>(ctor: ClientCtor<C>): C {
    let c = this.#clients.get(ctor) as C | undefined;
    if (!c) {
      const opts: Partial<grpc.ChannelOptions> & { channelOverride?: grpc.Channel } = { ...this.#channelOptions };
      if (this.#channel) opts.channelOverride = this.#channel;
      c = new ctor(`unix://${this.address}`, grpc.credentials.createInsecure(), opts);
      this.#channel ??= c.getChannel() as grpc.Channel;
      this.#clients.set(ctor, c);
    }
    return c;
  }

  /** metadata returns the call metadata: namespace and lease headers. */
  metadata(opts: CallOptions = {}): grpc.Metadata {
    const md = new grpc.Metadata();
    const ns = opts.namespace ?? this.namespace;
    if (ns) md.set('containerd-namespace', ns);
    const lease = opts.lease ?? this.lease;
    if (lease) md.set('containerd-lease', lease);
    return md;
  }

  /** callOptions returns grpc-js call options carrying the deadline. */
  callOptions(opts: CallOptions = {}): Partial<grpc.CallOptions> {
    const ms = opts.timeoutMs ?? this.#timeoutMs;
    return ms > 0 ? { deadline: Date.now() + ms } : {};
  }

  /**
   * unary calls a generated client's unary method and returns its response; the method is
   * named by its client key (`version`, `plugins`, …).
   */
  unary<Req, Res>(
    client: grpc.Client,
    method: (req: Req, md: grpc.Metadata, options: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
    req: Req,
    opts: CallOptions = {},
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const call = method.call(client, req, this.metadata(opts), this.callOptions(opts), (err, res) =>
        err ? reject(fromServiceError(err)) : resolve(res),
      );
      opts.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  /** stream iterates a server-streaming call, mapping its error to an errdefs class. */
  async *stream<Res>(call: grpc.ClientReadableStream<Res>, signal?: AbortSignal): AsyncGenerator<Res> {
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const msg of call) yield msg as Res;
    } catch (err) {
      throw fromServiceError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** withNamespace returns a connection sharing nothing but the address, in another namespace. */
  withNamespace(namespace: string): Connection {
    return new Connection(this.address, { namespace, lease: this.lease, timeoutMs: this.#timeoutMs });
  }

  /** close closes every client and the channel. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
    this.#channel = undefined;
  }
}

/** connect returns a Connection to a socket (nothing is dialled until the first call). */
export function connect(address: string = DEFAULT_ADDRESS, opts: ConnectionOptions = {}): Connection {
  return new Connection(address, opts);
}
