import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as h2connect, createServer, constants as h2, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { NotFoundError } from '@ctrd/errdefs';
import { bindService, directlyServable, serveDirect, type ServiceHandlers } from './index.js';

// The direct path must answer every call as grpc-js does: each case below runs against a grpc-js
// server and against a bare HTTP/2 server that serves the same bound methods with serveDirect,
// and the client-visible outcomes (code, message, responses) are compared.

const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()),
  responseSerialize: (v: unknown) => {
    const s = JSON.stringify(v);
    if (s === undefined) throw new Error('cannot serialize');
    return Buffer.from(s);
  },
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()),
};
const Def = {
  echo: { path: '/test.Direct/Echo', requestStream: false, responseStream: false, ...json },
  fail: { path: '/test.Direct/Fail', requestStream: false, responseStream: false, ...json },
  wait: { path: '/test.Direct/Wait', requestStream: false, responseStream: false, ...json },
  bad: { path: '/test.Direct/Bad', requestStream: false, responseStream: false, ...json },
  big: { path: '/test.Direct/Big', requestStream: false, responseStream: false, ...json },
  count: { path: '/test.Direct/Count', requestStream: false, responseStream: true, ...json },
  watch: { path: '/test.Direct/Watch', requestStream: false, responseStream: true, ...json },
} as const;

/** What a Count request asks for: `n` messages of `size` bytes, then the end or a failure. */
interface CountRequest {
  n: number;
  size?: number;
  then?: 'fail' | 'bad' | 'big' | 'wait';
}

const LIMIT = 1000;
const aborted: string[] = [];
const handlers: ServiceHandlers<typeof Def> = {
  echo: async (req, ctx) => ({ req, namespace: ctx.namespace, lease: ctx.lease ?? null, method: ctx.method, custom: ctx.metadata.get('x-custom')[0] ?? null }),
  fail: async () => {
    throw new NotFoundError('image "x" not found');
  },
  wait: async (_req, ctx) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted.push(ctx.method);
        resolve();
      });
    });
    return {};
  },
  bad: async () => undefined,
  big: async () => ({ s: 'x'.repeat(2 * LIMIT) }),
  count: async function* (req, ctx) {
    const { n, size = 0, then } = req as CountRequest;
    for (let i = 0; i < n; i++) yield { i, namespace: ctx.namespaceOrUndefined ?? null, pad: 'p'.repeat(size) };
    if (then === 'fail') throw new NotFoundError('image "x" not found');
    if (then === 'bad') yield undefined;
    if (then === 'big') yield { s: 'x'.repeat(2 * LIMIT) };
    if (then === 'wait') await new Promise((resolve) => setTimeout(resolve, 2000));
  },
  watch: async function* (_req, ctx) {
    // A long-lived stream (as Events.Subscribe): one message, then until the client goes away.
    try {
      yield { watching: true };
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      aborted.push(ctx.method);
    } finally {
      finished.push(ctx.method);
    }
  },
};
const finished: string[] = [];

type Mode = 'grpc-js' | 'direct';

async function withServer(mode: Mode, fn: (sock: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'grpc-direct-'));
  const sock = join(dir, 's.sock');
  const bound = bindService(Def, handlers);
  let close: () => void;
  if (mode === 'grpc-js') {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': LIMIT, 'grpc.max_send_message_length': LIMIT });
    server.addService(bound.definition, bound.implementation);
    await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    close = () => server.forceShutdown();
  } else {
    const methods = new Map(bound.direct!.map((m) => [m.path, m]));
    const server = createServer();
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const m = methods.get(String(headers[':path']));
      assert.ok(m && directlyServable(headers), `no direct method for ${headers[':path']}`);
      serveDirect(m, stream, headers, { maxReceiveMessageSize: LIMIT, maxSendMessageSize: LIMIT });
    });
    await new Promise<void>((res) => server.listen(sock, res));
    close = () => server.close();
  }
  try {
    await fn(sock);
  } finally {
    close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Outcome {
  code: number;
  details: string;
  response?: unknown;
  /** the names of the response's header fields and trailers (raw calls). */
  fields?: string[];
}

const id = (b: Buffer) => b;

/** clientFor makes a grpc-js client of the socket, the call's metadata and its options. */
function clientFor(sock: string, metadata: Record<string, string>, deadlineMs?: number) {
  const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 1 << 20, 'grpc.max_send_message_length': 1 << 20 });
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return { client, md, options: deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs } };
}

