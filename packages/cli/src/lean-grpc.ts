import { connect as netConnect, type Socket } from 'node:net';
import { encodeHeaders, HpackDecoder, type Header } from '@ctrd/grpc/hpack';
import {
  ACK,
  CONTINUATION,
  DATA,
  DEFAULT_WINDOW,
  END_HEADERS,
  END_STREAM,
  frameHeader,
  GOAWAY,
  HEADERS,
  MAX_WINDOW,
  PADDED,
  PING,
  PREFACE,
  PRIORITY,
  PUSH_PROMISE,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  WINDOW_UPDATE,
} from '@ctrd/grpc/h2-frames';
import { wireFields } from './proto-wire.js';

/**
 * LeanCallError is any failure of a lean call. Callers treat it as "use the full client",
 * which reports the error in its usual words. `code` is the gRPC status the server answered
 * with, when it answered.
 */
export class LeanCallError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** ProtoFields maps a message's field numbers to their last length-delimited value (strings, bytes). */
export type ProtoFields = Map<number, Uint8Array>;

/** LeanCallOptions are a lean call's deadline (0 or absent: none) and `containerd-namespace`. */
export interface LeanCallOptions {
  timeoutMs?: number;
  namespace?: string;
}

/**
 * leanUnary calls one unary gRPC method without loading @grpc/grpc-js: the request is an
 * already-encoded message, the response's length-delimited fields come back undecoded. It serves
 * the few calls where a client's start-up cost dominates (`version`, `images ls`).
 */
export async function leanUnary(session: LeanSession, path: string, request: Uint8Array, opts: LeanCallOptions = {}): Promise<ProtoFields> {
  const message = await leanUnaryMessage(session, path, request, opts);
  try {
    return decodeFields(message);
  } catch (err) {
    throw new LeanCallError((err as Error).message);
  }
}

/** leanUnaryMessage calls one unary method and returns its one response message, still encoded. */
export async function leanUnaryMessage(session: LeanSession, path: string, request: Uint8Array, opts: LeanCallOptions = {}): Promise<Uint8Array> {
  const messages = await leanCall(session, path, request, opts);
  if (messages.length !== 1) throw new LeanCallError(`expected one response message, got ${messages.length}`);
  return messages[0]!;
}

/**
 * leanCall calls a unary or server-streaming gRPC method and resolves with every response
 * message, still encoded, once the server has closed the call with status OK. Any other status,
 * and any transport or framing failure, rejects with LeanCallError.
 */
export function leanCall(session: LeanSession, path: string, request: Uint8Array, opts: LeanCallOptions = {}): Promise<Uint8Array[]> {
  const headers: Header[] = [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', 'localhost'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
  if (opts.namespace) headers.push(['containerd-namespace', opts.namespace]);
  if (opts.timeoutMs) headers.push(['grpc-timeout', `${Math.ceil(opts.timeoutMs)}m`]);
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  frame.set(request, 5);
  return session.request(headers, frame).then(({ status, body }) => {
    if (status !== '0') {
      const code = status === undefined ? undefined : Number(status);
      throw new LeanCallError(`grpc-status ${status ?? 'missing'}`, Number.isInteger(code) ? code : undefined);
    }
    const messages: Uint8Array[] = [];
    for (let at = 0; at < body.length; ) {
      if (body.length - at < 5 || body[at] !== 0) throw new LeanCallError('unexpected response framing');
      const len = body.readUInt32BE(at + 1);
      if (at + 5 + len > body.length) throw new LeanCallError('unexpected response length');
      messages.push(body.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    return messages;
  });
}

/** leanSession opens an HTTP/2 connection to a unix socket, failing with LeanCallError. */
export function leanSession(socketPath: string): Promise<LeanSession> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(socketPath);
    const failed = (err: Error) => reject(new LeanCallError(err.message));
    socket.once('error', failed);
    socket.once('connect', () => {
      socket.off('error', failed);
      resolve(new LeanSession(socket));
    });
  });
}

/** streams open at once on this side, whatever the server allows. */
const MAX_OPEN = 100;

interface Pending {
  headers: Header[];
  body: Buffer;
  /** times the server refused the stream. */
  retries: number;
  resolve: (r: { status: string | undefined; body: Buffer }) => void;
  reject: (err: Error) => void;
}

interface Open extends Pending {
  data: Buffer[];
  status?: string;
  /** a header block was seen: the next one is the trailers. */
  responded: boolean;
}

