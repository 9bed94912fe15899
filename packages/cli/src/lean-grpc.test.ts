import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, constants as h2, type ServerHttp2Session, type ServerHttp2Stream, type Settings } from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFields, fieldString, LeanCallError, leanCall, leanSession, leanUnary } from './lean-grpc.js';

// field 1 = "v1.2" (string), field 3 = 150 (varint), field 2 = "rev" (string)
const MESSAGE = Buffer.from([0x0a, 4, ...Buffer.from('v1.2'), 0x18, 0x96, 0x01, 0x12, 3, ...Buffer.from('rev')]);

test('decodeFields reads length-delimited fields and skips varints', () => {
  const f = decodeFields(MESSAGE);
  assert.equal(fieldString(f, 1), 'v1.2');
  assert.equal(fieldString(f, 2), 'rev');
  assert.equal(fieldString(f, 3), '');
  assert.throws(() => decodeFields(Buffer.from([0x0a, 9, 1])), /truncated/);
});

test('leanUnary sends a framed request and decodes the framed response; a non-OK status is a LeanCallError', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrctl-lean-'));
  const sock = join(dir, 's.sock');
  const seen: Array<{ path: string; body: Buffer; ns: unknown }> = [];
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('end', () => {
      const path = String(headers[h2.HTTP2_HEADER_PATH]);
      seen.push({ path, body: Buffer.concat(chunks), ns: headers['containerd-namespace'] });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': path === '/missing' ? '5' : '0', 'grpc-message': 'nope' }));
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(MESSAGE.length, 1);
      const one = Buffer.concat([frame, MESSAGE]);
      stream.end(path === '/stream' ? Buffer.concat([one, Buffer.from([0, 0, 0, 0, 0]), one]) : one);
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const session = await leanSession(sock);
  try {
    const f = await leanUnary(session, '/ok', Buffer.from([1, 2]), { namespace: 'ns1', timeoutMs: 1000 });
    assert.equal(fieldString(f, 1), 'v1.2');
    assert.deepEqual(seen[0], { path: '/ok', body: Buffer.from([0, 0, 0, 0, 2, 1, 2]), ns: 'ns1' });
    await assert.rejects(leanUnary(session, '/missing', new Uint8Array(0)), (err: unknown) => err instanceof LeanCallError && err.code === 5);
    const messages = await leanCall(session, '/stream', new Uint8Array(0));
    assert.deepEqual(messages.map((m) => Buffer.from(m)), [MESSAGE, Buffer.alloc(0), MESSAGE]);
    await assert.rejects(leanUnary(session, '/stream', new Uint8Array(0)), /expected one response message, got 3/);
  } finally {
    session.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(leanSession(join(dir, 'absent.sock')), LeanCallError);
});

/** h2Server serves `handler` over HTTP/2 on a unix socket in a new directory. */
async function h2Server(t: TestContext, handler: (stream: ServerHttp2Stream, path: string, body: Buffer) => void, settings: Settings = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ctrctl-lean-'));
  const sock = join(dir, 's.sock');
  const server = createServer({ settings });
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('end', () => handler(stream, String(headers[h2.HTTP2_HEADER_PATH]), Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  return { sock, sessions };
}

/** grpcFrame frames one message as gRPC does. */
function grpcFrame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

test('the lean session multiplexes calls beyond the streams the server allows at once, and reads answers larger than the default windows', async (t) => {
  const big = Buffer.alloc(1 << 20, 7);
  const { sock } = await h2Server(
    t,
    (stream, path, body) => {
      const n = body.readUInt32BE(5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      // Statuses and messages vary, so the server's encoder indexes and Huffman-codes them.
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': n % 7 === 0 ? '9' : '0', 'grpc-message': `call ${n} of ${path}` }));
      stream.end(grpcFrame(path === '/big' ? big : body.subarray(5)));
    },
    { maxConcurrentStreams: 10 },
  );
  const session = await leanSession(sock);
  t.after(() => session.close());
  const request = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const results = await Promise.allSettled(Array.from({ length: 250 }, (_, n) => leanCall(session, '/echo', request(n))));
  results.forEach((r, n) => {
    if (n % 7 === 0) assert.ok(r.status === 'rejected' && r.reason instanceof LeanCallError && r.reason.code === 9, `call ${n}`);
    else assert.ok(r.status === 'fulfilled' && Buffer.from(r.value[0]!).equals(request(n)), `call ${n}`);
  });
  const [answer] = await leanCall(session, '/big', request(1));
  assert.equal(answer!.length, big.length);
  assert.ok(Buffer.from(answer!).equals(big));
});

test('the lean session answers pings, and fails calls on a trailers-only error, a reset stream and a server that goes away', async (t) => {
  const { sock, sessions } = await h2Server(t, (stream, path) => {
    if (path === '/unknown') stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
    else if (path === '/reset') stream.close(h2.NGHTTP2_CANCEL);
    // '/hang' is never answered.
  });
  const session = await leanSession(sock);
  t.after(() => session.close());
  await assert.rejects(leanCall(session, '/unknown', new Uint8Array(0)), (err: unknown) => err instanceof LeanCallError && err.code === 12);
  await assert.rejects(leanCall(session, '/reset', new Uint8Array(0)), /stream reset with error 8/);
  const pong = await new Promise<boolean>((resolve) => sessions[0]!.ping((err) => resolve(!err)));
  assert.ok(pong, 'the ping was acknowledged');
  const hanging = leanCall(session, '/hang', new Uint8Array(0));
  await new Promise((r) => setTimeout(r, 20));
  sessions[0]!.destroy();
  await assert.rejects(hanging, LeanCallError);
  await assert.rejects(leanCall(session, '/unknown', new Uint8Array(0)), LeanCallError, 'a failed session fails new calls');
});