/** call makes one unary call with grpc-js's client, as raw bytes. */
function call(sock: string, path: string, body: Buffer, metadata: Record<string, string>, deadlineMs?: number): Promise<Outcome> {
  const { client, md, options } = clientFor(sock, metadata, deadlineMs);
  return new Promise<Outcome>((resolve) =>
    client.makeUnaryRequest(path, id, id, body, md, options, (err, res) => {
      client.close();
      // The client words its own deadline's expiry with timings: keep the words.
      if (err) resolve({ code: err.code, details: err.code === grpc.status.DEADLINE_EXCEEDED ? err.details.split(' after ')[0]! : err.details });
      else resolve({ code: grpc.status.OK, details: '', response: JSON.parse(res!.toString()) });
    }),
  );
}

/** stream makes one server-streaming call with grpc-js's client and collects what it reads. */
function stream(sock: string, path: string, req: unknown, metadata: Record<string, string>, deadlineMs?: number): Promise<Outcome> {
  const { client, md, options } = clientFor(sock, metadata, deadlineMs);
  const responses: unknown[] = [];
  return new Promise<Outcome>((resolve) => {
    const call = client.makeServerStreamRequest(path, id, id, Buffer.from(JSON.stringify(req)), md, options);
    call.on('data', (b: Buffer) => responses.push(JSON.parse(b.toString())));
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => {
      client.close();
      const details = s.code === grpc.status.DEADLINE_EXCEEDED ? s.details.split(' after ')[0]! : s.details;
      resolve({ code: s.code, details, response: responses });
    });
  });
}

/** raw sends a request stream with the given extra headers and DATA and reads the status back. */
async function raw(sock: string, path: string, extra: Record<string, string>, data: Buffer[]): Promise<Outcome> {
  const session = h2connect('http://localhost', { createConnection: () => createConnection(sock) });
  session.on('error', () => {});
  try {
    const stream = session.request({
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: path,
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      ...extra,
    });
    stream.on('error', () => {});
    const fields: string[] = [];
    const status = new Promise<Record<string, unknown>>((resolve) => {
      stream.on('response', (h) => {
        fields.push(...Object.keys(h).filter((k) => k !== 'date'));
        if (h['grpc-status'] !== undefined) resolve(h);
      });
      stream.on('trailers', (t) => {
        fields.push(...Object.keys(t).map((k) => `trailer ${k}`));
        resolve(t);
      });
      stream.on('close', () => resolve({ 'grpc-status': -1 }));
    });
    stream.resume();
    for (const d of data) stream.write(d);
    stream.end();
    const s = await status;
    return { code: Number(s['grpc-status']), details: decodeURIComponent(String(s['grpc-message'] ?? '')), fields: fields.sort() };
  } finally {
    session.destroy();
  }
}

function framed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