/**
 * LeanSession is a client's HTTP/2 connection (RFC 9113) for a handful of gRPC calls: requests
 * with small bodies, responses read whole. It opens the receive windows to their maximum at once
 * and never sends WINDOW_UPDATE again, which a connection of at most 2 GiB in responses allows.
 * Loading node:http2 cost ~10 ms of a ~50 ms `ctrctl version`; this costs nothing to load.
 */
export class LeanSession {
  readonly #socket: Socket;
  readonly #decoder = new HpackDecoder();
  readonly #open = new Map<number, Open>();
  readonly #queue: Pending[] = [];
  #nextStream = 1;
  #peerMaxStreams = MAX_OPEN;
  #peerMaxFrame = 16_384;
  #peerWindow = DEFAULT_WINDOW;
  #input: Buffer = Buffer.alloc(0);
  /** a header block that has not ended yet: its stream, flags and fragments. */
  #block?: { stream: number; flags: number; parts: Buffer[] };
  #failed?: Error;

  constructor(socket: Socket) {
    this.#socket = socket;
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(SETTINGS_ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(SETTINGS_INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(MAX_WINDOW, 8);
    const windowUpdate = Buffer.alloc(4);
    windowUpdate.writeUInt32BE(MAX_WINDOW - DEFAULT_WINDOW);
    socket.write(Buffer.concat([PREFACE, frameHeader(12, SETTINGS, 0, 0), settings, frameHeader(4, WINDOW_UPDATE, 0, 0), windowUpdate]));
    socket.on('data', (b: Buffer) => this.#receive(b));
    socket.on('error', (err) => this.#fail(new LeanCallError(err.message)));
    socket.on('close', () => this.#fail(new LeanCallError('connection closed')));
  }

  /** request sends one request and resolves with its grpc-status and body once the stream has ended. */
  request(headers: Header[], body: Buffer): Promise<{ status: string | undefined; body: Buffer }> {
    return new Promise((resolve, reject) => {
      if (this.#failed) return reject(this.#failed);
      if (body.length > this.#peerWindow) return reject(new LeanCallError(`request of ${body.length} bytes exceeds the flow-control window`));
      this.#queue.push({ headers, body, retries: 0, resolve, reject });
      this.#start();
    });
  }

  /**
   * close ends the connection; calls still open fail. The process does not wait for the server
   * to close its side.
   */
  close(): void {
    this.#socket.end();
    this.#socket.unref();
    this.#fail(new LeanCallError('session closed'), false);
  }

  #start(): void {
    while (this.#queue.length > 0 && this.#open.size < Math.min(this.#peerMaxStreams, MAX_OPEN)) {
      const p = this.#queue.shift()!;
      const id = this.#nextStream;
      this.#nextStream += 2;
      this.#open.set(id, { ...p, data: [], responded: false });
      const block = encodeHeaders(p.headers);
      const out: Buffer[] = [];
      for (let at = 0, first = true; first || at < block.length; first = false) {
        const part = block.subarray(at, at + this.#peerMaxFrame);
        at += part.length;
        const last = at >= block.length;
        out.push(frameHeader(part.length, first ? HEADERS : CONTINUATION, last ? END_HEADERS : 0, id), part);
      }
      for (let at = 0, first = true; first || at < p.body.length; first = false) {
        const part = p.body.subarray(at, at + this.#peerMaxFrame);
        at += part.length;
        out.push(frameHeader(part.length, DATA, at >= p.body.length ? END_STREAM : 0, id), part);
      }
      this.#socket.write(Buffer.concat(out));
    }
  }

  /** fail ends every call with `err`, and the connection unless it is already ending (`destroy` false). */
  #fail(err: Error, destroy = true): void {
    this.#failed ??= err;
    for (const p of [...this.#open.values(), ...this.#queue]) p.reject(this.#failed);
    this.#open.clear();
    this.#queue.length = 0;
    if (destroy && !this.#socket.destroyed) this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    this.#input = this.#input.length ? Buffer.concat([this.#input, chunk]) : chunk;
    try {
      while (this.#input.length >= 9) {
        const length = this.#input.readUIntBE(0, 3);
        if (this.#input.length < 9 + length) break;
        const type = this.#input[3]!;
        const flags = this.#input[4]!;
        const stream = this.#input.readUInt32BE(5) & 0x7fff_ffff;
        const payload = this.#input.subarray(9, 9 + length);
        this.#input = this.#input.subarray(9 + length);
        this.#frame(type, flags, stream, payload);
      }
    } catch (err) {
      this.#fail(err instanceof LeanCallError ? err : new LeanCallError((err as Error).message));
    }
  }

  #frame(type: number, flags: number, stream: number, payload: Buffer): void {
    if (this.#block && type !== CONTINUATION) throw new LeanCallError('header block interrupted');
    switch (type) {
      case DATA: {
        const s = this.#open.get(stream);
        if (s) s.data.push(unpad(payload, flags));
        if (flags & END_STREAM) this.#end(stream);
        return;
      }
      case HEADERS: {
        let fragment = unpad(payload, flags);
        if (flags & PRIORITY) fragment = fragment.subarray(5);
        this.#block = { stream, flags, parts: [fragment] };
        if (flags & END_HEADERS) this.#headers();
        return;
      }
      case CONTINUATION:
        if (!this.#block || this.#block.stream !== stream) throw new LeanCallError('unexpected CONTINUATION');
        this.#block.parts.push(payload);
        if (flags & END_HEADERS) this.#headers();
        return;
      case RST_STREAM: {
        const s = this.#open.get(stream);
        this.#open.delete(stream);
        const code = payload.readUInt32BE(0);
        // Requests sent before the server's limit on open streams arrived are refused, unseen,
        // beyond it: sent again once streams free up.
        if (s && code === REFUSED_STREAM && s.retries < 3) this.#queue.unshift({ headers: s.headers, body: s.body, retries: s.retries + 1, resolve: s.resolve, reject: s.reject });
        else s?.reject(new LeanCallError(`stream reset with error ${code}`));
        this.#start();
        return;
      }
      case SETTINGS:
        if (flags & ACK) return;
        for (let at = 0; at + 6 <= payload.length; at += 6) {
          const id = payload.readUInt16BE(at);
          const value = payload.readUInt32BE(at + 2);
          if (id === SETTINGS_MAX_CONCURRENT_STREAMS) this.#peerMaxStreams = value;
          else if (id === SETTINGS_MAX_FRAME_SIZE) this.#peerMaxFrame = value;
          else if (id === SETTINGS_INITIAL_WINDOW_SIZE) this.#peerWindow = value;
        }
        this.#socket.write(frameHeader(0, SETTINGS, ACK, 0));
        this.#start();
        return;
      case PING:
        if (!(flags & ACK)) this.#socket.write(Buffer.concat([frameHeader(8, PING, ACK, 0), payload]));
        return;
      case GOAWAY: {
        const last = payload.readUInt32BE(0) & 0x7fff_ffff;
        for (const [id, s] of this.#open) {
          if (id > last) {
            this.#open.delete(id);
            s.reject(new LeanCallError('the server is going away'));
          }
        }
        this.#peerMaxStreams = 0;
        for (const p of this.#queue.splice(0)) p.reject(new LeanCallError('the server is going away'));
        return;
      }
      case PUSH_PROMISE:
        throw new LeanCallError('push promised though disabled');
      default:
        // Other frames (WINDOW_UPDATE, PRIORITY, unknown types) change nothing here.
        return;
    }
  }

  #headers(): void {
    const { stream, flags, parts } = this.#block!;
    this.#block = undefined;
    // Every block is decoded, whichever stream it belongs to, to keep the table in step.
    const fields = this.#decoder.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    const s = this.#open.get(stream);
    if (s) {
      if (!s.responded) {
        s.responded = true;
        const status = fields.find(([n]) => n === ':status')?.[1];
        if (status !== '200') {
          this.#open.delete(stream);
          s.reject(new LeanCallError(`HTTP status ${status ?? 'missing'}`));
          this.#start();
          return;
        }
      }
      const grpc = fields.find(([n]) => n === 'grpc-status')?.[1];
      if (grpc !== undefined) s.status = grpc;
    }
    if (flags & END_STREAM) this.#end(stream);
  }

  #end(stream: number): void {
    const s = this.#open.get(stream);
    if (!s) return;
    this.#open.delete(stream);
    s.resolve({ status: s.status, body: s.data.length === 1 ? s.data[0]! : Buffer.concat(s.data) });
    this.#start();
  }
}

/** unpad strips a PADDED frame's pad length and padding. */
function unpad(payload: Buffer, flags: number): Buffer {
  if (!(flags & PADDED)) return payload;
  const pad = payload[0]!;
  if (pad >= payload.length) throw new LeanCallError('padding exceeds the frame');
  return payload.subarray(1, payload.length - pad);
}

/** decodeFields reads a protobuf message's length-delimited fields, skipping the other wire types. */
export function decodeFields(buf: Uint8Array): ProtoFields {
  const out: ProtoFields = new Map();
  for (const f of wireFields(buf)) if (typeof f.value !== 'number') out.set(f.field, f.value);
  return out;
}

/** fieldString decodes a field as UTF-8, '' when absent. */
export function fieldString(fields: ProtoFields, n: number): string {
  const v = fields.get(n);
  return v ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8') : '';
}
