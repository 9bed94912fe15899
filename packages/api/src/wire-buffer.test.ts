import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentService, InfoResponse } from './gen/containerd/services/content/v1/content.js';
import { toBuffer } from './wire-buffer.js';

const info = (digest: string, labels: Record<string, string> = {}) => ({
  info: { digest, size: 405, createdAt: { seconds: 1795498066, nanos: 5 }, updatedAt: { seconds: 1795498067, nanos: 6 }, labels },
});

test('toBuffer gives the bytes a fresh writer gives, each message in a buffer of its own', () => {
  const a = info('sha256:aa', { 'containerd.io/gc.ref.content.config': 'sha256:bb' });
  const b = info('sha256:cc');
  const first = toBuffer(InfoResponse, a);
  const second = toBuffer(InfoResponse, b);
  // the first result is not overwritten by the second encoding
  assert.deepEqual(first, Buffer.from(InfoResponse.encode(a).finish()));
  assert.deepEqual(second, Buffer.from(InfoResponse.encode(b).finish()));
  assert.notEqual(first.buffer, second.buffer);
});

test('toBuffer after a message that failed to encode starts clean', () => {
  const bad = { info: { digest: 'sha256:aa', size: 'not a number' as unknown as number, labels: {} } };
  assert.throws(() => toBuffer(InfoResponse, bad));
  const ok = info('sha256:dd');
  assert.deepEqual(toBuffer(InfoResponse, ok), Buffer.from(InfoResponse.encode(ok).finish()));
});

test('toBuffer handles messages past the size it keeps a writer for', () => {
  const big = info('sha256:ee', { big: 'x'.repeat(200 * 1024) });
  const small = info('sha256:ff');
  assert.deepEqual(toBuffer(InfoResponse, big), Buffer.from(InfoResponse.encode(big).finish()));
  assert.deepEqual(toBuffer(InfoResponse, small), Buffer.from(InfoResponse.encode(small).finish()));
});

test('the generated service definitions serialize through toBuffer', () => {
  assert.match(String(ContentService.info.responseSerialize), /toBuffer/);
  const m = info('sha256:11');
  assert.deepEqual(ContentService.info.responseSerialize(m), Buffer.from(InfoResponse.encode(m).finish()));
});
