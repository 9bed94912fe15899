import type { IncomingHttpHeaders } from 'node:http2';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { LEASE_HEADER, NAMESPACE_HEADER, resolveNamespace } from '@ctrd/namespaces';
import { pollAfterAnswer } from './busy-poll.js';
import { cancelledReason, firstValue } from './headers.js';
import type { CallObserver } from './bind.js';
import type { CallContext } from './context.js';
import { toServiceError } from './status.js';

/**
 * The direct path: a call of a method bound with `bindService` served without grpc-js's call
 * machinery, on node:http2's stream (`node-call.ts`) or the daemon's own server (`server.ts`):
 * the answering side of a call (its context, deadline, status and messages) and the handlers'
 * runners. `serve-call.ts` reads the request and starts them.
 */

/** DirectMethod is one bound method as the direct path serves it (see {@link serveCall}). */
export interface DirectMethod {
  path: string;
  /** whether the handler reads a stream of requests (an AsyncIterable) rather than one. */
  requestStream: boolean;
  /** whether the handler answers with a stream of messages (an AsyncIterable) rather than one. */
  responseStream: boolean;
  deserialize: (b: Buffer) => unknown;
  serialize: (v: unknown) => Buffer;
  handler: (req: unknown, ctx: CallContext) => unknown;
  observe?: CallObserver;
}

/** DirectLimits are the server's message size limits, in bytes (-1: none). */
export interface DirectLimits {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
}

// What grpc-js sends, so that a call answers the same whichever path served it: the response
// headers of an answer, its trailers, and the headers of a trailers-only (error) response.
export const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
};
export const ERROR_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' };
// Headers grpc-js keeps from a handler's metadata.
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];

/** first is a header's first value (see firstValue). */
export function first(headers: IncomingHttpHeaders, key: string): string | undefined {
  const v = headers[key];
  return firstValue(Array.isArray(v) ? v[0] : v);
}

/** DirectCallContext is the CallContext of a call served directly, read from its HTTP/2 headers. */
class DirectCallContext implements CallContext {
  readonly method: string;
  readonly #headers: IncomingHttpHeaders;
  #metadata: Metadata | undefined = undefined;
  #ns: string | undefined = undefined;
  #ac: AbortController | undefined = undefined;
  cancelled = false;

  constructor(headers: IncomingHttpHeaders, method: string) {
    this.#headers = headers;
    this.method = method;
  }

  get namespace(): string {
    this.#ns ??= resolveNamespace(first(this.#headers, NAMESPACE_HEADER));
    return this.#ns;
  }

