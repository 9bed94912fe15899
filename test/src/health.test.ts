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
