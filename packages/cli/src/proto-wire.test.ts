import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadContentRequest } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { Timestamp } from '@ctrd/api/gen/google/protobuf/timestamp.js';
import { encodeFields, readVarint, wireFields, wireNumber, wireString } from './proto-wire.js';

test('readVarint reads int64 values exactly as the generated encoder writes them, negative ones included', () => {
  for (const n of [1, 127, 128, 300, 2 ** 31, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER, -1, -62135596800, Number.MIN_SAFE_INTEGER]) {
    const bytes = Timestamp.encode({ seconds: n, nanos: 0 }).finish();
    assert.equal(bytes[0], 0x08);
    const pos = { at: 1 };
    assert.equal(readVarint(bytes, pos), n, `value ${n}`);
    assert.equal(pos.at, bytes.length);
  }
  assert.throws(() => readVarint(Uint8Array.from([0x80, 0x80]), { at: 0 }), /truncated/);
});

test('wireFields decodes every wire type in order and refuses truncation and groups', () => {
  const bytes = Buffer.concat([
    ReadContentRequest.encode({ digest: 'héllo', offset: -5, size: 9 }).finish(),
    Buffer.from([(4 << 3) | 1, 3, 0, 0, 0, 1, 0, 0, 0]), // fixed64 2^32 + 3
    Buffer.from([(5 << 3) | 5, 77, 0, 0, 0]), // fixed32 77
  ]);
  const fields = wireFields(bytes);
  assert.deepEqual(fields.map((f) => f.field), [1, 2, 3, 4, 5]);
  assert.equal(wireString(fields[0]!), 'héllo');
  assert.equal(wireNumber(fields[1]!), -5);
  assert.equal(wireNumber(fields[2]!), 9);
  assert.equal(wireNumber(fields[3]!), 2 ** 32 + 3);
  assert.equal(wireNumber(fields[4]!), 77);
  assert.throws(() => wireNumber(fields[0]!), /expected a number/);
  assert.throws(() => wireString(fields[1]!), /length-delimited/);
  assert.throws(() => wireFields(Uint8Array.from([0x0a, 5, 1])), /truncated/);
  assert.throws(() => wireFields(Uint8Array.from([0x0b])), /wire type 3/);
});

test('encodeFields writes what the generated decoder reads back', () => {
  const mine = encodeFields([
    [1, 'sha256:abc'],
    [2, 300],
    [3, 2 ** 40],
  ]);
  assert.deepEqual(ReadContentRequest.decode(mine), { digest: 'sha256:abc', offset: 300, size: 2 ** 40 });
  assert.deepEqual([...mine], [...ReadContentRequest.encode({ digest: 'sha256:abc', offset: 300, size: 2 ** 40 }).finish()]);
  assert.throws(() => encodeFields([[1, -1]]), /cannot encode/);
});
