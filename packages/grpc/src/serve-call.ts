import type { IncomingHttpHeaders } from 'node:http2';
import { gunzipSync, inflateSync } from 'node:zlib';
import { status as Status } from '@grpc/grpc-js';
import { DirectCall, first, runStream, runUnary, type CallStream, type DirectLimits, type DirectMethod } from './direct.js';
import { cancelledReason } from './headers.js';

const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** RequestSink takes a call's request as its stream delivers it. */
export interface RequestSink {
  data(chunk: Buffer): void;
  end(): void;
  /** closed: the stream closed, answered or not (a client's reset, a lost connection). */
  closed(): void;
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