const CASES: Array<[string, (sock: string) => Promise<Outcome>]> = [
  ['an answer with the headers the handler reads', (s) => call(s, Def.echo.path, Buffer.from('{"a":1}'), { 'containerd-namespace': 'ns1', 'containerd-lease': 'l1', 'x-custom': 'v' })],
  ['a call without a namespace to a handler that needs one', (s) => call(s, Def.echo.path, Buffer.from('{}'), {})],
  ['an errdefs error', (s) => call(s, Def.fail.path, Buffer.from('{}'), {})],
  ['a request that does not decode', (s) => call(s, Def.echo.path, Buffer.from('{'), { 'containerd-namespace': 'ns1' })],
  ['an answer that does not encode', (s) => call(s, Def.bad.path, Buffer.from('{}'), {})],
  ['a deadline that passes', (s) => call(s, Def.wait.path, Buffer.from('{}'), {}, 100)],
  ['a deadline that the server enforces', (s) => raw(s, Def.wait.path, { 'grpc-timeout': '50m' }, [framed(Buffer.from('{}'))])],
  ['a request above the receive limit', (s) => call(s, Def.echo.path, Buffer.from(JSON.stringify({ s: 'y'.repeat(2 * LIMIT) })), { 'containerd-namespace': 'ns1' })],
  ['an answer above the send limit', (s) => call(s, Def.big.path, Buffer.from('{}'), {})],
  ['no request message', (s) => raw(s, Def.echo.path, {}, [])],
  ['two request messages', (s) => raw(s, Def.echo.path, {}, [framed(Buffer.from('{}')), framed(Buffer.from('{}'))])],
  ['a message cut short', (s) => raw(s, Def.echo.path, {}, [framed(Buffer.from('{"a":1}')).subarray(0, 8)])],
  ['a request message split over frames', (s) => raw(s, Def.echo.path, { 'containerd-namespace': 'ns1' }, [Buffer.from([0, 0]), Buffer.from([0, 0, 2, 0x7b]), Buffer.from([0x7d])])],
  ['a grpc-timeout that does not parse', (s) => raw(s, Def.echo.path, { 'grpc-timeout': 'soon' }, [framed(Buffer.from('{}'))])],
  ['an answer, as raw frames', (s) => raw(s, Def.echo.path, { 'containerd-namespace': 'ns1' }, [framed(Buffer.from('{"a":1}'))])],
  ['a prefix split from a larger body', (s) => raw(s, Def.echo.path, { 'containerd-namespace': 'ns1' }, splitAfter(framed(Buffer.from(JSON.stringify({ s: 'z'.repeat(900) }))), 3, 100))],
  ['a second message cut short', (s) => raw(s, Def.echo.path, { 'containerd-namespace': 'ns1' }, [framed(Buffer.from('{}')), Buffer.from([0, 0, 0])])],
  ['a second message above the receive limit', (s) => raw(s, Def.echo.path, { 'containerd-namespace': 'ns1' }, [framed(Buffer.from('{}')), Buffer.from([0, 0, 0, 0x20, 0])])],
  ['a stream of answers with the headers the handler reads', (s) => stream(s, Def.count.path, { n: 3 }, { 'containerd-namespace': 'ns1' })],
  ['an empty stream', (s) => stream(s, Def.count.path, { n: 0 }, {})],
  ['a stream that fails before its first answer', (s) => stream(s, Def.count.path, { n: 0, then: 'fail' }, {})],
  ['a stream that fails after two answers', (s) => stream(s, Def.count.path, { n: 2, then: 'fail' }, {})],
  ['a stream answer that does not encode', (s) => stream(s, Def.count.path, { n: 1, then: 'bad' }, {})],
  ['a stream answer above the send limit', (s) => stream(s, Def.count.path, { n: 1, then: 'big' }, {})],
  ['a stream whose deadline passes after an answer', (s) => stream(s, Def.count.path, { n: 1, then: 'wait' }, {}, 200)],
  ['a stream whose deadline the server enforces', (s) => raw(s, Def.count.path, { 'grpc-timeout': '50m' }, [framed(Buffer.from('{"n":1,"then":"wait"}'))])],
  ['a long stream under flow control', (s) => stream(s, Def.count.path, { n: 300, size: 900 }, {})],
  ['a stream with two request messages', (s) => raw(s, Def.count.path, {}, [framed(Buffer.from('{"n":1}')), framed(Buffer.from('{"n":1}'))])],
  ['a stream without a request message', (s) => raw(s, Def.count.path, {}, [])],
  ['a stream of answers, as raw frames', (s) => raw(s, Def.count.path, {}, [framed(Buffer.from('{"n":2}'))])],
  ['an empty stream, as raw frames', (s) => raw(s, Def.count.path, {}, [framed(Buffer.from('{"n":0}'))])],
  ['a stream that fails after an answer, as raw frames', (s) => raw(s, Def.count.path, {}, [framed(Buffer.from('{"n":1,"then":"fail"}'))])],
];

