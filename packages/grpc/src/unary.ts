import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { LEASE_HEADER, NAMESPACE_HEADER, resolveNamespace } from '@ctrd/namespaces';
import { pollAfterAnswer } from './busy-poll.js';
import { cancelledReason, firstValue } from './headers.js';
import type { CallObserver } from './bind.js';
import type { CallContext } from './context.js';
import { toServiceError } from './status.js';

/** UnaryMethod is one bound unary method as the direct path serves it (see {@link serveUnary}). */
export interface UnaryMethod {
  path: string;
  deserialize: (b: Buffer) => unknown;
  serialize: (v: unknown) => Buffer;
  handler: (req: unknown, ctx: CallContext) => unknown;
  observe?: CallObserver;
}

/** UnaryLimits are the server's message size limits, in bytes (-1: none). */
export interface UnaryLimits {
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
 * directlyServable tells whether {@link serveUnary} can serve a call with these headers: a gRPC
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

/** UnaryCallContext is the CallContext of a call served directly, read from its HTTP/2 headers. */
class UnaryCallContext implements CallContext {
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
 * serveUnary serves one unary call on its HTTP/2 stream without grpc-js's per-call machinery
 * (interceptor chain, metadata copy, stream decoder, per-call metrics recorder): the request is
 * read whole, the handler runs with its CallContext, and the answer goes out as grpc-js frames it
 * (response headers, one message, `grpc-status` trailers; a trailers-only response for an error).
 * It keeps grpc-js's behaviour where a client can see it: `grpc-timeout` deadlines, the size
 * limits and their messages, exactly one request message, the error mapping of `bindService`.
 * The caller has checked {@link directlyServable}.
 */
export function serveUnary(m: UnaryMethod, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, limits: UnaryLimits): void {
  const ctx = new UnaryCallContext(headers, m.path);
  let done = false;
  let timer: NodeJS.Timeout | undefined;

  const finish = (): boolean => {
    if (done) return false;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    return !(stream.destroyed || stream.closed);
  };
  const fail = (code: number, details: string): void => {
    if (!finish()) return;
    stream.respond({ ...ERROR_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeURI(wellFormed(details)) }, { endStream: true });
    ctx.cancel();
  };

  stream.on('error', () => {});
  stream.once('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    if (!done) ctx.cancel();
    done = true;
  });

  const timeout = headers['grpc-timeout'];
  if (timeout !== undefined) {
    const match = TIMEOUT.exec(String(timeout));
    if (match === null) {
      // The request is still read to its end, as grpc-js does, not reset.
      stream.resume();
      process.nextTick(() => fail(Status.INTERNAL, `Invalid grpc-timeout value "${timeout}"`));
      return;
    }
    timer = setTimeout(() => fail(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'), (Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!) | 0);
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
    fail(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${limits.maxReceiveMessageSize})`);
    return true;
  };
  stream.on('data', (chunk: Buffer) => {
    if (done) return;
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
    if (received >= second) fail(Status.UNIMPLEMENTED, `Received a second request message for server streaming method ${m.path}`);
  });
  stream.on('end', () => {
    if (done) return;
    // A message cut short never completes: grpc-js then has none. The compressed flag without
    // a `grpc-encoding` means identity there too.
    if (first < 0 || received < first) {
      fail(Status.UNIMPLEMENTED, `Received no request message for server streaming method ${m.path}`);
      return;
    }
    const frame = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    let req: unknown;
    try {
      req = m.deserialize(frame.subarray(5, first));
    } catch {
      fail(Status.INTERNAL, 'Error deserializing request');
      return;
    }
    run(m, req, ctx, stream, limits, finish, fail).catch((err: unknown) => fail(Status.INTERNAL, `Error answering the call: ${(err as Error)?.message ?? String(err)}`));
  });
}

async function run(
  m: UnaryMethod,
  req: unknown,
  ctx: UnaryCallContext,
  stream: ServerHttp2Stream,
  limits: UnaryLimits,
  finish: () => boolean,
  fail: (code: number, details: string) => void,
): Promise<void> {
  const started = m.observe === undefined ? 0 : performance.now();
  let res: unknown;
  try {
    res = await m.handler(req, ctx);
  } catch (err) {
    const e = toServiceError(err);
    // A rejection without a reason is still a failure to an observer.
    observe(m, started, err === undefined ? e : err);
    fail(e.code ?? Status.UNKNOWN, e.details ?? '');
    pollAfterAnswer();
    return;
  }
  observe(m, started, undefined);
  let body: Buffer;
  try {
    body = m.serialize(res);
  } catch {
    fail(Status.INTERNAL, 'Error serializing response');
    pollAfterAnswer();
    return;
  }
  if (limits.maxSendMessageSize >= 0 && body.length > limits.maxSendMessageSize) {
    fail(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${body.length + 5} vs. ${limits.maxSendMessageSize})`);
    pollAfterAnswer();
    return;
  }
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  if (!finish()) return;
  stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
  stream.end(frame);
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
function observe(m: UnaryMethod, started: number, err: unknown): void {
  if (m.observe === undefined) return;
  try {
    m.observe(m.path, performance.now() - started, err);
  } catch {
    // an observer's own failure is not the call's
  }
}
