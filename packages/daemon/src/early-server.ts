import * as grpc from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session, ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { VersionService } from '@ctrd/api/gen/containerd/services/version/v1/version.js';
import { IntrospectionService } from '@ctrd/api/gen/containerd/services/introspection/v1/introspection.js';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonConfig } from '@ctrd/config';
import { bindService, directlyServable, GrpcServer, NO_CHANNELZ, serveDirect, setBusyPoll, type BoundService, type DirectMethod } from '@ctrd/grpc';
import { REFUSED_STREAM } from '@ctrd/grpc/h2-frames';
import { prepareSocket, secureSocket } from './socket.js';
import { INTROSPECTION_PLUGIN, serverUUID } from './server-uuid.js';
import { REVISION, VERSION } from './version.js';

/** EarlyServerOptions configures an EarlyServer. */
export interface EarlyServerOptions {
  address: string;
  maxRecvMessageSize: number;
  maxSendMessageSize: number;
  /** how long (µs) the event loop keeps polling after each answer (`[grpc] busy_poll_us`). */
  busyPollMicros?: number;
  uid: number;
  gid: number;
  /** serve Version before the plugins load (false when the version plugin is disabled). */
  version: boolean;
  /**
   * where the server UUID is kept: Introspection.Server answers from it before the plugins load.
   * Absent when the introspection plugin is disabled.
   */
  uuidDir?: string;
  /** the quiet and the longest wait of `pause` (QUIET_MS, MAX_PAUSE_MS by default). */
  quietMs?: number;
  maxPauseMs?: number;
  /** what answers on the socket (`[grpc] server`): the daemon's own server (the default) or grpc-js. */
  server?: 'ctrd' | 'grpc-js';
}

/** earlyServerOptions derives the early gRPC server's options from the daemon config. */
export function earlyServerOptions(config: DaemonConfig): EarlyServerOptions {
  return {
    address: config.grpc.address,
    maxRecvMessageSize: config.grpc.max_recv_message_size,
    maxSendMessageSize: config.grpc.max_send_message_size,
    busyPollMicros: config.grpc.busy_poll_us,
    uid: config.grpc.uid,
    gid: config.grpc.gid,
    version: !config.disabled_plugins.includes('io.containerd.grpc.v1.version'),
    uuidDir: config.disabled_plugins.includes(INTROSPECTION_PLUGIN) ? undefined : join(config.root, INTROSPECTION_PLUGIN),
    server: config.grpc.server,
  };
}

/**
 * STREAM_WINDOW and SESSION_WINDOW are the HTTP/2 receive windows the server offers. grpc-js
 * keeps Node's 64 KiB default and has no option for it, so every 1 MiB Content.Write message
 * (ctr's chunk) took some 16 window updates, each a round trip through both event loops. Go's
 * gRPC grows its windows up to 16 MiB by measuring the link; these fixed sizes bound what one
 * connection can have in flight to 8 MiB.
 */
export const STREAM_WINDOW = 4 << 20;
export const SESSION_WINDOW = 8 << 20;

/**
 * QUIET_MS is how long the clients of the early server must have been silent (no connection
 * opened, no call begun or ended) before the plugins' loading takes its next step, and
 * MAX_PAUSE_MS the most one step waits for that: see {@link EarlyServer.pause}.
 */
export const QUIET_MS = 4;
export const MAX_PAUSE_MS = 20;

