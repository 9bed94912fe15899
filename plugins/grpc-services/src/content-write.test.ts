import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WriteAction, WriteContentRequest } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { decodeWriteRequest } from './content-write.js';

function encode(msg: Partial<WriteContentRequest>): Buffer {
  return Buffer.from(WriteContentRequest.encode(WriteContentRequest.fromPartial(msg)).finish());
}

/** sharesMemory reports whether `view` lies inside `buf`'s bytes (no copy was made). */
function sharesMemory(view: Uint8Array, buf: Uint8Array): boolean {
  return view.buffer === buf.buffer && view.byteOffset >= buf.byteOffset && view.byteOffset + view.length <= buf.byteOffset + buf.length;
}

test('decodeWriteRequest decodes every field as the generated decoder does, data without a copy', () => {
  const wire = encode({
    action: WriteAction.COMMIT,
    ref: 'layer-ref',
    total: 2 ** 40 + 3,
    expected: `sha256:${'a'.repeat(64)}`,
    offset: 1 << 20,
    data: randomBytes(300_000),
    labels: { 'containerd.io/gc.root': 'x', b: 'y' },
  });
  const got = decodeWriteRequest(wire);
  assert.deepEqual(got, WriteContentRequest.decode(wire));
  assert.ok(Buffer.isBuffer(got.data));
  assert.ok(sharesMemory(got.data, wire));
});

test('decodeWriteRequest handles messages without data, empty data and negative enums', () => {
  for (const msg of [
    { action: WriteAction.STAT, ref: 'r' },
    { action: WriteAction.WRITE, offset: 5, data: Buffer.alloc(0) },
    { action: -1 as WriteAction, ref: 'neg', data: Buffer.from('abc') },
    {},
  ]) {
    const wire = encode(msg);
    assert.deepEqual(decodeWriteRequest(wire), WriteContentRequest.decode(wire), JSON.stringify(msg));
  }
});

test('decodeWriteRequest keeps the last data field and the fields around it', () => {
  const first = encode({ ref: 'one', data: Buffer.from('first') });
  const second = encode({ offset: 9, data: Buffer.from('second'), labels: { k: 'v' } });
  const wire = Buffer.concat([first, second]);
  const got = decodeWriteRequest(wire);
  assert.deepEqual(got, WriteContentRequest.decode(wire));
  assert.equal(got.data.toString(), 'second');
  assert.equal(got.ref, 'one');
  assert.equal(got.offset, 9);
});

test('decodeWriteRequest skips unknown fields of every wire type', () => {
  const unknown = Buffer.from([
    (10 << 3) | 0, 0x96, 0x01, // varint
    (11 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, // fixed64
    (12 << 3) | 2, 2, 0xaa, 0xbb, // length-delimited
    (13 << 3) | 5, 1, 2, 3, 4, // fixed32
  ]);
  const wire = Buffer.concat([encode({ ref: 'r', data: Buffer.from('payload') }), unknown]);
  const got = decodeWriteRequest(wire);
  assert.deepEqual(got, WriteContentRequest.decode(wire));
  assert.equal(got.data.toString(), 'payload');
});

test('decodeWriteRequest rejects a truncated message like the generated decoder', () => {
  const wire = encode({ ref: 'r', data: randomBytes(1000) });
  const cut = wire.subarray(0, wire.length - 10);
  assert.throws(() => WriteContentRequest.decode(cut));
  assert.throws(() => decodeWriteRequest(cut));
});
