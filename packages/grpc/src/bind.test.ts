import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, NotFoundError, codeOf, isInvalidArgument, isNotFound } from '@ctrd/errdefs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { bindService, fromServiceError, setBusyPoll, type CallContext, type ServiceHandlers } from './index.js';

const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()),
  responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()),
};
const Def = {
  plain: { path: '/test.Lean/Plain', requestStream: false, responseStream: false, ...json },
  throws: { path: '/test.Lean/Throws', requestStream: false, responseStream: false, ...json },
  items: { path: '/test.Lean/Items', requestStream: false, responseStream: true, ...json },
  sum: { path: '/test.Lean/Sum', requestStream: true, responseStream: false, ...json },
} as const;

type Client = Record<string, Function>;

/** serve binds the handlers on a unix socket and hands a generic client to `fn`. */
async function serve(handlers: ServiceHandlers<typeof Def>, fn: (c: Client) => Promise<void>, observe?: (m: string, ms: number, err: unknown) => void) {
  const dir = await mkdtemp(join(tmpdir(), 'grpc-bind-'));
  const sock = join(dir, 's.sock');
  const server = new grpc.Server();
  const bound = bindService(Def, handlers, observe);
  server.addService(bound.definition, bound.implementation);
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const Ctor = grpc.makeGenericClientConstructor(Def as unknown as grpc.ServiceDefinition, 'Lean');
  const client = new Ctor(`unix://${sock}`, grpc.credentials.createInsecure()) as unknown as Client;
  try {
    await fn(client);
  } finally {
    (client as unknown as grpc.Client).close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

function md(ns = 'ns1'): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('containerd-namespace', ns);
  return m;
}

function unary(c: Client, name: string, req: unknown): Promise<any> {
  return new Promise((res, rej) => c[name]!.call(c, req, md(), (e: unknown, r: unknown) => (e ? rej(fromServiceError(e)) : res(r))));
}

const idle: ServiceHandlers<typeof Def> = {
  plain: async () => ({}),
  throws: async () => ({}),
  items: async function* () {},
  sum: async () => ({}),
};

test('a handler that returns a plain value or throws synchronously is answered like an async one', async () => {
  await serve(
    {
      ...idle,
      // Not async: the value is returned as is, the error thrown before any promise exists.
      plain: ((req: { v: number }, ctx: CallContext) => ({ v: req.v + 1, ns: ctx.namespace })) as never,
      throws: ((req: { v: number }) => {
        throw new InvalidArgumentError(`bad value ${req.v}`);
      }) as never,
    },
    async (c) => {
      assert.deepEqual(await unary(c, 'plain', { v: 1 }), { v: 2, ns: 'ns1' });
      await assert.rejects(unary(c, 'throws', { v: 3 }), (e: Error) => isInvalidArgument(e) && e.message === 'bad value 3');
    },
  );
});

test('a streaming handler that throws, before or after yielding, ends the call with its status', async () => {
  await serve(
    {
      ...idle,
      items: async function* (req: { fail: 'first' | 'later' }) {
        if (req.fail === 'first') throw new NotFoundError('thing "x"');
        yield { i: 0 };
        throw new InvalidArgumentError('half way');
      },
    },
    async (c) => {
      for (const [fail, check] of [
        ['first', (e: Error) => isNotFound(e) && e.message === 'thing "x"'],
        ['later', (e: Error) => isInvalidArgument(e) && e.message === 'half way'],
      ] as const) {
        const got: unknown[] = [];
        await assert.rejects(async () => {
          try {
            for await (const x of c.items!.call(c, { fail }, md()) as AsyncIterable<unknown>) got.push(x);
          } catch (e) {
            throw fromServiceError(e);
          }
        }, check);
        assert.deepEqual(got, fail === 'first' ? [] : [{ i: 0 }]);
      }
    },
  );
});

test('a server stream larger than the flow-control window arrives whole and in order', async () => {
  const chunk = 'x'.repeat(32 * 1024);
  await serve(
    {
      ...idle,
      items: async function* (req: { n: number }) {
        for (let i = 0; i < req.n; i++) yield { i, chunk };
      },
    },
    async (c) => {
      const seen: number[] = [];
      for await (const x of c.items!.call(c, { n: 200 }, md()) as AsyncIterable<{ i: number; chunk: string }>) {
        assert.equal(x.chunk.length, chunk.length);
        seen.push(x.i);
      }
      assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
    },
  );
});

test('a client cancelling a server stream stops its handler, which sees ctx.cancelled and its signal', { timeout: 20_000 }, async () => {
  let resolveDone!: (v: { finallyRan: boolean; cancelled: boolean; aborted: boolean; yielded: number }) => void;
  const done = new Promise<{ finallyRan: boolean; cancelled: boolean; aborted: boolean; yielded: number }>((r) => (resolveDone = r));
  await serve(
    {
      ...idle,
      items: async function* (_req: unknown, ctx) {
        let yielded = 0;
        const signal = ctx.signal;
        try {
          while (yielded < 100_000) {
            yield { i: yielded++ };
            // Let the cancellation in between two responses.
            await new Promise((r) => setTimeout(r, 5));
          }
        } finally {
          resolveDone({ finallyRan: true, cancelled: ctx.cancelled, aborted: signal.aborted, yielded });
        }
      },
    },
    async (c) => {
      const call = c.items!.call(c, {}, md()) as grpc.ClientReadableStream<unknown>;
      call.on('error', () => {});
      await new Promise<void>((r) => call.once('data', () => r()));
      call.cancel();
      const seen = await done;
      assert.equal(seen.finallyRan, true);
      assert.equal(seen.cancelled, true);
      assert.equal(seen.aborted, true);
      assert.ok(seen.yielded < 100_000, 'the handler was stopped');
    },
  );
});

test('a client-streaming handler reads every request; the observer sees each call once, by path', async () => {
  const seen: string[] = [];
  await serve(
    {
      ...idle,
      sum: async (reqs: AsyncIterable<{ v: number }>) => {
        let total = 0;
        for await (const r of reqs) total += r.v;
        return { total };
      },
      throws: async () => {
        throw new NotFoundError('gone');
      },
    },
    async (c) => {
      const total = await new Promise<unknown>((res, rej) => {
        const w = c.sum!.call(c, md(), (e: unknown, r: unknown) => (e ? rej(e) : res(r))) as grpc.ClientWritableStream<unknown>;
        for (const v of [1, 2, 3]) w.write({ v });
        w.end();
      });
      assert.deepEqual(total, { total: 6 });
      await assert.rejects(unary(c, 'throws', {}), isNotFound);
      const items: unknown[] = [];
      for await (const x of c.items!.call(c, {}, md()) as AsyncIterable<unknown>) items.push(x);
      assert.deepEqual(items, []);
    },
    (method, ms, err) => {
      assert.ok(ms >= 0);
      seen.push(`${method}:${err ? codeOf(err) : 'ok'}`);
    },
  );
  assert.deepEqual(seen, ['/test.Lean/Sum:ok', '/test.Lean/Throws:NOT_FOUND', '/test.Lean/Items:ok']);
});

test('after an answer, unary or streamed, the server keeps polling for the busy-poll window', async (t) => {
  t.after(() => setBusyPoll(0));
  setBusyPoll(40_000);
  const busyAfter = async (call: () => Promise<unknown>): Promise<number> => {
    await call();
    const before = performance.eventLoopUtilization();
    await sleep(25);
    const u = performance.eventLoopUtilization(before).utilization;
    await sleep(30); // let the window end before the next call
    return u;
  };
  await serve({ ...idle, items: async function* () { yield { n: 1 }; } }, async (c) => {
    const streamed = (): Promise<unknown> =>
      new Promise((res, rej) => c.items!.call(c, {}, md()).on('data', () => {}).on('end', res).on('error', rej));
    assert.ok((await busyAfter(() => unary(c, 'plain', {}))) > 0.5, 'no polling after a unary answer');
    assert.ok((await busyAfter(streamed)) > 0.5, 'no polling after a stream ended');
    setBusyPoll(0);
    assert.ok((await busyAfter(() => unary(c, 'plain', {}))) < 0.3, 'polling with the window at 0');
  });
});
