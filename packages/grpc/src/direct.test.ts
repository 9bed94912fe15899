import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as h2connect, createServer, constants as h2, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { NotFoundError } from '@ctrd/errdefs';
import { bindService, directlyServable, GrpcServer, grpcMessage, MAX_MESSAGE_BYTES, serveDirect, type ServiceHandlers } from './index.js';

// The direct path and the own server must answer every call as grpc-js does: each case below runs
// against a grpc-js server, against a bare HTTP/2 server that serves the same bound methods with
// serveDirect (the methods that read one request), and against GrpcServer, and the client-visible
// outcomes (code, message, responses) are compared.

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
  sum: { path: '/test.Direct/Sum', requestStream: true, responseStream: false, ...json },
  chat: { path: '/test.Direct/Chat', requestStream: true, responseStream: true, ...json },
} as const;

/** A request of Sum and Chat: a value, or a failure of the handler as it reads it. */
interface Part {
  v?: number;
  pad?: string;
  fail?: boolean;
}

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
  sum: async (reqs, ctx) => {
    let total = 0;
    let n = 0;
    for await (const r of reqs as AsyncIterable<Part>) {
      if (r.fail) throw new NotFoundError(`part ${n} not found`);
      total += r.v ?? 0;
      n++;
    }
    return { total, n, namespace: ctx.namespaceOrUndefined ?? null };
  },
  chat: async function* (reqs) {
    let n = 0;
    for await (const r of reqs as AsyncIterable<Part>) {
      if (r.fail) throw new NotFoundError(`part ${n} not found`);
      yield { echo: r.v ?? null, n: n++ };
    }
  },
};
const finished: string[] = [];

type Mode = 'grpc-js' | 'direct' | 'own';

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
  } else if (mode === 'own') {
    const server = new GrpcServer({ maxReceiveMessageSize: LIMIT, maxSendMessageSize: LIMIT, streamWindow: 4 << 20, connectionWindow: 8 << 20 });
    server.addService(bound);
    await server.listen(sock);
    close = () => server.forceShutdown();
  } else {
    const methods = new Map(bound.direct!.filter((m) => !m.requestStream).map((m) => [m.path, m]));
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
function clientFor(sock: string, metadata: Record<string, string>, deadlineMs?: number, channel: grpc.ChannelOptions = {}) {
  const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 1 << 20,
    'grpc.max_send_message_length': 1 << 20,
    ...channel,
  });
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return { client, md, options: deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs } };
}

