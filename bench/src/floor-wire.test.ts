import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InfoResponse,
  ReadContentRequest,
  ReadContentResponse,
  WriteAction as GenWriteAction,
  WriteContentRequest,
  WriteContentResponse,
} from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { decodeReadRequest, decodeWriteRequest, encodeInfoResponse, encodeReadResponse, encodeWriteResponse, WriteAction } from './floor-wire.js';

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

test('the write action numbers are containerd\'s', () => {
  assert.equal(WriteAction.STAT, GenWriteAction.STAT);
  assert.equal(WriteAction.WRITE, GenWriteAction.WRITE);
  assert.equal(WriteAction.COMMIT, GenWriteAction.COMMIT);
});

test('decodeWriteRequest reads every field the generated encoder writes', () => {
  const digest = `sha256:${'cd'.repeat(32)}`;
  const data = Buffer.alloc(1 << 20, 7);
  const encoded = Buffer.from(
    WriteContentRequest.encode(
      WriteContentRequest.fromPartial({
        action: GenWriteAction.COMMIT,
        ref: 'bench-ingest-3',
        total: 256 << 20,
        expected: digest,
        offset: 255 << 20,
        data,
        labels: { 'containerd.io/gc.root': 'bench', other: 'x' },
      }),
    ).finish(),
  );
  const got = decodeWriteRequest(encoded);
  assert.equal(got.action, WriteAction.COMMIT);
  assert.equal(got.ref, 'bench-ingest-3');
  assert.equal(got.total, 256 << 20);
  assert.equal(got.expected, digest);
  assert.equal(got.offset, 255 << 20);
  assert.deepEqual(got.labels, { 'containerd.io/gc.root': 'bench', other: 'x' });
  assert.equal(got.data.length, data.length);
  assert.ok(got.data.equals(data));
  // The chunk is a view of the message, not a copy of it.
  assert.equal(got.data.buffer, encoded.buffer);

  // ctr's STAT opening a write: no action field at all (STAT is 0), no data.
  const stat = decodeWriteRequest(Buffer.from(WriteContentRequest.encode(WriteContentRequest.fromPartial({ ref: 'r', total: 5 })).finish()));
  assert.deepEqual({ ...stat, data: stat.data.length }, { action: WriteAction.STAT, ref: 'r', total: 5, expected: '', offset: 0, data: 0, labels: {} });
});

test('decodeWriteRequest keeps a negative total exact and rejects truncated input', () => {
  const neg = decodeWriteRequest(Buffer.from(WriteContentRequest.encode(WriteContentRequest.fromPartial({ action: GenWriteAction.WRITE, total: -1, offset: 2 ** 40 })).finish()));
  assert.equal(neg.total, -1);
  assert.equal(neg.offset, 2 ** 40);
  assert.equal(neg.action, WriteAction.WRITE);
  assert.throws(() => decodeWriteRequest(Buffer.from([0x32, 0x05, 1, 2])), /truncated/);
  assert.throws(() => decodeWriteRequest(Buffer.from([0x18, 0xff])), /truncated/);
});

test('encodeWriteResponse decodes with the generated codec', () => {
  const digest = `sha256:${'ef'.repeat(32)}`;
  const started = Date.UTC(2026, 10, 23, 11, 0, 0, 123);
  const updated = started + 4_567;
  const full = WriteContentResponse.decode(
    encodeWriteResponse({ action: WriteAction.STAT, startedAt: started, updatedAt: updated, offset: 3 << 20, total: 256 << 20, digest }),
  );
  assert.equal(full.action, GenWriteAction.STAT);
  assert.deepEqual(full.startedAt, { seconds: Math.floor(started / 1000), nanos: 123_000_000 });
  assert.deepEqual(full.updatedAt, { seconds: Math.floor(updated / 1000), nanos: 690_000_000 });
  assert.equal(Number(full.offset), 3 << 20);
  assert.equal(Number(full.total), 256 << 20);
  assert.equal(full.digest, digest);

  const write = WriteContentResponse.decode(encodeWriteResponse({ action: WriteAction.WRITE, offset: 2 ** 40, total: 0, digest }));
  assert.equal(write.action, GenWriteAction.WRITE);
  assert.equal(write.startedAt, undefined);
  assert.equal(Number(write.offset), 2 ** 40);
  assert.equal(Number(write.total), 0);

  // A STAT before any data is all defaults but the times: the same bytes as the generated encoder.
  const zero = { action: GenWriteAction.STAT, startedAt: { seconds: 1_800_000_000, nanos: 0 }, updatedAt: { seconds: 1_800_000_000, nanos: 0 }, offset: 0, total: 0, digest: '' };
  assert.deepEqual(
    encodeWriteResponse({ action: WriteAction.STAT, startedAt: 1_800_000_000_000, updatedAt: 1_800_000_000_000, offset: 0, total: 0, digest: '' }),
    Buffer.from(WriteContentResponse.encode(WriteContentResponse.fromPartial(zero)).finish()),
  );
  assert.throws(() => encodeWriteResponse({ action: WriteAction.WRITE, offset: -1, total: 0, digest: '' }), RangeError);
});
