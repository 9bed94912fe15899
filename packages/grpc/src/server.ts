import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import type { BoundService } from './bind.js';
import { ERROR_HEADERS, grpcMessage, RESPONSE_HEADERS, type CallStream, type DirectLimits, type DirectMethod } from './direct.js';
import { serveCall, type RequestSink } from './serve-call.js';
import { H2Connection, type H2Options, type H2Stream } from './h2.js';
import { REFUSED_STREAM } from './h2-frames.js';
import { encodeHeaders, type Header } from './hpack.js';

/** GrpcServerOptions are a GrpcServer's message size limits and HTTP/2 receive windows. */
export interface GrpcServerOptions extends DirectLimits, H2Options {}

/**
 * Unrouted decides what becomes of a call to a method the server does not have (yet): `serve`
 * looks the method up again and answers UNIMPLEMENTED if it is still missing, `refuse` resets the
 * stream with REFUSED_STREAM (UNAVAILABLE to the client, which may try again). It returns false
 * to have the call answered UNIMPLEMENTED at once.
 */
export type Unrouted = (path: string, serve: () => void, refuse: () => void) => boolean;

// `:status: 200` is index 8 of HPACK's static table; everything else is written as literals.
const STATUS_200 = Buffer.of(0x88);
const headerFields = (h: Record<string, string | number>): Header[] =>
  Object.entries(h)
    .filter(([n]) => n !== ':status')
    .map(([n, v]) => [n, String(v)]);
const RESPONSE_BLOCK = Buffer.concat([STATUS_200, encodeHeaders(headerFields(RESPONSE_HEADERS))]);
const OK_TRAILERS_BLOCK = encodeHeaders([
  ['grpc-status', '0'],
  ['grpc-message', 'OK'],
]);
const ERROR_BLOCK = Buffer.concat([STATUS_200, encodeHeaders(headerFields(ERROR_HEADERS))]);
/** grpc-js's answer to a request that is not gRPC: 415 and nothing else. */
const UNSUPPORTED_MEDIA_TYPE = Buffer.concat([Buffer.of(0x08, 0x03), Buffer.from('415')]);

function statusFields(code: number, message: string): Buffer {
  return encodeHeaders([
    ['grpc-status', String(code)],
    ['grpc-message', message],
  ]);
}

/** H2CallStream answers a call on one of the server's own HTTP/2 streams. */
class H2CallStream implements CallStream {
  readonly #s: H2Stream;

  constructor(s: H2Stream) {
    this.#s = s;
  }

  get gone(): boolean {
    return !this.#s.localOpen;
  }

  respond(): void {
    this.#s.headers(RESPONSE_BLOCK, false);
  }

  write(frame: Buffer[]): void {
    this.#s.data(frame);
  }

  finish(code: number, message: string): void {
    this.#s.end(code === Status.OK ? OK_TRAILERS_BLOCK : statusFields(code, message));
  }

  trailersOnly(code: number, message: string): void {
    this.#s.headers(Buffer.concat([ERROR_BLOCK, statusFields(code, message)]), true);
  }

  get backlog(): number {
    return this.#s.backlog;
  }

  drained(): Promise<void> {
    return this.#s.drained();
  }

  taken(n: number): void {
    this.#s.taken(n);
  }
}

/**
 * GrpcServer serves bound services on a unix socket with its own HTTP/2 (`H2Connection`) and
 * gRPC framing (`serveCall`): every method of a service bound with `bindService`, unary and
 * streaming either way. It answers as grpc-js's server does where a client can see it (the
 * differential tests hold it to that) and costs a fraction of node:http2 and grpc-js per call:
 * each call's answer, headers to trailers, leaves in one write.
 */
export class GrpcServer {
  readonly #opts: GrpcServerOptions;
  readonly #methods = new Map<string, DirectMethod>();
  readonly #connections = new Set<H2Connection>();
  #net: NetServer | undefined = undefined;
  /** what becomes of a call to a method not served (see {@link Unrouted}); UNIMPLEMENTED without it. */
  unrouted: Unrouted | undefined = undefined;
  /** told of each connection opened and each call begun and ended. */
  heard: (() => void) | undefined = undefined;

  constructor(opts: GrpcServerOptions) {
    this.#opts = opts;
  }

  /** addService serves the service's bound methods; those it has no `direct` entry for are not served. */
  addService(svc: BoundService): void {
    for (const m of svc.direct ?? []) this.#methods.set(m.path, m);
  }

  removeService(svc: BoundService): void {
    for (const m of svc.direct ?? []) if (this.#methods.get(m.path) === m) this.#methods.delete(m.path);
  }

  /** has tells whether a method is served. */
  has(path: string): boolean {
    return this.#methods.has(path);
  }

  /** listen binds the unix socket at `path`. */
  listen(path: string): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.#connection(socket));
    this.#net = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * tryShutdown stops accepting connections, lets the calls under way finish (each connection is
   * sent GOAWAY and closes once its last stream did) and calls back when every connection closed.
   */
  tryShutdown(cb: () => void): void {
    const server = this.#net;
    let pending = 1;
    const done = () => {
      if (--pending === 0) cb();
    };
    if (server !== undefined) {
      pending++;
      server.close(done);
    }
    for (const c of this.#connections) {
      pending++;
      c.socket.once('close', done);
      c.goAway();
    }
    done();
  }

  /** forceShutdown closes the socket and every connection at once; calls under way are cancelled. */
  forceShutdown(): void {
    this.#net?.close();
    for (const c of [...this.#connections]) c.destroy();
  }

  #connection(socket: Socket): void {
    this.heard?.();
    const conn = new H2Connection(
      socket,
      this.#opts,
      (stream, headers) => this.#stream(stream, headers),
      () => this.#connections.delete(conn),
    );
    this.#connections.add(conn);
  }

  #stream(s: H2Stream, headers: IncomingHttpHeaders): void {
    const heard = this.heard;
    if (heard !== undefined) {
      heard();
      s.onclose = () => heard();
    }
    const type = headers['content-type'];
    if (typeof type !== 'string' || !type.startsWith('application/grpc')) {
      s.headers(UNSUPPORTED_MEDIA_TYPE, true);
      return;
    }
    const path = String(headers[':path'] ?? '');
    const m = this.#methods.get(path);
    if (m !== undefined) {
      this.#serve(s, m, headers);
      return;
    }
    // A held call keeps its request until it is served or refused.
    const held: Buffer[] = [];
    let ended = false;
    s.ondata = (chunk) => held.push(chunk);
    s.onend = () => (ended = true);
    const serve = () => {
      if (s.closed) return;
      const m = this.#methods.get(path);
      if (m === undefined) {
        new H2CallStream(s).trailersOnly(Status.UNIMPLEMENTED, grpcMessage(`The server does not implement the method ${path}`));
        return;
      }
      const sink = this.#serve(s, m, headers);
      for (const chunk of held.splice(0)) sink.data(chunk);
      if (ended) sink.end();
    };
    const refuse = () => s.reset(REFUSED_STREAM);
    if (this.unrouted?.(path, serve, refuse) !== true) serve();
  }

  #serve(s: H2Stream, m: DirectMethod, headers: IncomingHttpHeaders): RequestSink {
    const sink = serveCall(m, new H2CallStream(s), headers, this.#opts);
    s.ondata = (chunk) => sink.data(chunk);
    s.onend = () => sink.end();
    const before = s.onclose;
    s.onclose = () => {
      sink.closed();
      before?.();
    };
    return sink;
  }
}