type StreamHandler = (this: unknown, extra: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
type ServerInternals = { handlers?: Map<string, unknown>; onStreamOpened?: (stream: ServerHttp2Stream) => void } & Record<
  '_streamHandler' | '_channelzHandler',
  StreamHandler | undefined
>;

/**
 * EarlyServer is the daemon's gRPC server, bound to its socket before the plugins load so that
 * the two calls of `ctr version` answer at once: Version, and Introspection.Server with the UUID
 * the introspection plugin serves later (one file, see serverUUID). A call to any other method
 * (Introspection.Plugins among them) waits until `open` (the plugins loaded and their services
 * added) and is then dispatched as usual, or refused with REFUSED_STREAM (UNAVAILABLE to the
 * client) after `refuse`. When the gRPC library offers no hook to hold calls, the server is only
 * bound by `open`, after the plugins loaded.
 *
 * By default the socket is served by the daemon's own HTTP/2 and gRPC server (`GrpcServer`),
 * which serves every method of the services bound with `bindService` at about half the CPU per
 * call of node:http2 and grpc-js. With `server: 'grpc-js'` a grpc-js server answers instead;
 * through the hook that holds calls it serves the unary and server-streaming methods of bound
 * services itself (`serveDirect`: 25–60 µs less daemon CPU per call than grpc-js's call
 * machinery, see bench/README.md); methods that read a stream of requests, services bound
 * otherwise and compressed calls stay with grpc-js there.
 */
export class EarlyServer {
  /** grpc-js's server, when it serves the socket (`server: 'grpc-js'`). */
  readonly server: grpc.Server | undefined;
  /** the daemon's own server, when it serves the socket (the default). */
  readonly own: GrpcServer | undefined;
  readonly address: string;
  readonly #opts: EarlyServerOptions;
  #state: 'loading' | 'open' | 'refused' = 'loading';
  readonly #held: Array<() => void> = [];
  #bound = false;
  readonly #early: BoundService[] = [];
  /** the methods served without grpc-js's call machinery, by path (see `serveDirect`). */
  readonly #direct = new Map<string, DirectMethod>();
  /**
   * the connections opened while loading and still open, each with what stops following it, and
   * when (performance.now()) a client last connected or began or ended a call.
   */
  readonly #sessions = new Map<ServerHttp2Session, () => void>();
  #lastHeard = -Infinity;

  private constructor(opts: EarlyServerOptions) {
    this.#opts = opts;
    this.address = opts.address;
    if (opts.server === 'grpc-js') {
      this.server = new grpc.Server({
        ...NO_CHANNELZ,
        'grpc.max_receive_message_length': opts.maxRecvMessageSize,
        'grpc.max_send_message_length': opts.maxSendMessageSize,
      });
    } else {
      this.own = new GrpcServer({
        maxReceiveMessageSize: opts.maxRecvMessageSize,
        maxSendMessageSize: opts.maxSendMessageSize,
        streamWindow: STREAM_WINDOW,
        connectionWindow: SESSION_WINDOW,
      });
    }
  }

  /** listen prepares the socket (refusing when another daemon serves there), binds and serves Version. */
  static async listen(opts: EarlyServerOptions): Promise<EarlyServer> {
    const s = new EarlyServer(opts);
    if (opts.busyPollMicros !== undefined) setBusyPoll(opts.busyPollMicros);
    await prepareSocket(opts.address);
    if (s.own !== undefined) s.#holdOwn();
    else if (!s.#holdCalls()) return s;
    if (opts.version) s.#early.push(bindService(VersionService, { version: async () => ({ version: VERSION, revision: REVISION }) }));
    const uuidDir = opts.uuidDir;
    if (uuidDir !== undefined) {
      // On a fresh root the UUID is created now (directories, a file, a rename: a few ms on a
      // slow disk), and read once. A failure is the call's to report, which tries again.
      let uuid: string | undefined;
      try {
        uuid = serverUUID(uuidDir);
      } catch {
        // answered by the call
      }
      // Only the Server method: the others must wait for the plugins, not answer UNIMPLEMENTED.
      s.#early.push(bindService({ server: IntrospectionService.server }, { server: async () => ({ uuid: (uuid ??= serverUUID(uuidDir)) }) }));
    }
    for (const svc of s.#early) s.#add(svc);
    await s.#bind();
    return s;
  }

  #add(svc: BoundService): void {
    if (this.own !== undefined) {
      this.own.addService(svc);
      return;
    }
    this.server!.addService(svc.definition, svc.implementation);
    for (const m of svc.direct ?? []) if (!m.requestStream) this.#direct.set(m.path, m);
  }

  /**
   * addServices replaces the early methods by the plugins' services; call it once the plugins
   * loaded, before `open`.
   */
  addServices(services: Iterable<BoundService>): void {
    for (const svc of this.#early.splice(0)) {
      if (this.own !== undefined) this.own.removeService(svc);
      else this.server!.removeService(svc.definition);
    }
    this.#direct.clear();
    for (const svc of services) this.#add(svc);
  }

  /**
   * pause is where the plugins' loading lets the socket answer: it resolves after one turn of the
   * event loop, and while a client is connected only once it has been silent for QUIET_MS (at
   * most MAX_PAUSE_MS later, so that a client calling without pause cannot hold the start back).
   * Loading runs in synchronous steps of a few milliseconds each, and a client's exchange needs
   * the daemon at each of its turns (the connection's settings, then each call): without this,
   * every turn waited for the step under way, and `ctr version` during a start took 9–13 ms longer.
   * A call held until `open` counts only when it arrives.
   */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const quiet = this.#opts.quietMs ?? QUIET_MS;
    const until = performance.now() + (this.#opts.maxPauseMs ?? MAX_PAUSE_MS);
    for (;;) {
      const now = performance.now();
      const wait = Math.min(this.#lastHeard + quiet, until) - now;
      const connected = this.own !== undefined ? this.own.connections > 0 : this.#sessions.size > 0;
      if (this.#state !== 'loading' || !connected || wait <= 0) return;
      await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(wait)));
    }
  }

  /** open dispatches the held calls and every later one; it binds the socket if that waited. */
  async open(): Promise<void> {
    if (!this.#bound) await this.#bind();
    this.#state = 'open';
    this.#unwatch();
    for (const go of this.#held.splice(0)) go();
  }

  /** refuse answers every held and later call to an unregistered method with REFUSED_STREAM. */
  refuse(): void {
    this.#state = 'refused';
    this.#unwatch();
    for (const go of this.#held.splice(0)) go();
  }

  /** close stops serving at once and removes the socket, for a start-up that failed before the Daemon took over. */
  async close(): Promise<void> {
    this.refuse();
    this.forceShutdown();
    if (this.#bound) await unlink(this.address).catch(() => {});
  }

  /** tryShutdown stops taking connections and calls back once the calls under way have finished. */
  tryShutdown(cb: () => void): void {
    if (this.own !== undefined) this.own.tryShutdown(cb);
    else this.server!.tryShutdown(() => cb());
  }

  /** forceShutdown closes every connection at once. */
  forceShutdown(): void {
    if (this.own !== undefined) this.own.forceShutdown();
    else this.server!.forceShutdown();
  }

  async #bind(): Promise<void> {
    if (this.own !== undefined) await this.own.listen(this.address);
    else {
      const server = this.server!;
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix://${this.address}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
      );
      this.#watchSessions();
    }
    this.#bound = true;
    await secureSocket(this.address, this.#opts.uid, this.#opts.gid);
  }

  /**
   * watchSessions sets the receive windows on the library's HTTP/2 servers, where it can reach
   * them, and follows their connections and calls for `pause`.
   */
  #watchSessions(): void {
    const servers = (this.server! as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
    if (!(servers instanceof Map)) return;
    for (const h2server of servers.keys()) {
      const widen = typeof h2server.updateSettings === 'function';
      if (widen) h2server.updateSettings({ initialWindowSize: STREAM_WINDOW });
      h2server.on('session', (session: ServerHttp2Session) => {
        if (widen) {
          try {
            session.setLocalWindowSize(SESSION_WINDOW);
          } catch {
            // a session that closed at once
          }
        }
        if (this.#state !== 'loading') return;
        this.#heard();
        const onStream = (stream: ServerHttp2Stream) => {
          this.#heard();
          stream.once('close', () => this.#heard());
        };
        const onClose = () => this.#sessions.delete(session);
        session.on('stream', onStream);
        session.once('close', onClose);
        this.#sessions.set(session, () => {
          session.off('stream', onStream);
          session.off('close', onClose);
        });
      });
    }
  }

  #heard(): void {
    this.#lastHeard = performance.now();
  }

  /** unwatch stops following the connections once loading is over: `pause` no longer waits. */
  #unwatch(): void {
    if (this.own !== undefined) this.own.heard = undefined;
    for (const stop of this.#sessions.values()) stop();
    this.#sessions.clear();
  }

  /**
   * holdOwn has the own server hold a call to a method not served yet until `open`, refuse it
   * after `refuse`, and tell `pause` of the clients' connections and calls while loading.
   */
  #holdOwn(): void {
    const own = this.own!;
    own.heard = () => this.#heard();
    own.unrouted = (path, serve, refuse) => {
      if (this.#state === 'open') return false;
      if (this.#state === 'refused') {
        refuse();
        return true;
      }
      this.#held.push(() => (this.#state === 'refused' && !own.has(path) ? refuse() : serve()));
      return true;
    };
  }

  /**
   * holdCalls wraps the server's per-stream dispatch so that a call to a method not registered
   * yet waits for `open`. It reports false when the library's dispatch methods are not there.
   */
  #holdCalls(): boolean {
    const internals = this.server! as unknown as ServerInternals;
    const names = ['_streamHandler', '_channelzHandler'] as const;
    if (!(internals.handlers instanceof Map) || names.some((n) => typeof internals[n] !== 'function')) return false;
    const early = this;
    const limits = { maxReceiveMessageSize: this.#opts.maxRecvMessageSize, maxSendMessageSize: this.#opts.maxSendMessageSize };
    for (const name of names) {
      const dispatch = internals[name]!;
      // The library binds this function to its HTTP/2 servers when they are made, so it stays for
      // the server's life: once open it only serves the methods it can directly and hands the rest
      // through.
      internals[name] = function (this: unknown, extra, stream, headers) {
        const path = String(headers[':path'] ?? '');
        const direct = early.#direct.get(path);
        if (direct !== undefined && directlyServable(headers)) {
          // The library's count of open streams, for its idle timeout.
          internals.onStreamOpened?.(stream);
          return serveDirect(direct, stream, headers, limits);
        }
        if (early.#state === 'open') return dispatch.call(this, extra, stream, headers);
        const go = () => {
          if (stream.destroyed || stream.closed) return;
          if (early.#state === 'refused' && !internals.handlers!.has(path)) {
            stream.on('error', () => {});
            stream.close(REFUSED_STREAM);
          } else dispatch.call(this, extra, stream, headers);
        };
        if (early.#state === 'loading' && !internals.handlers!.has(path)) {
          // Until dispatched nothing listens for the stream's errors (a client's reset).
          stream.on('error', () => {});
          early.#held.push(go);
        } else go();
      };
    }
    return true;
  }
}
