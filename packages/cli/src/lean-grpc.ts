import { connect as http2Connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

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
 * leanUnary calls one unary gRPC method over node:http2 without loading @grpc/grpc-js: the
 * request is an already-encoded message, the response's length-delimited fields come back
 * undecoded. It serves the few calls where grpc-js's start-up cost dominates (`version`).
 */
export async function leanUnary(session: ClientHttp2Session, path: string, request: Uint8Array, opts: LeanCallOptions = {}): Promise<ProtoFields> {
  const messages = await leanCall(session, path, request, opts);
  if (messages.length !== 1) throw new LeanCallError(`expected one response message, got ${messages.length}`);
  try {
    return decodeFields(messages[0]!);
  } catch (err) {
    throw new LeanCallError((err as Error).message);
  }
}

/**
 * leanCall calls a unary or server-streaming gRPC method over node:http2 and resolves with
 * every response message, still encoded, once the server has closed the call with status OK.
 * Any other status, and any transport or framing failure, rejects with LeanCallError.
 */
export function leanCall(session: ClientHttp2Session, path: string, request: Uint8Array, opts: LeanCallOptions = {}): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: path,
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
    };
    if (opts.namespace) headers['containerd-namespace'] = opts.namespace;
    if (opts.timeoutMs) headers['grpc-timeout'] = `${Math.ceil(opts.timeoutMs)}m`;
    let stream;
    try {
      stream = session.request(headers);
    } catch (err) {
      return reject(new LeanCallError((err as Error).message));
    }
    const chunks: Buffer[] = [];
    let status: string | undefined;
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) status = String(t['grpc-status']);
    });
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('error', (err) => reject(new LeanCallError(err.message)));
    stream.on('close', () => {
      if (status !== '0') {
        const code = status === undefined ? undefined : Number(status);
        return reject(new LeanCallError(`grpc-status ${status ?? 'missing'}`, Number.isInteger(code) ? code : undefined));
      }
      const body = Buffer.concat(chunks);
      const messages: Uint8Array[] = [];
      for (let at = 0; at < body.length; ) {
        if (body.length - at < 5 || body[at] !== 0) return reject(new LeanCallError('unexpected response framing'));
        const len = body.readUInt32BE(at + 1);
        if (at + 5 + len > body.length) return reject(new LeanCallError('unexpected response length'));
        messages.push(body.subarray(at + 5, at + 5 + len));
        at += 5 + len;
      }
      resolve(messages);
    });
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    frame.set(request, 5);
    stream.end(frame);
  });
}

/** leanSession opens an HTTP/2 session to a unix socket, failing with LeanCallError. */
export function leanSession(socketPath: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect('http://localhost', { createConnection: () => netConnect(socketPath) });
    session.once('connect', () => resolve(session));
    session.once('error', (err) => reject(new LeanCallError(err.message)));
  });
}

function varint(buf: Uint8Array, pos: { at: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos.at >= buf.length) throw new Error('truncated varint');
    const b = buf[pos.at++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

/** decodeFields reads a protobuf message's length-delimited fields, skipping the other wire types. */
export function decodeFields(buf: Uint8Array): ProtoFields {
  const out: ProtoFields = new Map();
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const tag = varint(buf, pos);
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        varint(buf, pos);
        break;
      case 1:
        pos.at += 8;
        break;
      case 2: {
        const len = varint(buf, pos);
        if (pos.at + len > buf.length) throw new Error('truncated field');
        out.set(field, buf.subarray(pos.at, pos.at + len));
        pos.at += len;
        break;
      }
      case 5:
        pos.at += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
    if (pos.at > buf.length) throw new Error('truncated message');
  }
  return out;
}

/** fieldString decodes a field as UTF-8, '' when absent. */
export function fieldString(fields: ProtoFields, n: number): string {
  const v = fields.get(n);
  return v ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8') : '';
}
