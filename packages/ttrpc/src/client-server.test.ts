import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import {
  ERROR_CODES,
  NotFoundError,
  codeOf,
  isAlreadyExists,
  isCanceled,
  isDeadlineExceeded,
  isFailedPrecondition,
  isNotImplemented,
  isUnavailable,
  newError,
} from '@ctrd/errdefs';
import { TtrpcClient } from './client.js';
import { MAX_MESSAGE_LENGTH } from './frame.js';
import type { CallContext } from './server-connection.js';
import { TtrpcServer } from './server.js';
import { decodeEcho, encodeEcho, sleep, tempDir, waitFor } from './testing.js';

const SVC = 'test.v1.Echo';
const text = (b: Uint8Array): string => decodeEcho(b).text;

/** start serves `handlers` as service SVC on a fresh socket and connects a client to it. */
async function start(
  handlers: Record<string, (p: Uint8Array, ctx: CallContext) => Promise<Uint8Array> | Uint8Array>,
  serverOpts?: ConstructorParameters<typeof TtrpcServer>[0],
) {
  const dir = tempDir();
  const server = new TtrpcServer(serverOpts).register(SVC, handlers);
  const path = dir.socket();
  await server.listen(path);
  const client = await TtrpcClient.connect(path);
  return {
    server,
    client,
    path,
    async dispose() {
      await client.close();
      await server.close({ timeoutMs: 100 });
      dir.dispose();
    },
  };
}

const echo = async (p: Uint8Array): Promise<Uint8Array> => {
  const m = decodeEcho(p);
  if (m.delayMs > 0) await sleep(m.delayMs);
  return encodeEcho(m.text.toUpperCase());
};

test('a call returns the handler payload; metadata and names reach the handler', async () => {
  let seen: CallContext | undefined;
  const env = await start({
    Echo: echo,
    Peek: (_p, ctx) => {
      seen = ctx;
      return new Uint8Array(0);
    },
  });
  try {
    assert.equal(text(await env.client.call(SVC, 'Echo', encodeEcho('hi'))), 'HI');
    const out = await env.client.call(SVC, 'Peek', new Uint8Array(0), {
      metadata: { 'Containerd-Namespace-Ttrpc': 'default', multi: ['a', 'b'] },
    });
    assert.equal(out.length, 0);
    assert.equal(seen?.service, SVC);
    assert.equal(seen?.method, 'Peek');
    assert.deepEqual({ ...seen?.metadata }, { 'containerd-namespace-ttrpc': ['default'], multi: ['a', 'b'] });
    assert.equal(seen?.deadline, undefined);
  } finally {
    await env.dispose();
  }
});

test('many concurrent calls share one connection and each gets its own answer', async () => {
  const env = await start({ Echo: echo });
  try {
    const n = 200;
    const calls = Array.from({ length: n }, (_, i) =>
      env.client.call(SVC, 'Echo', encodeEcho(`m${i}`, (i * 37) % 20)).then(text),
    );
    assert.equal(env.client.pendingCalls, n);
    const out = await Promise.all(calls);
    assert.deepEqual(out, Array.from({ length: n }, (_, i) => `M${i}`));
    assert.equal(env.server.connectionCount, 1);
    assert.equal(env.client.pendingCalls, 0);
  } finally {
    await env.dispose();
  }
});

test('a client deadline fails the call and reaches the server as timeout_nano', async () => {
  let ctx: CallContext | undefined;
  let aborted: (reason: unknown) => void = () => {};
  const abortSeen = new Promise((resolve) => (aborted = resolve));
  const env = await start({
    Slow: (_p, c) => {
      ctx = c;
      c.signal.addEventListener('abort', () => aborted(c.signal.reason));
      return new Promise(() => {});
    },
  });
  try {
    const started = Date.now();
    await assert.rejects(env.client.call(SVC, 'Slow', new Uint8Array(0), { timeoutMs: 150 }), isDeadlineExceeded);
    assert.ok(Date.now() - started >= 140);
    assert.ok(ctx?.deadline !== undefined && Math.abs(ctx.deadline - (started + 150)) < 100);
    const reason = await abortSeen;
    assert.equal(codeOf(reason), 'DEADLINE_EXCEEDED');
    // The connection stays usable after a timed-out call.
    await assert.rejects(env.client.call(SVC, 'Nope', new Uint8Array(0)), isNotImplemented);
  } finally {
    await env.dispose();
  }
});

test("a handler that asks for its signal after the deadline passed finds it aborted with the deadline's reason", async () => {
  let late: AbortSignal | undefined;
  const env = await start({
    Late: async (_p, c) => {
      await sleep(120);
      late = c.signal;
      return new Uint8Array(0);
    },
  });
  try {
    await assert.rejects(env.client.call(SVC, 'Late', new Uint8Array(0), { timeoutMs: 40 }), isDeadlineExceeded);
    await waitFor(() => late !== undefined);
    assert.equal(late?.aborted, true);
    assert.equal(codeOf(late?.reason), 'DEADLINE_EXCEEDED');
  } finally {
    await env.dispose();
  }
});

