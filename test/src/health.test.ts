import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { RawClient } from './fuzz/client.js';
import { NO_AUTO_GC, TestDaemon } from './harness.js';

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

test('with `[grpc] server = "grpc-js"` the daemon serves ctr as on its own server (the bundle loads node:http2 when first needed)', { timeout: 60_000 }, async () => {
  // No collection meanwhile: the blob is referenced by nothing.
  const d = await TestDaemon.start({ grpcToml: 'server = "grpc-js"', toml: NO_AUTO_GC });
  try {
    // node:http2's server dates its answers, the daemon's own does not: grpc-js answers here.
    assert.equal(typeof (await rawVersionHeaders(d.address)).date, 'string');
    const version = d.ctr(['version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /Server:\n\s+Version:/);
    const plugins = d.ctr(['plugins', 'ls']);
    assert.equal(plugins.code, 0, plugins.stderr);
    assert.match(plugins.stdout, /io\.containerd\.grpc\.v1\s+content\s+-\s+ok/);
    // A stream of requests (Content.Write) and one of answers (Content.Read), through grpc-js.
    const blob = Buffer.alloc(300_000, 'grpc-js ');
    const ingest = d.ctr(['content', 'ingest', 'grpc-js-blob'], { input: blob });
    assert.equal(ingest.code, 0, ingest.stderr);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const got = d.ctr(['content', 'get', digest]);
    assert.equal(got.code, 0, got.stderr);
    assert.ok(got.stdout === blob.toString(), 'the blob came back changed');
  } finally {
    await d.dispose();
  }
});

/** rawVersionHeaders makes one Version call with node:http2's client and returns the answer's headers. */
async function rawVersionHeaders(address: string): Promise<Record<string, unknown>> {
  const { connect } = await import('node:http2');
  const { createConnection } = await import('node:net');
  const session = connect('http://localhost', { createConnection: () => createConnection(address) });
  session.on('error', () => {});
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/containerd.services.version.v1.Version/Version', 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => {});
    const headers = new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve));
    stream.resume();
    stream.end(Buffer.alloc(5));
    return await headers;
  } finally {
    session.destroy();
  }
}

test('the daemon answers on its own server by default', { timeout: 60_000 }, async () => {
  const d = await TestDaemon.start();
  try {
    const headers = await rawVersionHeaders(d.address);
    assert.equal(headers[':status'], 200);
    assert.equal(headers.date, undefined, 'node:http2 answered');
  } finally {
    await d.dispose();
  }
});
