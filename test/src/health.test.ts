import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { RawClient } from './fuzz/client.js';
import { TestDaemon } from './harness.js';

test('Health.Check answers SERVING for the server and NOT_FOUND for a service it does not know', async () => {
  const d = await TestDaemon.start();
  const client = new RawClient(d.address);
  try {
    const server = await client.unary('/grpc.health.v1.Health/Check', Buffer.alloc(0), new Metadata(), { deadlineMs: 5000 });
    assert.equal(server.code, status.OK);
    assert.deepEqual(server.response, Buffer.from([8, 1]), 'HealthCheckResponse { status: SERVING }');
    // HealthCheckRequest { service: "nope" }
    const other = await client.unary('/grpc.health.v1.Health/Check', Buffer.from([10, 4, ...Buffer.from('nope')]), new Metadata(), { deadlineMs: 5000 });
    assert.equal(other.code, status.NOT_FOUND);
    assert.match(other.details ?? '', /unknown service/);
  } finally {
    client.close();
    await d.dispose();
  }
});

test('a call whose message is gzip-compressed is answered (the bundle loads zlib when first needed)', { timeout: 60_000 }, async () => {
  const { connect, constants: h2 } = await import('node:http2');
  const { createConnection } = await import('node:net');
  const { gzipSync } = await import('node:zlib');
  const d = await TestDaemon.start();
  const session = connect('http://localhost', { createConnection: () => createConnection(d.address) });
  session.on('error', () => {});
  try {
    // HealthCheckRequest { service: "nope" }, gzip-compressed, behind gRPC's 5-byte prefix with the compressed flag.
    const body = gzipSync(Buffer.from([10, 4, ...Buffer.from('nope')]));
    const prefix = Buffer.alloc(5);
    prefix[0] = 1;
    prefix.writeUInt32BE(body.length, 1);
    const stream = session.request({
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: '/grpc.health.v1.Health/Check',
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
      'grpc-accept-encoding': 'identity',
    });
    const trailers = new Promise<Record<string, unknown>>((resolve) => {
      stream.on('trailers', resolve);
      // A trailers-only answer comes as the response headers.
      stream.on('response', (headers) => headers['grpc-status'] !== undefined && resolve(headers));
      stream.on('close', () => resolve({ 'grpc-status': `none (stream closed, code ${stream.rstCode})` }));
      stream.on('error', () => {});
    });
    stream.resume();
    stream.end(Buffer.concat([prefix, body]));
    const t = await trailers;
    assert.equal(Number(t['grpc-status']), status.NOT_FOUND, `grpc-status ${t['grpc-status']}: ${t['grpc-message']}`);
    assert.match(decodeURIComponent(String(t['grpc-message'])), /unknown service/);
  } finally {
    session.destroy();
    await d.dispose();
  }
});
