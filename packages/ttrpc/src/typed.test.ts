import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, codeOf, isInvalidArgument, isNotFound, isNotImplemented } from '@ctrd/errdefs';
import { TtrpcClient } from './client.js';
import { createClient } from './create-client.js';
import type { ServiceImplementation } from './definition.js';
import { registerService } from './register-service.js';
import { TtrpcServer } from './server.js';
import { Echo, tempDir } from './testing.js';

/** Shaped like ts-proto's generic-definitions output. */
const EchoServiceDefinition = {
  name: 'EchoService',
  fullName: 'test.echo.v1.EchoService',
  methods: {
    shout: { name: 'Shout', requestType: Echo, requestStream: false, responseType: Echo, responseStream: false, options: {} },
    whoAmI: { name: 'WhoAmI', requestType: Echo, requestStream: false, responseType: Echo, responseStream: false, options: {} },
    lookup: { name: 'Lookup', requestType: Echo, requestStream: false, responseType: Echo, responseStream: false, options: {} },
    watch: { name: 'Watch', requestType: Echo, requestStream: false, responseType: Echo, responseStream: true, options: {} },
  },
} as const;
type EchoServiceDefinition = typeof EchoServiceDefinition;

async function setup(impl: ServiceImplementation<EchoServiceDefinition>) {
  const dir = tempDir();
  const server = new TtrpcServer();
  registerService(server, EchoServiceDefinition, impl);
  await server.listen(dir.socket());
  const conn = await TtrpcClient.connect(dir.socket());
  return {
    server,
    conn,
    async dispose() {
      await conn.close();
      await server.close();
      dir.dispose();
    },
  };
}

const impl: ServiceImplementation<EchoServiceDefinition> = {
  shout: (req) => ({ text: req.text.toUpperCase(), delayMs: req.delayMs + 1 }),
  whoAmI: async (_req, ctx) => ({
    text: `${ctx.service}/${ctx.method} ns=${ctx.metadata['containerd-namespace-ttrpc']?.join(',')} x=${ctx.metadata['x']?.join(',')}`,
    delayMs: 0,
  }),
  lookup: async (req) => {
    throw new NotFoundError(`object "${req.text}"`);
  },
  watch: async () => ({ text: '', delayMs: 0 }),
};

test('createClient and registerService route lowerCamel keys to wire method names', async () => {
  const env = await setup(impl);
  try {
    const echo = createClient(EchoServiceDefinition, env.conn, {
      metadata: { 'containerd-namespace-ttrpc': 'default' },
    });
    const res = await echo.shout({ text: 'hey', delayMs: 41 });
    assert.deepEqual(res, { text: 'HEY', delayMs: 42 });
    const who = await echo.whoAmI({ text: '', delayMs: 0 }, { metadata: { x: '1' } });
    assert.equal(who.text, 'test.echo.v1.EchoService/WhoAmI ns=default x=1');
    await assert.rejects(echo.lookup({ text: 'k', delayMs: 0 }), (err: Error) => {
      assert.ok(isNotFound(err));
      assert.equal(err.message, 'object "k"');
      return true;
    });
  } finally {
    await env.dispose();
  }
});

test('the typed client is typed', () => {
  // Compile-time checks only: these lines must fail to type-check.
  const check = (echo: ReturnType<typeof createClient<EchoServiceDefinition>>): void => {
    // @ts-expect-error text must be a string
    void echo.shout({ text: 1, delayMs: 0 });
    // @ts-expect-error no such method
    void echo.shoutLouder({ text: '', delayMs: 0 });
    const r: Promise<{ text: string }> = echo.lookup({ text: '', delayMs: 0 });
    void r;
  };
  assert.equal(typeof check, 'function');
});

test('the wire names are fullName and method name, usable from a raw client', async () => {
  const env = await setup(impl);
  try {
    const out = await env.conn.call('test.echo.v1.EchoService', 'Shout', Echo.encode({ text: 'raw', delayMs: 0 }).finish());
    assert.deepEqual(Echo.decode(out), { text: 'RAW', delayMs: 1 });
    await assert.rejects(env.conn.call('EchoService', 'Shout', new Uint8Array(0)), isNotImplemented);
  } finally {
    await env.dispose();
  }
});

test('streaming methods and methods missing at run time answer NotImplemented', async () => {
  const { shout: _dropped, ...partial } = impl;
  const env = await setup(partial as typeof impl);
  try {
    const echo = createClient(EchoServiceDefinition, env.conn);
    await assert.rejects(echo.shout({ text: 'x', delayMs: 0 }), isNotImplemented);
    await assert.rejects(echo.watch({ text: 'x', delayMs: 0 }), isNotImplemented);
    await assert.rejects(env.conn.call('test.echo.v1.EchoService', 'Watch', new Uint8Array(0)), isNotImplemented);
  } finally {
    await env.dispose();
  }
});

test('a request that does not decode answers InvalidArgument', async () => {
  const env = await setup(impl);
  try {
    await assert.rejects(env.conn.call('test.echo.v1.EchoService', 'Shout', new Uint8Array([0x0a, 0x09, 0x61])), (err: Error) => {
      assert.ok(isInvalidArgument(err), `got ${codeOf(err)}: ${err.message}`);
      return true;
    });
  } finally {
    await env.dispose();
  }
});