test('an aborted signal cancels the call', async () => {
  const env = await start({ Slow: () => new Promise(() => {}) });
  try {
    const ac = new AbortController();
    const p = env.client.call(SVC, 'Slow', new Uint8Array(0), { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, isCanceled);
    await assert.rejects(env.client.call(SVC, 'Slow', new Uint8Array(0), { signal: ac.signal }), isCanceled);
    assert.equal(env.client.pendingCalls, 0);
  } finally {
    await env.dispose();
  }
});

test('an unknown service or method answers Unimplemented as Go ttrpc words it', async () => {
  const env = await start({ Echo: echo });
  try {
    await assert.rejects(env.client.call('no.such.Service', 'Echo', new Uint8Array(0)), (err: Error) => {
      assert.ok(isNotImplemented(err));
      assert.equal(err.message, 'service no.such.Service');
      return true;
    });
    await assert.rejects(env.client.call(SVC, 'Missing', new Uint8Array(0)), (err: Error) => {
      assert.ok(isNotImplemented(err));
      assert.equal(err.message, 'method Missing');
      return true;
    });
    // Inherited object keys are not methods.
    await assert.rejects(env.client.call(SVC, 'toString', new Uint8Array(0)), isNotImplemented);
  } finally {
    await env.dispose();
  }
});

test('every errdefs class thrown by a handler arrives as the same class and message', async () => {
  const env = await start({
    Fail: (p) => {
      const code = text(p);
      if (code === 'PLAIN') throw new Error('plain failure');
      throw newError(code as never, 'thing "x"');
    },
  });
  try {
    for (const code of ERROR_CODES) {
      await assert.rejects(env.client.call(SVC, 'Fail', encodeEcho(code)), (err: Error) => {
        assert.equal(codeOf(err), code);
        assert.equal(err.message, 'thing "x"');
        return true;
      });
    }
    await assert.rejects(env.client.call(SVC, 'Fail', encodeEcho('PLAIN')), (err: Error) => {
      assert.equal(codeOf(err), 'UNKNOWN');
      assert.equal(err.message, 'plain failure');
      return true;
    });
  } finally {
    await env.dispose();
  }
});

test('oversize messages are refused in both directions without breaking the connection', async () => {
  const big = new Uint8Array(MAX_MESSAGE_LENGTH + 1);
  const env = await start({ Echo: echo, Big: () => big, Len: (p) => encodeEcho(String(p.length)) });
  try {
    await assert.rejects(env.client.call(SVC, 'Echo', big), (err: Error) => {
      assert.equal(codeOf(err), 'RESOURCE_EXHAUSTED');
      return true;
    });
    await assert.rejects(env.client.call(SVC, 'Big', new Uint8Array(0)), (err: Error) => {
      assert.equal(codeOf(err), 'RESOURCE_EXHAUSTED');
      assert.match(err.message, /exceed maximum message size of 4194304/);
      return true;
    });
    assert.equal(text(await env.client.call(SVC, 'Echo', encodeEcho('still here'))), 'STILL HERE');
    // Just under the limit goes through (envelope overhead included).
    const nearMax = new Uint8Array(MAX_MESSAGE_LENGTH - 64);
    assert.equal(text(await env.client.call(SVC, 'Len', nearMax)), String(nearMax.length));
  } finally {
    await env.dispose();
  }
});

test('losing the connection fails every pending call with Unavailable and fires onClose', async () => {
  let serverSide: net.Socket | undefined;
  const env = await start(
    { Slow: () => new Promise(() => {}) },
    {
      onConnection: (s) => {
        serverSide = s;
        return true;
      },
    },
  );
  try {
    const reasons: (Error | undefined)[] = [];
    env.client.onClose((r) => reasons.push(r));
    const calls = [1, 2, 3].map((i) => env.client.call(SVC, 'Slow', encodeEcho(String(i))));
    await waitFor(() => serverSide !== undefined);
    await sleep(20);
    serverSide!.destroy();
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(isUnavailable((r as PromiseRejectedResult).reason));
      assert.equal((r as PromiseRejectedResult).reason.message, 'ttrpc: closed');
    }
    assert.equal(reasons.length, 1);
    assert.ok(reasons[0] instanceof Error);
    assert.equal(env.client.isClosed, true);
    await assert.rejects(env.client.call(SVC, 'Slow', new Uint8Array(0)), isUnavailable);
  } finally {
    await env.dispose();
  }
});

test('client close fails pending calls and reports no reason', async () => {
  const env = await start({ Slow: () => new Promise(() => {}) });
  try {
    const reasons: (Error | undefined)[] = [];
    env.client.onClose((r) => reasons.push(r));
    const p = env.client.call(SVC, 'Slow', new Uint8Array(0));
    await env.client.close();
    await assert.rejects(p, isUnavailable);
    assert.deepEqual(reasons, [undefined]);
    await waitFor(() => env.server.connectionCount === 0);
  } finally {
    await env.dispose();
  }
});

