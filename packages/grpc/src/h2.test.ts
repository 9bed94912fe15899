import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as h2connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindService, GrpcServer } from './index.js';

// The own server's HTTP/2 against node:http2's client (nghttp2): the protocol's parts a gRPC
// client may use, beyond what the differential tests of direct.test.ts reach through grpc-js.

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const Def = {
  echo: { path: '/test.H2/Echo', requestStream: false, responseStream: false, ...raw },
  hold: { path: '/test.H2/Hold', requestStream: false, responseStream: false, ...raw },
} as const;

let release: () => void = () => {};

async function withServer(fn: (sock: string, server: GrpcServer) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'grpc-h2-'));
  const sock = join(dir, 's.sock');
  const server = new GrpcServer({ maxReceiveMessageSize: 4 << 20, maxSendMessageSize: 4 << 20, streamWindow: 1 << 20, connectionWindow: 2 << 20 });
  server.addService(
    bindService(Def, {
      echo: async (req: Buffer) => req,
      hold: async (req: Buffer) => {
        await new Promise<void>((resolve) => (release = resolve));
        return req;
      },
    }),
  );
  await server.listen(sock);
  try {
    await fn(sock, server);
  } finally {
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

function session(sock: string, opts: Parameters<typeof h2connect>[1] = {}): ClientHttp2Session {
  const s = h2connect('http://localhost', { createConnection: () => createConnection(sock), ...opts });
  s.on('error', () => {});
  return s;
}

function framed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

interface Answer {
  status: string | undefined;
  body: Buffer;
  headers: Record<string, unknown>;
}

/** call sends one framed request and reads the answer's body and grpc-status. */
function call(s: ClientHttp2Session, path: string, body: Buffer, extra: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const st = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let headers: Record<string, unknown> = {};
    st.on('response', (h) => {
      headers = h;
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    });
    st.on('trailers', (t) => (status = String(t['grpc-status'])));
    st.on('data', (c: Buffer) => chunks.push(c));
    st.on('error', reject);
    st.on('close', () => resolve({ status, body: Buffer.concat(chunks), headers }));
    st.end(framed(body));
  });
}

test('answers many calls at once on one connection, their bodies intact', async () => {
  await withServer(async (sock) => {
    const s = session(sock);
    try {
      const bodies = Array.from({ length: 250 }, (_, i) => Buffer.alloc(100 + i * 37, i));
      const answers = await Promise.all(bodies.map((b) => call(s, Def.echo.path, b)));
      for (const [i, a] of answers.entries()) {
        assert.equal(a.status, '0');
        assert.deepEqual(a.body, framed(bodies[i]!));
      }
    } finally {
      s.destroy();
    }
  });
});

test('answers above the client\'s windows and frame size wait for its window updates', async () => {
  await withServer(async (sock) => {
    // 16 KiB windows and frames: a 3 MiB answer needs ~190 window updates.
    const s = session(sock, { settings: { initialWindowSize: 16 << 10, maxFrameSize: 16 << 10 } });
    try {
      const body = Buffer.alloc(3 << 20);
      for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i);
      const a = await call(s, Def.echo.path, body);
      assert.equal(a.status, '0');
      assert.ok(a.body.equals(framed(body)), 'the answer arrived changed');
    } finally {
      s.destroy();
    }
  });
});

test('takes padded frames, long header blocks in continuations and pings', async () => {
  await withServer(async (sock) => {
    const s = session(sock, { paddingStrategy: h2.PADDING_STRATEGY_MAX });
    try {
      // 40 KB of metadata: a HEADERS frame and CONTINUATION frames.
      const a = await call(s, Def.echo.path, Buffer.from('padded'), { 'x-long': 'v'.repeat(40_000) });
      assert.equal(a.status, '0');
      assert.deepEqual(a.body, framed(Buffer.from('padded')));
      const rtt = await new Promise<number>((resolve, reject) => s.ping((err, ms) => (err ? reject(err) : resolve(ms))));
      assert.ok(rtt >= 0);
    } finally {
      s.destroy();
    }
  });
});

