import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_HEADER_LENGTH, FrameReader, type FrameHeader, encodeFrame, writeFrameHeader } from './frame.js';

interface Seen {
  frames: { header: FrameHeader; payload: Uint8Array }[];
  oversize: FrameHeader[];
}

function reader(max?: number): { r: FrameReader; seen: Seen } {
  const seen: Seen = { frames: [], oversize: [] };
  const r = new FrameReader(
    {
      frame: (header, payload) => seen.frames.push({ header, payload: payload.slice() }),
      oversize: (header) => seen.oversize.push(header),
    },
    max,
  );
  return { r, seen };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test('header layout is big-endian length, stream id, type, flags', () => {
  const f = encodeFrame(0x01020304, 2, new Uint8Array([9, 8]), 0x80);
  assert.deepEqual([...f], [0, 0, 0, 2, 1, 2, 3, 4, 2, 0x80, 9, 8]);
});

test('coalesced frames in one chunk are all delivered, as views of the chunk', () => {
  const chunk = concat(encodeFrame(1, 1, bytes(5, 1)), encodeFrame(3, 1, new Uint8Array(0)), encodeFrame(5, 2, bytes(300, 2)));
  const views: Uint8Array[] = [];
  const r = new FrameReader({ frame: (_h, p) => views.push(p), oversize: () => assert.fail('no oversize') });
  r.push(chunk);
  assert.equal(views.length, 3);
  assert.deepEqual(views.map((v) => v.length), [5, 0, 300]);
  assert.equal(views[0]!.buffer, chunk.buffer);
  assert.equal(views[2]!.buffer, chunk.buffer);
  assert.deepEqual(views[2], bytes(300, 2));
  assert.equal(r.bufferedBytes, 0);
});

test('frames split at every byte boundary come out whole', () => {
  const stream = concat(encodeFrame(1, 1, bytes(17, 3)), encodeFrame(3, 2, bytes(40, 4)), encodeFrame(7, 1, bytes(1, 5)));
  for (const size of [1, 2, 3, 9, 10, 11, 13]) {
    const { r, seen } = reader();
    for (let i = 0; i < stream.length; i += size) r.push(stream.subarray(i, i + size));
    assert.deepEqual(seen.frames.map((f) => f.header.streamId), [1, 3, 7], `chunk size ${size}`);
    assert.deepEqual(seen.frames.map((f) => f.header.type), [1, 2, 1]);
    assert.deepEqual(seen.frames[0]!.payload, bytes(17, 3));
    assert.deepEqual(seen.frames[1]!.payload, bytes(40, 4));
    assert.deepEqual(seen.frames[2]!.payload, bytes(1, 5));
    assert.equal(r.bufferedBytes, 0);
  }
});

test('a large frame in many small chunks is assembled once at the end', () => {
  const payload = bytes(1 << 20, 6);
  const stream = encodeFrame(9, 1, payload);
  const { r, seen } = reader();
  for (let i = 0; i < stream.length; i += 4096) {
    r.push(stream.subarray(i, i + 4096));
    if (i + 4096 < stream.length) assert.equal(seen.frames.length, 0);
  }
  assert.equal(seen.frames.length, 1);
  assert.deepEqual(seen.frames[0]!.payload, payload);
});

test('an oversize frame is reported and skipped, and the stream stays in sync', () => {
  const big = new Uint8Array(FRAME_HEADER_LENGTH + 100);
  writeFrameHeader(big, 100, 11, 1);
  const stream = concat(big, encodeFrame(13, 1, bytes(3, 7)));
  for (const size of [1, 7, 64, stream.length]) {
    const { r, seen } = reader(64);
    for (let i = 0; i < stream.length; i += size) r.push(stream.subarray(i, i + size));
    assert.deepEqual(seen.oversize.map((h) => [h.streamId, h.length]), [[11, 100]], `chunk size ${size}`);
    assert.deepEqual(seen.frames.map((f) => f.header.streamId), [13]);
    assert.deepEqual(seen.frames[0]!.payload, bytes(3, 7));
  }
});
