/**
 * Each side against a raw socket peer, checking exactly what goes over the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { codeOf, isNotFound } from '@ctrd/errdefs';
import { TtrpcClient } from './client.js';
import { FRAME_HEADER_LENGTH, FrameReader, type FrameHeader, MAX_MESSAGE_LENGTH, MessageType, encodeFrame, writeFrameHeader } from './frame.js';
import { type TtrpcResponse, decodeRequest, decodeResponse, encodeRequestFrame, encodeResponseFrame, joinFrame } from './messages.js';
import { TtrpcServer } from './server.js';
import { decodeEcho, encodeEcho, sleep, tempDir, waitFor } from './testing.js';

interface RawPeer {
  socket: net.Socket;
  frames: { header: FrameHeader; payload: Uint8Array }[];
}

function rawPeer(socket: net.Socket): RawPeer {
  const peer: RawPeer = { socket, frames: [] };
  const reader = new FrameReader({
    frame: (header, payload) => peer.frames.push({ header, payload: payload.slice() }),
    oversize: () => assert.fail('peer sent an oversize frame'),
  });
  socket.on('data', (c: Buffer) => reader.push(c));
  return peer;
}

const request = (streamId: number, method: string, payload: Uint8Array = new Uint8Array(0)): Uint8Array =>
  joinFrame(encodeRequestFrame(streamId, { service: 'svc', method, payload, timeoutNano: 0n, metadata: [] }));

test('client: odd stream ids, request envelope, out-of-order and odd responses', async () => {
  const dir = tempDir();
  const path = dir.socket();
  let peer: RawPeer | undefined;
  const srv = net.createServer((s) => (peer = rawPeer(s)));
  await new Promise<void>((r) => srv.listen(path, r));
  const client = await TtrpcClient.connect(path);
  try {
    const calls = [
      client.call('svc', 'A', encodeEcho('a'), { timeoutMs: 2000, metadata: { k: 'v' } }),
      client.call('svc', 'B', encodeEcho('b')),
      client.call('svc', 'C', encodeEcho('c')),
      client.call('svc', 'D', encodeEcho('d')),
    ].map((p) => p.then((v) => v, (e: unknown) => e));
    await waitFor(() => (peer?.frames.length ?? 0) === 4);
    const frames = peer!.frames;
    assert.deepEqual(frames.map((f) => f.header.streamId), [1, 3, 5, 7]);
    assert.ok(frames.every((f) => f.header.type === MessageType.Request && f.header.flags === 0));
    const first = decodeRequest(frames[0]!.payload);
    assert.equal(first.method, 'A');
    assert.ok(first.timeoutNano > 1_900_000_000n && first.timeoutNano <= 2_000_000_000n);
    assert.deepEqual(first.metadata, [{ key: 'k', value: 'v' }]);
    assert.equal(decodeEcho(first.payload).text, 'a');

    const s = peer!.socket;
    // Unknown stream first (ignored), then answers in reverse order, coalesced into one write.
    const big = new Uint8Array(FRAME_HEADER_LENGTH);
    writeFrameHeader(big, MAX_MESSAGE_LENGTH + 1, 3, MessageType.Response);
    s.write(
      Buffer.concat([
        joinFrame(encodeResponseFrame(99, { code: 0, message: '' }, encodeEcho('stray'))),
        encodeFrame(7, 3, new Uint8Array([1])),
        joinFrame(encodeResponseFrame(5, { code: 5, message: 'container "c": not found' }, new Uint8Array(0))),
        big,
      ]),
    );
    // The oversize body trickles in and is skipped; the last answer follows it split in two.
    s.write(Buffer.alloc(MAX_MESSAGE_LENGTH + 1));
    const last = joinFrame(encodeResponseFrame(1, { code: 0, message: '' }, encodeEcho('A!')));
    s.write(last.subarray(0, 4));
    await sleep(20);
    s.write(last.subarray(4));
    const [a, b, c, d] = await Promise.all(calls);
    assert.equal(decodeEcho(a as Uint8Array).text, 'A!');
    assert.equal(codeOf(b), 'RESOURCE_EXHAUSTED');
    assert.ok(isNotFound(c));
    assert.equal((c as Error).message, 'container "c"');
    assert.equal(codeOf(d), 'UNKNOWN', 'a non-response frame fails its call');
    assert.equal(client.isClosed, false);
  } finally {
    await client.close();
    await new Promise<void>((r) => srv.close(() => r()));
    dir.dispose();
  }
});

test('server: coalesced and split requests, bad stream ids, garbage and oversize frames', async () => {
  const dir = tempDir();
  const path = dir.socket();
  const server = new TtrpcServer().register('svc', {
    Echo: (p) => encodeEcho(decodeEcho(p).text + '!'),
  });
  await server.listen(path);
  const socket = net.createConnection({ path });
  await new Promise((r) => socket.once('connect', r));
  const peer = rawPeer(socket);
  const answers = new Map<number, TtrpcResponse>();
  const collect = (): void => {
    for (const f of peer.frames.splice(0)) {
      assert.equal(f.header.type, MessageType.Response);
      answers.set(f.header.streamId, decodeResponse(f.payload));
    }
  };
  try {
    socket.write(Buffer.concat([request(1, 'Echo', encodeEcho('one')), request(3, 'Echo', encodeEcho('two'))]));
    const split = request(5, 'Echo', encodeEcho('three'));
    for (let i = 0; i < split.length; i += 3) {
      socket.write(split.subarray(i, i + 3));
      await sleep(1);
    }
    socket.write(request(6, 'Echo', encodeEcho('even')));
    socket.write(encodeFrame(9, MessageType.Request, new Uint8Array([0x0a, 0x05, 0x61])));
    socket.write(encodeFrame(11, 3, new Uint8Array([1, 2, 3])));
    const big = new Uint8Array(FRAME_HEADER_LENGTH);
    writeFrameHeader(big, MAX_MESSAGE_LENGTH + 10, 13, MessageType.Request);
    socket.write(big);
    socket.write(Buffer.alloc(MAX_MESSAGE_LENGTH + 10));
    socket.write(request(15, 'Echo', encodeEcho('after')));
    await waitFor(() => (collect(), answers.size === 7));

    const ok = (id: number): string => {
      const r = answers.get(id)!;
      assert.equal(r.status?.code, 0);
      return decodeEcho(r.payload).text;
    };
    assert.deepEqual([ok(1), ok(3), ok(5), ok(15)], ['one!', 'two!', 'three!', 'after!']);
    assert.deepEqual(answers.get(6)?.status, { code: 3, message: 'StreamID must be odd for client initiated streams' });
    assert.equal(answers.get(9)?.status?.code, 3);
    assert.match(answers.get(9)!.status!.message, /^unmarshal request error: /);
    assert.equal(answers.has(11), false, 'frames of other types are ignored');
    assert.deepEqual(answers.get(13)?.status, {
      code: 8,
      message: `message length ${MAX_MESSAGE_LENGTH + 10} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`,
    });
  } finally {
    socket.destroy();
    await server.close();
    dir.dispose();
  }
});
