import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { inflateSync, gunzipSync } from 'node:zlib';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { LEASE_HEADER, NAMESPACE_HEADER, resolveNamespace } from '@ctrd/namespaces';
import { pollAfterAnswer } from './busy-poll.js';
import { drained } from './drained.js';
import { cancelledReason, firstValue } from './headers.js';
import type { CallObserver } from './bind.js';
import type { CallContext } from './context.js';
import { toServiceError } from './status.js';

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
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' };
export const ERROR_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' };
// Headers grpc-js keeps from a handler's metadata.
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];
const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

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

/** first is a header's first value (see firstValue). */
function first(headers: IncomingHttpHeaders, key: string): string | undefined {
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
 * CallStream is the HTTP/2 stream a call is answered on: node:http2's (see {@link serveDirect})
 * or the daemon's own server's (see `GrpcServer`).
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

/** RequestSink takes a call's request as its stream delivers it. */
export interface RequestSink {
  data(chunk: Buffer): void;
  end(): void;
  /** closed: the stream closed, answered or not (a client's reset, a lost connection). */
  closed(): void;
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

/**
 * serveCall serves one call of a bound method on its stream: the request is read (whole, or
 * message by message for a method that reads a stream of them), the handler runs with its
 * CallContext, and the answer goes out as grpc-js frames it (response headers, the messages,
 * `grpc-status` trailers; a trailers-only response for an error before any message or an empty
 * stream). It keeps grpc-js's behaviour where a client can see it: `grpc-timeout` deadlines, the
 * size limits and their messages, exactly one request message where one is expected, the error
 * mapping of `bindService`, HTTP/2 flow control.
 */
export function serveCall(m: DirectMethod, stream: CallStream, headers: IncomingHttpHeaders, limits: DirectLimits): RequestSink {
  const call = new DirectCall(m, stream, headers, limits);
  const timeout = headers['grpc-timeout'];
  if (timeout !== undefined) {
    const match = TIMEOUT.exec(String(timeout));
    if (match === null) {
      // The request is still read to its end, as grpc-js does, not reset.
      process.nextTick(() => call.status(Status.INTERNAL, `Invalid grpc-timeout value "${timeout}"`));
      return new Discard(call, stream, limits, undefined);
    }
    call.deadline((Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!) | 0);
  }
  const encoding = first(headers, 'grpc-encoding');
  if (!m.requestStream) return new WholeRequest(call, stream, limits, encoding);
  const reqs = new RequestQueue(call, stream, limits, encoding);
  (m.responseStream ? runStream(call, reqs) : runUnary(call, reqs)).catch((err: unknown) =>
    call.status(Status.INTERNAL, `Error answering the call: ${(err as Error)?.message ?? String(err)}`),
  );
  return reqs;
}

/**
 * RequestReader reads a call's request from its stream: the call it serves, the limits and the
 * request's `grpc-encoding`.
 */
abstract class RequestReader implements RequestSink {
  constructor(
    protected readonly call: DirectCall,
    protected readonly stream: CallStream,
    protected readonly limits: DirectLimits,
    protected readonly encoding: string | undefined,
  ) {}

  abstract data(chunk: Buffer): void;
  abstract end(): void;

  closed(): void {
    this.call.closed();
  }

  /**
   * body is a request message's body, decompressed when its flag and the call's `grpc-encoding`
   * say so; undefined once the call has been ended with the failure.
   */
  protected body(flag: number, body: Buffer): Buffer | undefined {
    const { call, encoding } = this;
    // The flag without an encoding means identity, as in grpc-js.
    if (flag === 0 || encoding === undefined || encoding === 'identity') return body;
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      call.status(Status.UNIMPLEMENTED, `Received message compressed with unsupported encoding "${encoding}"`);
      return undefined;
    }
    const max = this.limits.maxReceiveMessageSize;
    try {
      const opts = max >= 0 ? { maxOutputLength: Math.max(max, 1) } : {};
      return encoding === 'gzip' ? gunzipSync(body, opts) : inflateSync(body, opts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        call.status(Status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${max}`);
      } else call.status(Status.INTERNAL, 'Failed to decompress the request');
      return undefined;
    }
  }
}

/** Discard reads a request that is not answered by a handler. */
class Discard extends RequestReader {
  data(chunk: Buffer): void {
    this.stream.taken(chunk.length);
  }

  end(): void {}
}

/**
 * WholeRequest reads the one request message of a unary or server-streaming call, then runs the
 * handler. `first` is where the request message ends once its prefix is in, `second` the same
 * for a message after it: grpc-js refuses a second message only once it is complete, and drops a
 * part of one at the end.
 */
class WholeRequest extends RequestReader {
  readonly #chunks: Buffer[] = [];
  #received = 0;
  #first = -1;
  #second = -1;

  #lengthAt(offset: number): number {
    const chunks = this.#chunks;
    let skip = offset;
    let i = 0;
    while (skip >= chunks[i]!.length) skip -= chunks[i++]!.length;
    const head = chunks[i]!.length - skip >= 5 ? chunks[i]!.subarray(skip, skip + 5) : Buffer.concat(chunks.slice(i)).subarray(skip, skip + 5);
    return head.readUInt32BE(1);
  }

  #tooLarge(length: number): boolean {
    const max = this.limits.maxReceiveMessageSize;
    if (max < 0 || length <= max) return false;
    this.call.status(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${max})`);
    return true;
  }

  data(chunk: Buffer): void {
    this.stream.taken(chunk.length);
    const call = this.call;
    if (call.done) return;
    this.#chunks.push(chunk);
    this.#received += chunk.length;
    if (this.#first < 0) {
      if (this.#received < 5) return;
      const length = this.#lengthAt(0);
      if (this.#tooLarge(length)) return;
      this.#first = 5 + length;
    }
    if (this.#second < 0) {
      if (this.#received < this.#first + 5) return;
      const length = this.#lengthAt(this.#first);
      if (this.#tooLarge(length)) return;
      this.#second = this.#first + 5 + length;
    }
    if (this.#received >= this.#second) call.status(Status.UNIMPLEMENTED, `Received a second request message for server streaming method ${call.m.path}`);
  }

  end(): void {
    const call = this.call;
    if (call.done) return;
    const m = call.m;
    // A message cut short never completes: grpc-js then has none.
    if (this.#first < 0 || this.#received < this.#first) {
      call.status(Status.UNIMPLEMENTED, `Received no request message for server streaming method ${m.path}`);
      return;
    }
    const frame = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#received);
    const body = this.body(frame[0]!, frame.subarray(5, this.#first));
    if (body === undefined) return;
    let req: unknown;
    try {
      req = m.deserialize(body);
    } catch {
      call.status(Status.INTERNAL, 'Error deserializing request');
      return;
    }
    (m.responseStream ? runStream(call, req) : runUnary(call, req)).catch((err: unknown) =>
      call.status(Status.INTERNAL, `Error answering the call: ${(err as Error)?.message ?? String(err)}`),
    );
  }

}

/**
 * RequestQueue is the stream of requests of a method that reads one: messages are cut from the
 * data as it arrives and deserialized as the handler takes them. The client's window is given
 * back as the handler takes each message, so a client can be at most a window ahead of it. The
 * iteration ends when the client ends its side, and fails when the call is cancelled or ended.
 */
class RequestQueue extends RequestReader implements AsyncIterable<unknown> {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** the framed length of the message being received, its flag read; -1 before its prefix. */
  #need = -1;
  #flag = 0;
  readonly #messages: Array<{ flag: number; body: Buffer }> = [];
  #ended = false;
  #wake: (() => void) | undefined = undefined;

  constructor(call: DirectCall, stream: CallStream, limits: DirectLimits, encoding: string | undefined) {
    super(call, stream, limits, encoding);
    call.onDone = () => this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** take removes `n` bytes from the front of the data received. */
  #take(n: number): Buffer {
    const chunks = this.#chunks;
    this.#buffered -= n;
    const head = chunks[0]!;
    if (head.length === n) return chunks.shift()!;
    if (head.length > n) {
      chunks[0] = head.subarray(n);
      return head.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = chunks[0]!;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) chunks.shift();
      else chunks[0] = c.subarray(k);
    }
    return out;
  }

  data(chunk: Buffer): void {
    const call = this.call;
    if (call.done) {
      this.stream.taken(chunk.length);
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    let added = false;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 5) break;
        const prefix = this.#take(5);
        this.stream.taken(5);
        const length = prefix.readUInt32BE(1);
        const max = this.limits.maxReceiveMessageSize;
        if (max >= 0 && length > max) {
          call.status(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${max})`);
          return;
        }
        this.#flag = prefix[0]!;
        this.#need = length;
      }
      if (this.#buffered < this.#need) break;
      this.#messages.push({ flag: this.#flag, body: this.#need === 0 ? Buffer.alloc(0) : this.#take(this.#need) });
      this.#need = -1;
      added = true;
    }
    if (added) this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  override closed(): void {
    super.closed();
    this.#notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const call = this.call;
    for (;;) {
      // A call ended (its status sent, its client gone) fails the handler's read.
      if (call.done) throw cancelledReason();
      const msg = this.#messages.shift();
      if (msg !== undefined) {
        this.stream.taken(msg.body.length);
        const body = this.body(msg.flag, msg.body);
        if (body === undefined) throw cancelledReason();
        let req: unknown;
        try {
          req = call.m.deserialize(body);
        } catch {
          call.status(Status.INTERNAL, 'Error deserializing request');
          throw cancelledReason();
        }
        yield req;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
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
class DirectCall {
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

async function runUnary(call: DirectCall, req: unknown): Promise<void> {
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

async function runStream(call: DirectCall, req: unknown): Promise<void> {
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
