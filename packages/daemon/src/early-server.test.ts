import { test } from 'node:test';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { IntrospectionClient, IntrospectionService } from '@ctrd/api/gen/containerd/services/introspection/v1/introspection.js';
import { VersionClient, VersionService } from '@ctrd/api/gen/containerd/services/version/v1/version.js';
import { bindService, busyPollMicros, setBusyPoll } from '@ctrd/grpc';
import { EarlyServer, type EarlyServerOptions } from './early-server.js';
import { VERSION } from './version.js';

async function withServer(fn: (s: EarlyServer, address: string, dir: string) => Promise<void>, uuid = false, opts: Partial<EarlyServerOptions> = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-early-'));
  const address = join(dir, 'ctrd.sock');
  const uuidDir = uuid ? join(dir, 'root', 'io.containerd.grpc.v1.introspection') : undefined;
  const s = await EarlyServer.listen({ address, maxRecvMessageSize: 1 << 24, maxSendMessageSize: 1 << 24, uid: 0, gid: 0, version: true, uuidDir, ...opts });
  try {
    await fn(s, address, dir);
  } finally {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function unary<Res>(call: (cb: (err: grpc.ServiceError | null, res: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));
}

/** Each transport test runs on the daemon's own server and on grpc-js's. */
const SERVERS = ['ctrd', 'grpc-js'] as const;

const introspection = bindService(IntrospectionService, {
  plugins: async () => ({ plugins: [] }),
  server: async () => ({ uuid: 'u-1', pid: 1, pidns: 0, deprecations: [] }),
});

for (const server of SERVERS) {
  test(`EarlyServer answers Version before the plugins load and holds other calls until open (${server})`, async () => {
    await withServer(async (s, address) => {
      const v = new VersionClient(`unix://${address}`, grpc.credentials.createInsecure());
      const i = new IntrospectionClient(`unix://${address}`, grpc.credentials.createInsecure());
      try {
        const res = await unary<{ version: string }>((cb) => v.version({}, cb));
        assert.equal(res.version, VERSION);
        let answered = false;
        const held = unary<{ uuid: string }>((cb) => i.server({}, cb)).then((r) => ((answered = true), r));
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(answered, false, 'a call to a service not added yet must wait');
        s.addServices([introspection, bindService(VersionService, { version: async () => ({ version: 'plugin', revision: '' }) })]);
        await s.open();
        assert.equal((await held).uuid, 'u-1');
        // The plugins' Version replaces the early one without a duplicate-handler error.
        assert.equal((await unary<{ version: string }>((cb) => v.version({}, cb))).version, 'plugin');
      } finally {
        v.close();
        i.close();
      }
    }, false, { server });
  });
}

for (const server of SERVERS) {
  test(`EarlyServer answers Introspection.Server from the UUID file before the plugins load, and holds Plugins (${server})`, async () => {
    await withServer(async (s, address, dir) => {
      const i = new IntrospectionClient(`unix://${address}`, grpc.credentials.createInsecure());
      try {
        const { uuid } = await unary<{ uuid: string }>((cb) => i.server({}, cb));
        assert.match(uuid, /^[0-9a-f-]{36}$/);
        assert.equal(await readFile(join(dir, 'root', 'io.containerd.grpc.v1.introspection', 'uuid'), 'utf8'), uuid);
        let answered = false;
        const held = unary<{ plugins: unknown[] }>((cb) => i.plugins({ filters: [] }, cb)).then((r) => ((answered = true), r));
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(answered, false, 'Plugins must wait for the plugins, not answer UNIMPLEMENTED');
        s.addServices([introspection]);
        await s.open();
        assert.deepEqual((await held).plugins, []);
        // The plugin's Server replaces the early one.
        assert.equal((await unary<{ uuid: string }>((cb) => i.server({}, cb))).uuid, 'u-1');
      } finally {
        i.close();
      }
    }, true, { server });
  });
}

for (const server of SERVERS) {
  test(`EarlyServer refuses held calls with UNAVAILABLE when start-up fails, and close removes the socket (${server})`, async () => {
    await withServer(async (s, address) => {
      const i = new IntrospectionClient(`unix://${address}`, grpc.credentials.createInsecure());
      try {
        const held = unary((cb) => i.server({}, cb));
        await new Promise((r) => setTimeout(r, 100));
        s.refuse();
        await assert.rejects(held, (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
      } finally {
        i.close();
      }
      await s.close();
      await assert.rejects(stat(address), { code: 'ENOENT' });
    }, false, { server });
  });
}

for (const server of SERVERS) {
  test(`EarlyServer offers wide HTTP/2 receive windows (${server})`, async () => {
    const { connect } = await import('node:http2');
    const { STREAM_WINDOW, SESSION_WINDOW } = await import('./early-server.js');
    await withServer(async (_s, address) => {
      const { createConnection } = await import('node:net');
      const session = connect('http://localhost', { createConnection: () => createConnection(address) });
      try {
        const settings = await new Promise<{ initialWindowSize?: number }>((resolve) => session.once('remoteSettings', resolve));
        assert.equal(settings.initialWindowSize, STREAM_WINDOW);
        // The session-wide window update follows the settings frame.
        for (let i = 0; i < 50 && (session.state.remoteWindowSize ?? 0) < SESSION_WINDOW; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(session.state.remoteWindowSize, SESSION_WINDOW);
      } finally {
        session.destroy();
      }
    }, false, { server });
  });
}

test('EarlyServer sets the busy-poll window from its options', async (t) => {
  t.after(() => setBusyPoll(0));
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-early-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const micros of [150, 0]) {
    const s = await EarlyServer.listen({
      address: join(dir, `p${micros}.sock`), maxRecvMessageSize: 1 << 24, maxSendMessageSize: 1 << 24, busyPollMicros: micros, uid: 0, gid: 0, version: true,
    });
    assert.equal(busyPollMicros(), micros);
    await s.close();
  }
});

for (const server of SERVERS) {
  test(`EarlyServer.pause lets a connected client go first, for a while at most (${server})`, async () => {
    // Wide windows, so that the test does not depend on the machine's speed.
    const quietMs = 150;
    const maxPauseMs = 400;
    await withServer(async (s, address) => {
      // Nobody connected: one turn of the event loop.
      const order: string[] = [];
      const timer = new Promise<void>((r) => setTimeout(() => (order.push('timer'), r()), 10));
      await s.pause().then(() => order.push('pause'));
      await timer;
      assert.deepEqual(order, ['pause', 'timer']);

      const v = new VersionClient(`unix://${address}`, grpc.credentials.createInsecure());
      const i = new IntrospectionClient(`unix://${address}`, grpc.credentials.createInsecure());
      let late: VersionClient | undefined;
      try {
        // Right after a call the loading waits until the client has been silent for a while.
        await unary((cb) => v.version({}, cb));
        const answered = performance.now();
        await s.pause();
        const waited = performance.now() - answered;
        assert.ok(waited >= quietMs / 2, `pause resolved ${waited.toFixed(1)} ms after the call`);

        // A client that keeps calling holds it back for maxPauseMs at most, and is answered meanwhile.
        let calling = true;
        let calls = 0;
        const loop = (async () => {
          for (const end = performance.now() + 5 * maxPauseMs; performance.now() < end; calls++) await unary((cb) => v.version({}, cb));
          calling = false;
        })();
        await unary((cb) => v.version({}, cb));
        const before = calls;
        await s.pause();
        assert.ok(calling, 'pause waited until the client stopped calling');
        assert.ok(calls > before, 'the client was answered while the loading paused');
        await loop;

        // The connections opened while loading are followed until `open`, not for their life.
        const sessions: ServerHttp2Session[] = [];
        if (s.server !== undefined) {
          for (const h of (s.server as unknown as { http2Servers: Map<Http2Server, unknown> }).http2Servers.keys()) h.on('session', (ss: ServerHttp2Session) => sessions.push(ss));
        }
        // Its own connection: grpc-js clients of one address share theirs otherwise.
        late = new VersionClient(`unix://${address}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
        await unary((cb) => late!.version({}, cb));
        if (s.server !== undefined) assert.equal(sessions.length, 1);
        const followed = sessions[0]?.listenerCount('stream') ?? 0;

        // A call held until `open` counts only when it arrives: the loading it waits for goes on.
        const held = unary((cb) => i.plugins({ filters: [] }, cb));
        await new Promise((r) => setTimeout(r, quietMs + 50));
        const order2: string[] = [];
        const timer2 = new Promise<void>((r) => setTimeout(() => (order2.push('timer'), r()), 10));
        await s.pause().then(() => order2.push('pause'));
        await timer2;
        assert.deepEqual(order2, ['pause', 'timer']);
        s.addServices([introspection]);
        await s.open();
        await held;
        if (s.server !== undefined) assert.equal(sessions[0]!.listenerCount('stream'), followed - 1, 'open stops following the connection');
        else assert.equal(s.own!.heard, undefined, 'open stops following the connections');
      } finally {
        v.close();
        i.close();
        late?.close();
      }
    }, false, { quietMs, maxPauseMs, server });
  });
}
