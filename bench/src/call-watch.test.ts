import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTINUATION, DATA, END_HEADERS, END_STREAM, HEADERS, PADDED, PREFACE, SETTINGS, frameHeader } from '@ctrd/grpc/h2-frames';
import { encodeHeaders } from '@ctrd/grpc/hpack';
import { CallWatch, type WatchedCall } from './call-watch.js';

const frame = (type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer =>
  Buffer.concat([frameHeader(payload.length, type, flags, stream), payload]);

/** a :path field with incremental indexing (static name 4), which enters the dynamic table as entry 62. */
function indexedPath(path: string): Buffer {
  return Buffer.concat([Buffer.of(0x44, path.length), Buffer.from(path, 'latin1')]);
}

/** feed hands `bytes` over in pieces of `size`, the way a socket may split them. */
function feed(bytes: Buffer, size: number, to: (chunk: Buffer) => void): void {
  for (let i = 0; i < bytes.length; i += size) to(bytes.subarray(i, i + size));
}

test('calls are named from the connection\'s header state and timed from the request\'s end to the answer\'s end', () => {
  let clock = 0;
  const calls: WatchedCall[] = [];
  const w = new CallWatch((c) => calls.push(c), () => clock);
  const info = '/containerd.services.content.v1.Content/Info';
  const write = '/containerd.services.content.v1.Content/Write';
  const block = encodeHeaders([[':method', 'POST'], [':path', write]]);

  // Stream 1: a path that enters the dynamic table, a body ending at t=3.
  feed(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, END_HEADERS, 1, indexedPath(info))]), 7, (c) => w.fromClient(c));
  clock = 3;
  w.fromClient(frame(DATA, END_STREAM, 1, Buffer.alloc(10)));
  // Stream 3: the same path by its dynamic index, headers alone ending the request (t=4), padded.
  clock = 4;
  const padded = Buffer.concat([Buffer.of(2), Buffer.of(0xbe), Buffer.alloc(2)]);
  w.fromClient(frame(HEADERS, END_HEADERS | END_STREAM | PADDED, 3, padded));
  // Stream 5: a header block in a CONTINUATION; the client keeps sending.
  clock = 5;
  w.fromClient(Buffer.concat([frame(HEADERS, 0, 5, block.subarray(0, 9)), frame(CONTINUATION, END_HEADERS, 5, block.subarray(9))]));

  clock = 6;
  // Stream 1 answers with headers, data, then trailers; only the trailers end it.
  feed(Buffer.concat([frame(HEADERS, END_HEADERS, 1, Buffer.of(0x88)), frame(DATA, 0, 1, Buffer.alloc(20))]), 5, (c) => w.fromServer(c));
  assert.equal(calls.length, 0);
  clock = 8;
  w.fromServer(frame(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.of(0x88)));
  // Stream 5 fails before its request ended: timed from its headers. Stream 3 ends with a DATA frame.
  clock = 9;
  w.fromServer(Buffer.concat([frame(HEADERS, END_HEADERS | END_STREAM, 5, Buffer.of(0x88)), frame(DATA, END_STREAM, 3)]));

  assert.deepEqual(calls, [
    { path: info, at: 3, ms: 5 },
    { path: write, at: 5, ms: 4 },
    { path: info, at: 4, ms: 5 },
  ]);
});
