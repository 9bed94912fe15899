import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import { drained } from './drained.js';
import { ERROR_HEADERS, RESPONSE_HEADERS, type CallStream, type DirectLimits, type DirectMethod } from './direct.js';
import { serveCall } from './serve-call.js';

/*
 * The direct path on node:http2's server: what grpc-js's server (`[grpc] server = "grpc-js"`)
 * hands the calls it need not run through its own call machinery.
 */

const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' };

/**
 * directlyServable tells whether {@link serveDirect} can serve a call with these headers: a gRPC
 * content type and an uncompressed request. Anything else goes to grpc-js, which also answers
 * the malformed.
 */
export function directlyServable(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  if (typeof type !== 'string' || !type.startsWith('application/grpc')) return false;
  const encoding = headers['grpc-encoding'];
  return encoding === undefined || encoding === 'identity';
}

/** NodeCallStream answers on a node:http2 stream as grpc-js does. */
class NodeCallStream implements CallStream {
  readonly #stream: ServerHttp2Stream;
  #trailers: Record<string, string> = OK_TRAILERS;

  constructor(stream: ServerHttp2Stream) {
    this.#stream = stream;
  }

  get gone(): boolean {
    return this.#stream.destroyed || this.#stream.closed;
  }

  respond(): void {
    const stream = this.#stream;
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(this.#trailers));
  }

  /** write: a prefix and its message go as one writev, as the copy would have. */
  write(frame: Buffer[]): void {
    const stream = this.#stream;
    if (frame.length === 1) {
      stream.write(frame[0]);
      return;
    }
    stream.cork();
    stream.write(frame[0]);
    stream.write(frame[1]);
    stream.uncork();
  }

  finish(code: number, message: string): void {
    if (code !== Status.OK) this.#trailers = { 'grpc-status': String(code), 'grpc-message': message };
    this.#stream.end();
  }

  trailersOnly(code: number, message: string): void {
    this.#stream.respond({ ...ERROR_HEADERS, 'grpc-status': String(code), 'grpc-message': message }, { endStream: true });
  }

  get backlog(): number {
    return this.#stream.writableLength;
  }

  drained(): Promise<void> {
    return drained(this.#stream);
  }

  taken(): void {
    // node:http2 gives the window back as it delivers the data.
  }
}

/**
 * serveDirect serves one unary or server-streaming call on a node:http2 stream without grpc-js's
 * per-call machinery (interceptor chain, metadata copy, stream decoder, per-call metrics
 * recorder, an object-mode Writable per call): see {@link serveCall}. The caller has checked
 * {@link directlyServable}.
 */
export function serveDirect(m: DirectMethod, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, limits: DirectLimits): void {
  stream.on('error', () => {});
  const sink = serveCall(m, new NodeCallStream(stream), headers, limits);
  stream.on('data', (chunk: Buffer) => sink.data(chunk));
  stream.on('end', () => sink.end());
  stream.once('close', () => sink.closed());
}