/** call makes one unary call with grpc-js's client, as raw bytes. */
function call(sock: string, path: string, body: Buffer, metadata: Record<string, string>, deadlineMs?: number, channel?: grpc.ChannelOptions): Promise<Outcome> {
  const { client, md, options } = clientFor(sock, metadata, deadlineMs, channel);
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

/** GZIP has a client compress every message it sends. */
const GZIP: grpc.ChannelOptions = { 'grpc.default_compression_algorithm': 2 };

/**
 * requests makes one call that sends a stream of requests, with grpc-js's client, and collects
 * what it reads: one answer (Sum) or a stream of them (Chat).
 */
function requests(sock: string, path: string, parts: Part[], metadata: Record<string, string>, channel?: grpc.ChannelOptions): Promise<Outcome> {
  const { client, md, options } = clientFor(sock, metadata, undefined, channel);
  const responses: unknown[] = [];
  const ser = (v: Part) => Buffer.from(JSON.stringify(v));
  return new Promise<Outcome>((resolve) => {
    const done = (s: grpc.StatusObject) => {
      client.close();
      resolve({ code: s.code, details: s.details, response: responses });
    };
    let call: grpc.ClientWritableStream<Part>;
    if (path === Def.sum.path) {
      call = client.makeClientStreamRequest(path, ser, id, md, options, (_err, res) => {
        if (res !== undefined) responses.push(JSON.parse(res.toString()));
      });
    } else {
      const duplex = client.makeBidiStreamRequest(path, ser, id, md, options);
      duplex.on('data', (b: Buffer) => responses.push(JSON.parse(b.toString())));
      call = duplex;
    }
    call.on('error', () => {});
    call.on('status', done);
    for (const p of parts) call.write(p);
    call.end();
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

const parts = (n: number, pad = 0): Part[] => Array.from({ length: n }, (_, v) => ({ v, pad: 'q'.repeat(pad) }));
const OWN: readonly Mode[] = ['grpc-js', 'own'];

/** Each case: its name, the call, and the servers it runs on besides grpc-js (all by default). */
const CASES: Array<[name: string, run: (sock: string) => Promise<Outcome>, modes?: readonly Mode[]]> = [
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
  // Methods that read a stream of requests, compressed requests and calls no method answers: the
  // own server serves them, the direct path leaves them to grpc-js.
  ['a stream of requests answered once', (s) => requests(s, Def.sum.path, parts(10), { 'containerd-namespace': 'ns1' }), OWN],
  ['an empty stream of requests', (s) => requests(s, Def.sum.path, [], {}), OWN],
  ['a stream of requests whose handler fails', (s) => requests(s, Def.sum.path, [...parts(2), { fail: true }, ...parts(2)], {}), OWN],
  ['a long stream of requests under flow control', (s) => requests(s, Def.sum.path, parts(400, 900), {}), OWN],
  ['a request of a stream above the receive limit', (s) => requests(s, Def.sum.path, [...parts(2), { pad: 'x'.repeat(2 * LIMIT) }], {}), OWN],
  ['a request of a stream that does not decode', (s) => raw(s, Def.sum.path, {}, [framed(Buffer.from('{"v":1}')), framed(Buffer.from('{'))]), OWN],
  ['a stream of requests, as raw frames', (s) => raw(s, Def.sum.path, {}, [framed(Buffer.from('{"v":1}')), framed(Buffer.from('{"v":2}'))]), OWN],
  ['a stream of requests cut short', (s) => raw(s, Def.sum.path, {}, [framed(Buffer.from('{"v":1}')), Buffer.from([0, 0, 0])]), OWN],
  ['requests and answers both ways', (s) => requests(s, Def.chat.path, parts(5), {}), OWN],
  ['requests and answers both ways, none', (s) => requests(s, Def.chat.path, [], {}), OWN],
  ['requests and answers both ways, failing after two', (s) => requests(s, Def.chat.path, [...parts(2), { fail: true }], {}), OWN],
  ['requests and answers both ways, as raw frames', (s) => raw(s, Def.chat.path, {}, [framed(Buffer.from('{"v":1}')), framed(Buffer.from('{"v":2}'))]), OWN],
  ['a compressed request', (s) => call(s, Def.echo.path, Buffer.from('{"z":"zzzzzzzzzzzz"}'), { 'containerd-namespace': 'ns1' }, undefined, GZIP), OWN],
  ['a compressed stream of requests', (s) => requests(s, Def.sum.path, parts(5, 100), {}, GZIP), OWN],
  ['a compressed request above the receive limit once inflated', (s) => call(s, Def.echo.path, Buffer.from(JSON.stringify({ s: 'y'.repeat(2 * LIMIT) })), {}, undefined, GZIP), OWN],
  ['a request in an unsupported encoding', (s) => raw(s, Def.echo.path, { 'grpc-encoding': 'snappy' }, [Buffer.concat([Buffer.of(1), framed(Buffer.from('{}')).subarray(1)])]), OWN],
  ['a method no service has', (s) => call(s, '/test.Direct/Nothing', Buffer.from('{}'), {}), OWN],
  ['a request that is not gRPC', (s) => raw(s, Def.echo.path, { 'content-type': 'text/plain' }, [framed(Buffer.from('{}'))]), OWN],
];

/** splitAfter cuts a buffer into a piece of `head` bytes and pieces of `size` after it. */
function splitAfter(b: Buffer, head: number, size: number): Buffer[] {
  const out = [b.subarray(0, head)];
  for (let i = head; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

for (const [name, run, modes = ['grpc-js', 'direct', 'own'] as const] of CASES) {
  test(`a call served directly answers as grpc-js does: ${name}`, { timeout: 20_000 }, async () => {
    const outcomes: Partial<Record<Mode, Outcome>> = {};
    for (const mode of modes) await withServer(mode, async (sock) => void (outcomes[mode] = await run(sock)));
    for (const mode of modes) assert.deepEqual(outcomes[mode], outcomes['grpc-js'], `${mode} against grpc-js`);
  });
}

for (const mode of ['direct', 'own'] as const) {
test(`a handler served directly sees its deadline and the client going away on its signal (${mode})`, { timeout: 20_000 }, async () => {
  await withServer(mode, async (sock) => {
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
}

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

test('grpcMessage cuts a long message below MAX_MESSAGE_BYTES, whole characters and escapes only', () => {
  assert.equal(grpcMessage('not found: a b'), 'not%20found:%20a%20b');
  for (const unit of ['x', 'é', '\u{1F600}', '%']) {
    const long = `name ${unit.repeat(40_000)} bad`;
    const m = grpcMessage(long);
    assert.ok(m.length <= MAX_MESSAGE_BYTES, `${m.length} bytes`);
    const text = decodeURIComponent(m);
    assert.ok(text.startsWith(`name ${unit.repeat(100)}`));
    assert.ok(text.endsWith(`${unit} (cut)`), text.slice(-20));
  }
});

for (const mode of ['direct', 'own'] as const) {
  test(`an error with a long message is answered cut, and the connection's other calls go on (${mode})`, { timeout: 20_000 }, async () => {
    const Long = {
      fail: { path: '/test.Direct/Long', requestStream: false, responseStream: false, ...json },
      echo: { path: '/test.Direct/Short', requestStream: false, responseStream: false, ...json },
    } as const;
    const bound = bindService(Long, {
      fail: async () => Promise.reject(new NotFoundError(`snapshotter ${'x'.repeat(70_000)} not loaded`)),
      echo: async (req) => req,
    });
    const dir = await mkdtemp(join(tmpdir(), 'grpc-direct-'));
    const sock = join(dir, 's.sock');
    const own = new GrpcServer({ maxReceiveMessageSize: LIMIT, maxSendMessageSize: LIMIT, streamWindow: 4 << 20, connectionWindow: 8 << 20 });
    own.addService(bound);
    const server = createServer();
    const methods = new Map(bound.direct!.map((m) => [m.path, m]));
    server.on('stream', (st, headers) => serveDirect(methods.get(String(headers[':path']))!, st, headers, { maxReceiveMessageSize: LIMIT, maxSendMessageSize: LIMIT }));
    if (mode === 'own') await own.listen(sock);
    else await new Promise<void>((res) => server.listen(sock, res));
    const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure());
    const unary = (path: string) =>
      new Promise<Outcome>((resolve) =>
        client.makeUnaryRequest(path, id, id, Buffer.from('{"a":1}'), new grpc.Metadata(), {}, (err, res) =>
          resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '', response: JSON.parse(res!.toString()) }),
        ),
      );
    try {
      const slow = unary(Long.echo.path);
      const [failed, answered] = await Promise.all([unary(Long.fail.path), slow]);
      assert.equal(failed.code, grpc.status.NOT_FOUND);
      assert.match(failed.details, /^snapshotter x{100}x* \(cut\)$/);
      assert.deepEqual(answered, { code: 0, details: '', response: { a: 1 } });
      assert.deepEqual(await unary(Long.echo.path), { code: 0, details: '', response: { a: 1 } });
    } finally {
      client.close();
      own.forceShutdown();
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('directlyServable leaves compressed and non-gRPC requests to grpc-js', () => {
  assert.equal(directlyServable({ 'content-type': 'application/grpc' }), true);
  assert.equal(directlyServable({ 'content-type': 'application/grpc+proto', 'grpc-encoding': 'identity' }), true);
  assert.equal(directlyServable({ 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }), false);
  assert.equal(directlyServable({ 'content-type': 'text/plain' }), false);
  assert.equal(directlyServable({}), false);
});

for (const mode of ['direct', 'own'] as const) {
test(`a stream served directly stops its handler when the client goes away (${mode})`, { timeout: 20_000 }, async () => {
  await withServer(mode, async (sock) => {
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
}

for (const mode of ['direct', 'own'] as const) {
test(`a stream served directly waits for a slow client instead of buffering the whole answer (${mode})`, { timeout: 20_000 }, async () => {
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
  const closeServer = await serveBound(mode, bound, sock, -1);
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
    closeServer();
    await rm(dir, { recursive: true, force: true });
  }
});
}

/** serveBound serves a bound service's methods on a socket, directly or from the own server, and returns the closer. */
async function serveBound(mode: 'direct' | 'own', bound: ReturnType<typeof bindService>, sock: string, limit: number): Promise<() => void> {
  if (mode === 'own') {
    const own = new GrpcServer({ maxReceiveMessageSize: limit, maxSendMessageSize: limit, streamWindow: 4 << 20, connectionWindow: 8 << 20 });
    own.addService(bound);
    await own.listen(sock);
    return () => own.forceShutdown();
  }
  const server = createServer();
  server.on('stream', (s, headers) => serveDirect(bound.direct![0]!, s, headers, { maxReceiveMessageSize: limit, maxSendMessageSize: limit }));
  await new Promise<void>((res) => server.listen(sock, res));
  return () => server.close();
}

test('a stream of requests waits for a slow handler instead of buffering the whole stream (own)', { timeout: 20_000 }, async () => {
  const SIZE = 1 << 20;
  const COUNT = 64;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const Up = { put: { path: '/test.Direct/Put', requestStream: true, responseStream: false, ...json } } as const;
  const bound = bindService(Up, {
    put: async (reqs) => {
      const seen: number[] = [];
      let intact = true;
      for await (const r of reqs as AsyncIterable<{ i: number; pad: string }>) {
        if (seen.length === 0) await released;
        seen.push(r.i);
        intact &&= r.pad === String(r.i % 10).repeat(SIZE);
      }
      return { seen, intact };
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'grpc-direct-'));
  const sock = join(dir, 's.sock');
  const closeServer = await serveBound('own', bound, sock, -1);
  const client = new grpc.Client(`unix://${sock}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  try {
    let sent = 0;
    const answer = new Promise<{ seen: number[]; intact: boolean }>((resolve, reject) => {
      const call = client.makeClientStreamRequest(Up.put.path, (v: unknown) => Buffer.from(JSON.stringify(v)), id, new grpc.Metadata(), {}, (err, res) =>
        err ? reject(err) : resolve(JSON.parse(res!.toString())),
      );
      for (let i = 0; i < COUNT; i++) call.write({ i, pad: String(i % 10).repeat(SIZE) }, () => sent++);
      call.end();
    });
    await new Promise((r) => setTimeout(r, 500));
    // The stream's 4 MiB window, and what the client's own buffers hold: not the 64 MiB.
    assert.ok(sent < 16, `the client sent ${sent} of ${COUNT} 1 MiB messages to a handler that read none`);
    release();
    const res = await answer;
    assert.deepEqual(res.seen, Array.from({ length: COUNT }, (_, i) => i));
    assert.ok(res.intact, 'a message arrived changed');
  } finally {
    client.close();
    closeServer();
    await rm(dir, { recursive: true, force: true });
  }
});