/** splitAfter cuts a buffer into a piece of `head` bytes and pieces of `size` after it. */
function splitAfter(b: Buffer, head: number, size: number): Buffer[] {
  const out = [b.subarray(0, head)];
  for (let i = head; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

for (const [name, run] of CASES) {
  test(`a call served directly answers as grpc-js does: ${name}`, { timeout: 20_000 }, async () => {
    const outcomes: Partial<Record<Mode, Outcome>> = {};
    for (const mode of ['grpc-js', 'direct'] as const) await withServer(mode, async (sock) => void (outcomes[mode] = await run(sock)));
    assert.deepEqual(outcomes.direct, outcomes['grpc-js']);
  });
}

test('a handler served directly sees its deadline and the client going away on its signal', { timeout: 20_000 }, async () => {
  await withServer('direct', async (sock) => {
    aborted.length = 0;
    const expired = await call(sock, Def.wait.path, Buffer.from('{}'), {}, 50);
    assert.equal(expired.code, grpc.status.DEADLINE_EXCEEDED);
    const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure());
    const pending = client.makeUnaryRequest(Def.wait.path, id, id, Buffer.from('{}'), new grpc.Metadata(), () => {});
    await new Promise((r) => setTimeout(r, 100));
    pending.cancel();
    for (let i = 0; i < 100 && aborted.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    client.close();
    assert.deepEqual(aborted, [Def.wait.path, Def.wait.path]);
  });
});

test('an error message with a lone surrogate is answered, the surrogate replaced', { timeout: 20_000 }, async () => {
  // grpc-js's encodeURI of such a message throws (and takes its server down); the direct path answers.
  const bound = bindService({ fail: Def.fail }, { fail: async () => Promise.reject(new NotFoundError('name \ud800 bad')) });
  const dir = await mkdtemp(join(tmpdir(), 'grpc-direct-'));
  const sock = join(dir, 's.sock');
  const server = createServer();
  server.on('stream', (stream, headers) => serveDirect(bound.direct![0]!, stream, headers, { maxReceiveMessageSize: LIMIT, maxSendMessageSize: LIMIT }));
  await new Promise<void>((res) => server.listen(sock, res));
  try {
    const out = await raw(sock, Def.fail.path, {}, [framed(Buffer.from('{}'))]);
    assert.equal(out.code, grpc.status.NOT_FOUND);
    assert.match(out.details, /name \ufffd bad/);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('directlyServable leaves compressed and non-gRPC requests to grpc-js', () => {
  assert.equal(directlyServable({ 'content-type': 'application/grpc' }), true);
  assert.equal(directlyServable({ 'content-type': 'application/grpc+proto', 'grpc-encoding': 'identity' }), true);
  assert.equal(directlyServable({ 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }), false);
  assert.equal(directlyServable({ 'content-type': 'text/plain' }), false);
  assert.equal(directlyServable({}), false);
});

test('a stream served directly stops its handler when the client goes away', { timeout: 20_000 }, async () => {
  await withServer('direct', async (sock) => {
    aborted.length = 0;
    finished.length = 0;
    const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure());
    const call = client.makeServerStreamRequest(Def.watch.path, id, id, Buffer.from('{}'), new grpc.Metadata(), {});
    call.on('error', () => {});
    await new Promise((resolve) => call.once('data', resolve));
    call.cancel();
    for (let i = 0; i < 100 && finished.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    client.close();
    assert.deepEqual(aborted, [Def.watch.path]);
    assert.deepEqual(finished, [Def.watch.path]);
  });
});

test('a stream served directly waits for a slow client instead of buffering the whole answer', { timeout: 20_000 }, async () => {
  const SIZE = 256 << 10;
  const COUNT = 128;
  let produced = 0;
  const Big = { list: { path: '/test.Direct/List', requestStream: false, responseStream: true, ...json } } as const;
  const bound = bindService(Big, {
    list: async function* () {
      for (let i = 0; i < COUNT; i++) {
        produced++;
        yield { i, pad: String(i % 10).repeat(SIZE) };
      }
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'grpc-direct-'));
  const sock = join(dir, 's.sock');
  const server = createServer();
  server.on('stream', (s, headers) => serveDirect(bound.direct![0]!, s, headers, { maxReceiveMessageSize: -1, maxSendMessageSize: -1 }));
  await new Promise<void>((res) => server.listen(sock, res));
  const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  const call = client.makeServerStreamRequest(Big.list.path, id, id, Buffer.from('{}'), new grpc.Metadata(), {});
  call.on('error', () => {});
  try {
    const seen: number[] = [];
    let intact = true;
    call.on('data', (b: Buffer) => {
      const msg = JSON.parse(b.toString()) as { i: number; pad: string };
      seen.push(msg.i);
      intact &&= msg.pad.length === SIZE && msg.pad === String(msg.i % 10).repeat(SIZE);
    });
    await new Promise((resolve) => call.once('data', resolve));
    call.pause();
    await new Promise((r) => setTimeout(r, 300));
    // 4 MiB may wait in the server's buffer, as much again in the transport (grpc-js serving
    // this stream: 32 messages of the 128).
    assert.ok(produced < 48, `the handler ran ${produced} messages ahead of a client that stopped reading`);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.resume();
    assert.equal((await status).code, grpc.status.OK);
    assert.deepEqual(seen, Array.from({ length: COUNT }, (_, i) => i));
    assert.ok(intact, 'a message arrived changed');
  } finally {
    call.cancel();
    client.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
