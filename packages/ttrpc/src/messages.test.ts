import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FRAME_HEADER_LENGTH } from './frame.js';
import { decodeRequest, decodeResponse, encodeRequestFrame, encodeResponseFrame, joinFrame } from './messages.js';

const body = (frame: Uint8Array): Uint8Array => frame.subarray(FRAME_HEADER_LENGTH);

test('a request encodes to the bytes Go ttrpc expects', () => {
  const frame = joinFrame(
    encodeRequestFrame(1, { service: 'a', method: 'b', payload: new Uint8Array([7]), timeoutNano: 0n, metadata: [] }),
  );
  assert.deepEqual([...frame], [0, 0, 0, 9, 0, 0, 0, 1, 1, 0, 0x0a, 1, 0x61, 0x12, 1, 0x62, 0x1a, 1, 7]);
});

test('request fields round trip, metadata repeated and timeout as int64', () => {
  const payload = Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff);
  const encoded = encodeRequestFrame(5, {
    service: 'containerd.task.v2.Task',
    method: 'Create',
    payload,
    timeoutNano: 5_000_000_000n,
    metadata: [
      { key: 'containerd-namespace-ttrpc', value: 'default' },
      { key: 'x', value: '1' },
      { key: 'x', value: '2' },
    ],
  });
  assert.equal(encoded.parts.length, 2, 'a large payload is not copied into the head');
  assert.equal(encoded.parts[1], payload);
  const frame = joinFrame(encoded);
  assert.equal(new DataView(frame.buffer).getUint32(0), frame.length - FRAME_HEADER_LENGTH);
  const req = decodeRequest(body(frame));
  assert.equal(req.service, 'containerd.task.v2.Task');
  assert.equal(req.method, 'Create');
  assert.equal(req.timeoutNano, 5_000_000_000n);
  assert.deepEqual(req.metadata.map((kv) => `${kv.key}=${kv.value}`), ['containerd-namespace-ttrpc=default', 'x=1', 'x=2']);
  assert.deepEqual(req.payload, payload);
});

test('unknown request fields are skipped', () => {
  const w = new BinaryWriter();
  w.tag(9, WireType.Varint).uint32(5);
  w.tag(1, WireType.LengthDelimited).string('svc');
  w.tag(12, WireType.LengthDelimited).string('future');
  w.tag(2, WireType.LengthDelimited).string('M');
  const req = decodeRequest(w.finish());
  assert.equal(req.service, 'svc');
  assert.equal(req.method, 'M');
  assert.equal(req.payload.length, 0);
});

test('an OK response carries an empty status, an error response code and message', () => {
  const ok = joinFrame(encodeResponseFrame(3, { code: 0, message: '' }, new Uint8Array([1, 2])));
  assert.deepEqual([...ok], [0, 0, 0, 6, 0, 0, 0, 3, 2, 0, 0x0a, 0, 0x12, 2, 1, 2]);
  assert.deepEqual(decodeResponse(body(ok)), { status: { code: 0, message: '' }, payload: new Uint8Array([1, 2]) });

  const err = joinFrame(encodeResponseFrame(7, { code: 5, message: 'container not created: not found' }, new Uint8Array(0)));
  const res = decodeResponse(body(err));
  assert.deepEqual(res.status, { code: 5, message: 'container not created: not found' });
  assert.equal(res.payload.length, 0);
});

test('a response without a status field decodes as OK', () => {
  const w = new BinaryWriter();
  w.tag(2, WireType.LengthDelimited).bytes(new Uint8Array([4]));
  const res = decodeResponse(w.finish());
  assert.equal(res.status, undefined);
  assert.deepEqual(res.payload, new Uint8Array([4]));
});

test('a truncated request throws', () => {
  const frame = joinFrame(
    encodeRequestFrame(1, { service: 'svc', method: 'M', payload: new Uint8Array(8), timeoutNano: 0n, metadata: [] }),
  );
  assert.throws(() => decodeRequest(body(frame).subarray(0, 10)));
});
