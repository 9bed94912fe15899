import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODES, newError, NotFoundError, isFailedPrecondition, isNotFound, codeOf } from '@ctrd/errdefs';
import { bindService, fromServiceError, toServiceError } from './index.js';

const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()),
  responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()),
};
const Def = {
  get: { path: '/test.Svc/Get', requestStream: false, responseStream: false, ...json },
  list: { path: '/test.Svc/List', requestStream: false, responseStream: true, ...json },
  echo: { path: '/test.Svc/Echo', requestStream: true, responseStream: true, ...json },
} as const;

test('every class survives a round trip through a status', () => {
  for (const code of ERROR_CODES) {
    const back = fromServiceError(toServiceError(newError(code, 'thing "x"')));
    assert.equal(back.code, code);
    assert.equal(back.message, 'thing "x"');
  }
  assert.equal(toServiceError(new NotFoundError('image "x"')).details, 'image "x": not found');
  assert.equal(codeOf(fromServiceError({ code: 99, details: 'odd' })), 'UNKNOWN');
});

test('bound handlers over a unix socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'grpc-'));
  const sock = join(dir, 's.sock');
  const server = new grpc.Server();
  const seen: string[] = [];
  const bound = bindService(Def, {
    get: async (req: { name: string }, ctx) => {
      if (req.name === 'missing') throw new NotFoundError(`thing "${req.name}"`);
      return { name: req.name, ns: ctx.namespace };
    },
    list: async function* (req: { n: number }) {
      for (let i = 0; i < req.n; i++) yield { i };
    },
    echo: async function* (reqs: AsyncIterable<{ v: number }>) {
      for await (const r of reqs) yield { v: r.v * 2 };
    },
  }, (method, _ms, err) => seen.push(`${method}:${err ? codeOf(err) : 'ok'}`));
  server.addService(bound.definition, bound.implementation);
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const Client = grpc.makeGenericClientConstructor(Def as unknown as grpc.ServiceDefinition, 'Svc');
  const client = new Client(`unix://${sock}`, grpc.credentials.createInsecure()) as unknown as Record<string, Function>;
  const md = (ns?: string) => {
    const m = new grpc.Metadata();
    if (ns) m.set('containerd-namespace', ns);
    return m;
  };
  const unary = (req: unknown, m: grpc.Metadata) =>
    new Promise<any>((res, rej) => client.get!.call(client, req, m, (e: unknown, r: unknown) => (e ? rej(fromServiceError(e)) : res(r))));
  try {
    assert.deepEqual(await unary({ name: 'a' }, md('default')), { name: 'a', ns: 'default' });
    await assert.rejects(unary({ name: 'a' }, md()), (e: Error) => isFailedPrecondition(e) && e.message === 'namespace is required');
    // A repeated namespace header: the first value counts, as in containerd.
    const twice = md('ns1');
    twice.add('containerd-namespace', 'ns2');
    assert.deepEqual(await unary({ name: 'a' }, twice), { name: 'a', ns: 'ns1' });
    await assert.rejects(unary({ name: 'missing' }, md('ns1')), (e: Error) => isNotFound(e) && e.message === 'thing "missing"');
    const items: unknown[] = [];
    for await (const x of client.list!.call(client, { n: 3 }, md('x')) as AsyncIterable<unknown>) items.push(x);
    assert.deepEqual(items, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    const duplex = client.echo!.call(client, md('x')) as grpc.ClientDuplexStream<unknown, { v: number }>;
    duplex.write({ v: 1 });
    duplex.write({ v: 2 });
    duplex.end();
    const out: number[] = [];
    for await (const r of duplex) out.push((r as { v: number }).v);
    assert.deepEqual(out, [2, 4]);
    assert.ok(seen.includes('/test.Svc/Get:NOT_FOUND') && seen.includes('/test.Svc/Get:ok'));
  } finally {
    (client as unknown as grpc.Client).close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});