test('server close waits for in-flight calls, then closes the connection and the socket file', async () => {
  const env = await start({ Echo: echo });
  try {
    const inFlight = env.client.call(SVC, 'Echo', encodeEcho('late', 200));
    await sleep(20);
    const closedAt = { t: 0 };
    const closing = env.server.close().then(() => (closedAt.t = Date.now()));
    await assert.rejects(TtrpcClient.connect(env.path, { timeoutMs: 500 }), isUnavailable);
    assert.equal(text(await inFlight), 'LATE');
    await closing;
    assert.ok(closedAt.t > 0);
    await waitFor(() => env.client.isClosed);
    assert.equal(existsSync(env.path), false);
    assert.throws(() => env.server.serve(new net.Socket()), isUnavailable);
  } finally {
    await env.dispose();
  }
});

test('server close gives up on stuck calls after its timeout and aborts them', async () => {
  let signal: AbortSignal | undefined;
  const env = await start({
    Stuck: (_p, ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    },
  });
  try {
    const p = env.client.call(SVC, 'Stuck', new Uint8Array(0)).catch((e: unknown) => e);
    await waitFor(() => signal !== undefined);
    const started = Date.now();
    await env.server.close({ timeoutMs: 150 });
    assert.ok(Date.now() - started >= 140);
    assert.equal(signal?.aborted, true);
    assert.ok(isCanceled(signal?.reason));
    assert.ok(isUnavailable(await p));
  } finally {
    await env.dispose();
  }
});

test('onConnection can refuse a peer', async () => {
  const seen: unknown[] = [];
  const env = await start({ Echo: echo }, { onConnection: (s) => (seen.push(s), false) });
  try {
    await assert.rejects(env.client.call(SVC, 'Echo', encodeEcho('x')), isUnavailable);
    assert.equal(seen.length, 1);
    assert.equal(env.server.connectionCount, 0);
  } finally {
    await env.dispose();
  }
});

test('listen replaces a stale socket and refuses a live one or a non-socket', async () => {
  const dir = tempDir();
  try {
    // A socket file with no listener: bind, move the file aside, close the listener.
    const stale = dir.socket('stale.sock');
    const tmp = net.createServer();
    await new Promise<void>((r) => tmp.listen(dir.socket('bind.sock'), r));
    renameSync(dir.socket('bind.sock'), stale);
    await new Promise<void>((r) => tmp.close(() => r()));
    const s1 = new TtrpcServer().register(SVC, { Echo: echo });
    await s1.listen(stale);
    const c = await TtrpcClient.connect(stale);
    assert.equal(text(await c.call(SVC, 'Echo', encodeEcho('ok'))), 'OK');
    await c.close();

    const s2 = new TtrpcServer();
    await assert.rejects(s2.listen(stale), isAlreadyExists);
    const file = dir.socket('file');
    writeFileSync(file, 'x');
    await assert.rejects(s2.listen(file), isFailedPrecondition);
    await s2.close();
    await s1.close();
  } finally {
    dir.dispose();
  }
});

test('dialling a missing socket is Unavailable; registering a service twice is AlreadyExists', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(TtrpcClient.connect(dir.socket('none.sock')), isUnavailable);
    const s = new TtrpcServer().register(SVC, {});
    assert.throws(() => s.register(SVC, {}), isAlreadyExists);
  } finally {
    dir.dispose();
  }
});

test('a handler error thrown synchronously or as a NotFound class still answers', async () => {
  const env = await start({
    Sync: () => {
      throw new NotFoundError('container "c1"');
    },
  });
  try {
    await assert.rejects(env.client.call(SVC, 'Sync', new Uint8Array(0)), (err: Error) => {
      assert.equal(codeOf(err), 'NOT_FOUND');
      assert.equal(err.message, 'container "c1"');
      return true;
    });
  } finally {
    await env.dispose();
  }
});

test('serve() takes an existing net.Server; a client can wrap a socket that is still connecting', async () => {
  const dir = tempDir();
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(dir.socket(), r));
  const server = new TtrpcServer().register(SVC, { Echo: echo });
  server.serve(listener);
  const client = new TtrpcClient(net.createConnection({ path: dir.socket() }));
  try {
    assert.equal(text(await client.call(SVC, 'Echo', encodeEcho('early'))), 'EARLY');
  } finally {
    await client.close();
    await server.close();
    assert.equal(listener.listening, false);
    dir.dispose();
  }
});

test('deadlines beyond the timer range and Infinity do not fire early', async () => {
  const seen: (number | undefined)[] = [];
  const env = await start({
    Peek: (_p, ctx) => {
      seen.push(ctx.deadline);
      return new Uint8Array(0);
    },
  });
  try {
    const now = Date.now();
    await env.client.call(SVC, 'Peek', new Uint8Array(0), { timeoutMs: 3e9 });
    await env.client.call(SVC, 'Peek', new Uint8Array(0), { timeoutMs: Infinity });
    assert.ok(seen[0] !== undefined && Math.abs(seen[0] - (now + 3e9)) < 1000);
    assert.equal(seen[1], undefined);
    await assert.rejects(env.client.call(SVC, 'Peek', new Uint8Array(0), { timeoutMs: 0 }), isDeadlineExceeded);
  } finally {
    await env.dispose();
  }
});