  get namespaceOrUndefined(): string | undefined {
    return first(this.#headers, NAMESPACE_HEADER) || undefined;
  }

  get lease(): string | undefined {
    return first(this.#headers, LEASE_HEADER) || undefined;
  }

  get metadata(): Metadata {
    if (this.#metadata === undefined) {
      const md = Metadata.fromHttp2Headers(this.#headers);
      for (const key of TRANSPORT_HEADERS) md.remove(key);
      this.#metadata = md;
    }
    return this.#metadata;
  }

  get signal(): AbortSignal {
    if (this.#ac === undefined) {
      this.#ac = new AbortController();
      if (this.cancelled) this.#ac.abort(cancelledReason());
    }
    return this.#ac.signal;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#ac?.abort(cancelledReason());
  }
}

/**
 * CallStream is the HTTP/2 stream a call is answered on: node:http2's (see `serveDirect`) or the
 * daemon's own server's (see `GrpcServer`).
 */
export interface CallStream {
  /** the stream is closed or ended: nothing more is sent. */
  readonly gone: boolean;
  /** respond sends an answer's response headers. */
  respond(): void;
  /** write sends one framed message: its prefix and body, in one buffer or two. */
  write(frame: Buffer[]): void;
  /** finish ends an answer (after `respond`) with its status as trailers. */
  finish(code: number, message: string): void;
  /** trailersOnly ends a call that has not responded with one header block holding its status. */
  trailersOnly(code: number, message: string): void;
  /** bytes written and not taken by the peer and the socket yet. */
  readonly backlog: number;
  /** drained resolves once the backlog is gone or the stream closed. */
  drained(): Promise<void>;
  /** taken hands `n` bytes of the request to the reader: flow control may let the client send more. */
  taken(n: number): void;
}

/** PIPELINE_BYTES is how much of a response stream may wait in its HTTP/2 stream's buffer before the handler is paused. */
const PIPELINE_BYTES = 4 << 20;
/** From this size on a response message is written after its prefix rather than copied behind it. */
const COPY_BELOW = 16 << 10;

/**
 * DirectCall is the answering side of a call served directly: its context, its deadline and the
 * one status it ends with, sent as trailers after the response headers or, before them, as a
 * trailers-only response.
 */
export class DirectCall {
  readonly m: DirectMethod;
  readonly ctx: DirectCallContext;
  readonly #stream: CallStream;
  readonly #limits: DirectLimits;
  #timer: NodeJS.Timeout | undefined = undefined;
  #settled = false;
  #headersSent = false;
  /** told once the call is done: its status sent or its stream closed. */
  onDone: (() => void) | undefined = undefined;

  constructor(m: DirectMethod, stream: CallStream, headers: IncomingHttpHeaders, limits: DirectLimits) {
    this.m = m;
    this.ctx = new DirectCallContext(headers, m.path);
    this.#stream = stream;
    this.#limits = limits;
  }

  /** done tells whether the call has its status or its stream is gone: nothing more is sent. */
  get done(): boolean {
    return this.#settled;
  }

  deadline(ms: number): void {
    this.#timer = setTimeout(() => this.status(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'), ms);
  }

  /** closed: the stream closed; a call without its status yet is cancelled. */
  closed(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (!this.#settled) this.ctx.cancel();
    this.#settled = true;
    this.onDone?.();
  }

  /** settle marks the status as sent; false when it was already, or the stream is gone. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    return !this.#stream.gone;
  }

  /** status ends the call with a status; an error also aborts the handler's signal, as in grpc-js. */
  status(code: number, details: string): void {
    if (!this.#settle()) return;
    const message = code === Status.OK ? 'OK' : grpcMessage(details);
    if (!this.#headersSent) this.#stream.trailersOnly(code, message);
    else this.#stream.finish(code, message);
    if (code !== Status.OK) this.ctx.cancel();
    this.onDone?.();
  }

  /**
   * frame serializes a response message with its 5-byte prefix (one buffer, or the prefix and
   * the message for a large one), or ends the call with grpc-js's status when it cannot be sent.
   */
  #frame(res: unknown): Buffer[] | undefined {
    let body: Buffer;
    try {
      body = this.m.serialize(res);
    } catch {
      this.status(Status.INTERNAL, 'Error serializing response');
      return undefined;
    }
    const max = this.#limits.maxSendMessageSize;
    if (max >= 0 && body.length > max) {
      this.status(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${body.length + 5} vs. ${max})`);
      return undefined;
    }
    if (body.length >= COPY_BELOW) {
      const prefix = Buffer.allocUnsafe(5);
      prefix[0] = 0;
      prefix.writeUInt32BE(body.length, 1);
      return [prefix, body];
    }
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return [frame];
  }

  /** answer sends a unary call's one response and its OK status. */
  answer(res: unknown): void {
    const frame = this.#frame(res);
    if (frame === undefined || !this.#settle()) return;
    this.#headersSent = true;
    this.#stream.respond();
    this.#stream.write(frame);
    this.#stream.finish(Status.OK, 'OK');
    this.onDone?.();
  }

  /**
   * send writes one message of a response stream. It resolves at once while the stream's backlog
   * is under PIPELINE_BYTES, else once the client has taken it (or the stream is gone).
   */
  send(res: unknown): Promise<void> | undefined {
    if (this.#settled) return undefined;
    const frame = this.#frame(res);
    if (frame === undefined) return undefined;
    if (!this.#headersSent) {
      this.#headersSent = true;
      this.#stream.respond();
    }
    this.#stream.write(frame);
    return this.#stream.backlog < PIPELINE_BYTES ? undefined : this.#stream.drained();
  }
}

export async function runUnary(call: DirectCall, req: unknown): Promise<void> {
  const m = call.m;
  const started = m.observe === undefined ? 0 : performance.now();
  let res: unknown;
  try {
    res = await m.handler(req, call.ctx);
  } catch (err) {
    failed(call, started, err);
    return;
  }
  observe(m, started, undefined);
  call.answer(res);
  pollAfterAnswer();
}

export async function runStream(call: DirectCall, req: unknown): Promise<void> {
  const m = call.m;
  const started = m.observe === undefined ? 0 : performance.now();
  try {
    for await (const res of m.handler(req, call.ctx) as AsyncIterable<unknown>) {
      const full = call.send(res);
      if (full !== undefined) await full;
      // The status is sent (a deadline, a message that cannot be sent) or the client is gone:
      // leaving the loop stops the handler.
      if (call.done) return;
    }
  } catch (err) {
    failed(call, started, err);
    return;
  }
  if (call.done) return;
  observe(m, started, undefined);
  call.status(Status.OK, 'OK');
  pollAfterAnswer();
}

/** failed ends a call whose handler threw, with the status `bindService` maps the error to. */
function failed(call: DirectCall, started: number, err: unknown): void {
  const e = toServiceError(err);
  // A rejection without a reason is still a failure to an observer.
  observe(call.m, started, err === undefined ? e : err);
  call.status(e.code ?? Status.UNKNOWN, e.details ?? '');
  pollAfterAnswer();
}

/**
 * MAX_MESSAGE_BYTES bounds an error's `grpc-message` as sent. The header block that carries it
 * must fit the client's limit on a header list (node:http2's default is 64 KiB; a block above it
 * ends the whole connection with COMPRESSION_ERROR, failing the other calls on it); a message
 * built from a client's input (a name of 70 KB) is cut, the cut said.
 */
export const MAX_MESSAGE_BYTES = 8 << 10;

/** grpcMessage percent-encodes an error's details for `grpc-message`, at most MAX_MESSAGE_BYTES of them. */
export function grpcMessage(details: string): string {
  let text = wellFormed(details);
  let encoded = encodeURI(text);
  while (encoded.length > MAX_MESSAGE_BYTES) {
    // Cut by characters, never inside an escape; each round at least halves the excess.
    text = wellFormed(text.slice(0, Math.floor((text.length * MAX_MESSAGE_BYTES) / encoded.length) - 16));
    encoded = `${encodeURI(text)}%20(cut)`;
  }
  return encoded;
}

/**
 * wellFormed replaces the lone surrogates of a message, on which `encodeURI` throws (an error
 * message built from arbitrary bytes), with U+FFFD.
 */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** observe tells the method's observer, which must not break the call by throwing. */
function observe(m: DirectMethod, started: number, err: unknown): void {
  if (m.observe === undefined) return;
  try {
    m.observe(m.path, performance.now() - started, err);
  } catch {
    // an observer's own failure is not the call's
  }
}