test('shutting down lets the call under way finish and refuses new ones with GOAWAY', async () => {
  await withServer(async (sock, server) => {
    const s = session(sock);
    try {
      const held = call(s, Def.hold.path, Buffer.from('held'));
      await new Promise((r) => setTimeout(r, 100));
      const goaway = new Promise<number>((resolve) => s.once('goaway', (code: number) => resolve(code)));
      let shut = false;
      server.tryShutdown(() => (shut = true));
      assert.equal(await goaway, h2.NGHTTP2_NO_ERROR);
      assert.equal(shut, false, 'shut down with a call under way');
      release();
      const a = await held;
      assert.equal(a.status, '0');
      assert.deepEqual(a.body, framed(Buffer.from('held')));
      for (let i = 0; i < 100 && !shut; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(shut, true, 'the connection closed once its last call was answered');
    } finally {
      s.destroy();
    }
  });
});

/** rawExchange writes bytes on a fresh connection and returns what the server wrote until it closed. */
function rawExchange(sock: string, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const c = createConnection(sock);
    const got: Buffer[] = [];
    // A server that keeps the connection open has said all once it is quiet for a while.
    let quiet = setTimeout(() => c.destroy(), 2000);
    c.on('data', (b) => {
      got.push(b);
      clearTimeout(quiet);
      quiet = setTimeout(() => c.destroy(), 200);
    });
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(quiet);
      resolve(Buffer.concat(got));
    });
    c.write(bytes);
  });
}

/** frames splits what a server wrote into [type, flags, stream, payload]. */
function frames(b: Buffer): Array<[number, number, number, Buffer]> {
  const out: Array<[number, number, number, Buffer]> = [];
  for (let at = 0; at + 9 <= b.length; ) {
    const len = b.readUIntBE(at, 3);
    out.push([b[at + 3]!, b[at + 4]!, b.readUInt32BE(at + 5), b.subarray(at + 9, at + 9 + len)]);
    at += 9 + len;
  }
  return out;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const EMPTY_SETTINGS = Buffer.from('000000040000000000', 'hex');

test('a connection that is not HTTP/2, or breaks the protocol, is ended with GOAWAY and its error', async () => {
  await withServer(async (sock) => {
    const goaways = async (bytes: Buffer) =>
      frames(await rawExchange(sock, bytes))
        .filter(([type]) => type === 0x7)
        .map(([, , , p]) => p.readUInt32BE(4));
    // An HTTP/1.1 request: the server's settings, then GOAWAY PROTOCOL_ERROR.
    assert.deepEqual(await goaways(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), [h2.NGHTTP2_PROTOCOL_ERROR]);
    // A PUSH_PROMISE from a client.
    const push = Buffer.from('000004050400000001' + '00000002', 'hex');
    assert.deepEqual(await goaways(Buffer.concat([PREFACE, EMPTY_SETTINGS, push])), [h2.NGHTTP2_PROTOCOL_ERROR]);
    // A frame above the 16 KiB the server allows.
    const big = Buffer.concat([Buffer.from('004001000000000001', 'hex'), Buffer.alloc(0x4001)]);
    assert.deepEqual(await goaways(Buffer.concat([PREFACE, EMPTY_SETTINGS, big])), [h2.NGHTTP2_FRAME_SIZE_ERROR]);
    // A header block that does not decode (index 0).
    const headers = Buffer.from('000001010500000001' + '80', 'hex');
    assert.deepEqual(await goaways(Buffer.concat([PREFACE, EMPTY_SETTINGS, headers])), [h2.NGHTTP2_COMPRESSION_ERROR]);
  });
});

test('settings are acknowledged and pings answered on a raw connection', async () => {
  await withServer(async (sock) => {
    const ping = Buffer.from('000008060000000000' + '0102030405060708', 'hex');
    const out = frames(await rawExchange(sock, Buffer.concat([PREFACE, EMPTY_SETTINGS, ping])));
    const types = out.map(([type, flags]) => `${type}/${flags}`);
    // The server's settings and window update, the acknowledgement of the client's, the ping's.
    assert.deepEqual(types.slice(0, 4), ['4/0', '8/0', '4/1', '6/1']);
    assert.deepEqual(out[3]![3], Buffer.from('0102030405060708', 'hex'));
  });
});
