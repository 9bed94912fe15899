import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { LEASE_HEADER, NAMESPACE_HEADER, resolveNamespace } from '@ctrd/namespaces';
import { pollAfterAnswer } from './busy-poll.js';
import { drained } from './drained.js';
import { cancelledReason, firstValue } from './headers.js';
import type { CallObserver } from './bind.js';
import type { CallContext } from './context.js';
import { toServiceError } from './status.js';

/** DirectMethod is one bound unary or server-streaming method as the direct path serves it (see {@link serveDirect}). */
export interface DirectMethod {
  path: string;
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
const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
};
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' };
const ERROR_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' };
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

/** PIPELINE_BYTES is how much of a response stream may wait in its HTTP/2 stream's buffer before the handler is paused. */
const PIPELINE_BYTES = 4 << 20;
/** From this size on a response message is written after its prefix rather than copied behind it. */
const COPY_BELOW = 16 << 10;

/**
 * serveDirect serves one unary or server-streaming call on its HTTP/2 stream without grpc-js's
 * per-call machinery (interceptor chain, metadata copy, stream decoder, per-call metrics
 * recorder, an object-mode Writable per call): the request is read whole, the handler runs with
 * its CallContext, and the answer goes out as grpc-js frames it (response headers, the messages,
 * `grpc-status` trailers; a trailers-only response for an error before any message or an empty
 * stream). It keeps grpc-js's behaviour where a client can see it: `grpc-timeout` deadlines, the
 * size limits and their messages, exactly one request message, the error mapping of
 * `bindService`, HTTP/2 flow control. The caller has checked {@link directlyServable}.
 */
export function serveDirect(m: DirectMethod, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, limits: DirectLimits): void {
  const call = new DirectCall(m, stream, headers, limits);

  const timeout = headers['grpc-timeout'];
  if (timeout !== undefined) {
    const match = TIMEOUT.exec(String(timeout));
    if (match === null) {
      // The request is still read to its end, as grpc-js does, not reset.
      stream.resume();
      process.nextTick(() => call.status(Status.INTERNAL, `Invalid grpc-timeout value "${timeout}"`));
      return;
    }
    call.deadline((Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!) | 0);
  }

  // The request is kept whole; `first` is where the request message ends once its prefix is in,
  // `second` the same for a message after it. grpc-js refuses a second message only once it is
  // complete, and drops a part of one at the end.
  const chunks: Buffer[] = [];
  let received = 0;
  let first = -1;
  let second = -1;
  const lengthAt = (offset: number): number => {
    let skip = offset;
    let i = 0;
    while (skip >= chunks[i]!.length) skip -= chunks[i++]!.length;
    const head = chunks[i]!.length - skip >= 5 ? chunks[i]!.subarray(skip, skip + 5) : Buffer.concat(chunks.slice(i)).subarray(skip, skip + 5);
    return head.readUInt32BE(1);
  };
  const tooLarge = (length: number): boolean => {
    if (limits.maxReceiveMessageSize < 0 || length <= limits.maxReceiveMessageSize) return false;
    call.status(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${limits.maxReceiveMessageSize})`);
    return true;
  };
  stream.on('data', (chunk: Buffer) => {
    if (call.done) return;
    chunks.push(chunk);
    received += chunk.length;
    if (first < 0) {
      if (received < 5) return;
      const length = lengthAt(0);
      if (tooLarge(length)) return;
      first = 5 + length;
    }
    if (second < 0) {
      if (received < first + 5) return;
      const length = lengthAt(first);
      if (tooLarge(length)) return;
      second = first + 5 + length;
    }
    if (received >= second) call.status(Status.UNIMPLEMENTED, `Received a second request message for server streaming method ${m.path}`);
  });
  stream.on('end', () => {
    if (call.done) return;
    // A message cut short never completes: grpc-js then has none. The compressed flag without
    // a `grpc-encoding` means identity there too.
    if (first < 0 || received < first) {
      call.status(Status.UNIMPLEMENTED, `Received no request message for server streaming method ${m.path}`);
      return;
    }
    const frame = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    let req: unknown;
    try {
      req = m.deserialize(frame.subarray(5, first));
    } catch {
      call.status(Status.INTERNAL, 'Error deserializing request');
      return;
    }
    (m.responseStream ? runStream(call, req) : runUnary(call, req)).catch((err: unknown) =>
      call.status(Status.INTERNAL, `Error answering the call: ${(err as Error)?.message ?? String(err)}`),
    );
  });
}

/**
 * DirectCall is the answering side of a call served directly: its context, its deadline and the
 * one status it ends with, sent as trailers after the response headers or, before them, as a
 * trailers-only response.
 */
class DirectCall {
  readonly m: DirectMethod;
  readonly ctx: DirectCallContext;
  readonly #stream: ServerHttp2Stream;
  readonly #limits: DirectLimits;
  #timer: NodeJS.Timeout | undefined = undefined;
  #settled = false;
  #headersSent = false;
  #trailers: Record<string, string> = OK_TRAILERS;

  constructor(m: DirectMethod, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, limits: DirectLimits) {
    this.m = m;
    this.ctx = new DirectCallContext(headers, m.path);
    this.#stream = stream;
    this.#limits = limits;
    stream.on('error', () => {});
    stream.once('close', () => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      if (!this.#settled) this.ctx.cancel();
      this.#settled = true;
    });
  }

  /** done tells whether the call has its status or its stream is gone: nothing more is sent. */
  get done(): boolean {
    return this.#settled;
  }

  deadline(ms: number): void {
    this.#timer = setTimeout(() => this.status(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'), ms);
  }

  /** settle marks the status as sent; false when it was already, or the stream is gone. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    return !(this.#stream.destroyed || this.#stream.closed);
  }

  #respond(): void {
    this.#headersSent = true;
    this.#stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.#stream.once('wantTrailers', () => this.#stream.sendTrailers(this.#trailers));
  }

  /** status ends the call with a status; an error also aborts the handler's signal, as in grpc-js. */
  status(code: number, details: string): void {
    if (!this.#settle()) return;
    const message = code === Status.OK ? 'OK' : encodeURI(wellFormed(details));
    if (!this.#headersSent) {
      this.#stream.respond({ ...ERROR_HEADERS, 'grpc-status': String(code), 'grpc-message': message }, { endStream: true });
    } else {
      if (code !== Status.OK) this.#trailers = { 'grpc-status': String(code), 'grpc-message': message };
      this.#stream.end();
    }
    if (code !== Status.OK) this.ctx.cancel();
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
    this.#respond();
    this.#write(frame);
    this.#stream.end();
  }

  /**
   * send writes one message of a response stream. It resolves at once while the stream's buffer
   * holds less than PIPELINE_BYTES, else once the client has taken it (or the stream is gone).
   */
  send(res: unknown): Promise<void> | undefined {
    if (this.#settled) return undefined;
    const frame = this.#frame(res);
    if (frame === undefined) return undefined;
    if (!this.#headersSent) this.#respond();
    this.#write(frame);
    return this.#stream.writableLength < PIPELINE_BYTES ? undefined : drained(this.#stream);
  }

  /** write hands a framed message to the stream: a prefix and its message go as one writev, as the copy would have. */
  #write(frame: Buffer[]): void {
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
