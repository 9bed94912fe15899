import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InfoResponse, ReadContentRequest, ReadContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { decodeReadRequest, encodeInfoResponse, encodeReadResponse } from './floor-wire.js';

test('the floor server speaks the same bytes as the generated codecs', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const info = InfoResponse.decode(encodeInfoResponse(digest, 300_000_000_000));
  assert.equal(info.info?.digest, digest);
  assert.equal(Number(info.info?.size), 300_000_000_000);

  const data = Buffer.from('hello floor');
  const read = ReadContentResponse.decode(encodeReadResponse(1 << 30, data));
  assert.equal(Number(read.offset), 1 << 30);
  assert.deepEqual(Buffer.from(read.data), data);

  const req = Buffer.from(ReadContentRequest.encode(ReadContentRequest.fromPartial({ digest, offset: 32768 * 5, size: 32768 })).finish());
  assert.deepEqual(decodeReadRequest(req), { offset: 32768 * 5, size: 32768 });
  assert.deepEqual(decodeReadRequest(Buffer.from(ReadContentRequest.encode(ReadContentRequest.fromPartial({ digest })).finish())), { offset: 0, size: 0 });
  assert.throws(() => decodeReadRequest(Buffer.from([0x10, 0x80])), /truncated/);
});
