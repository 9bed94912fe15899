import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, constants as h2 } from 'node:http2';
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
