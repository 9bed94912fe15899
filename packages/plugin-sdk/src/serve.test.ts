import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RemoteContentStore, RemoteSnapshotter } from '@ctrd/client';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { createMemoryContent } from './testsuite/index.js';
import { isNotFound, isNotImplemented, Kind, serveContentStore, serveSnapshotter, type Snapshotter } from './index.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ctrd-sdk-serve-'));
}

test('serveSnapshotter answers whatever snapshotter name and namespace the caller sends', async () => {
  const dir = await tempDir();
  const sn = await createNativeSnapshotter(join(dir, 'native'));
  const seen: Array<[string, string | undefined]> = [];
  const srv = await serveSnapshotter(sn, `unix://${join(dir, 'sub', 'sn.sock')}`, { onCall: (m, ns) => seen.push([m, ns]) });
  const conn = connect(srv.address, { namespace: 'team-a' });
  try {
    assert.equal((await stat(srv.address)).mode & 0o777, 0o660);
    const a = new RemoteSnapshotter(conn, 'whatever');
    const mounts = await a.prepare('k1', undefined, { labels: { x: '1' } });
    assert.equal(mounts[0]!.type, 'bind');
    await a.commit('c1', 'k1');
    const b = new RemoteSnapshotter(conn.withNamespace(''), 'another-name');
    assert.equal((await b.stat('c1')).kind, Kind.Committed, 'one snapshotter behind every name');
    await assert.rejects(b.stat('nope'), isNotFound);
    assert.deepEqual(seen.slice(0, 3), [
      ['/containerd.services.snapshots.v1.Snapshots/Prepare', 'team-a'],
      ['/containerd.services.snapshots.v1.Snapshots/Commit', 'team-a'],
      ['/containerd.services.snapshots.v1.Snapshots/Stat', undefined],
    ]);
  } finally {
    conn.close();
    await srv.close();
    await sn.close();
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(stat(srv.address), { code: 'ENOENT' }, 'close removes the socket');
});

test('Cleanup is NotImplemented for a snapshotter without it', async () => {
  const dir = await tempDir();
  const native = await createNativeSnapshotter(join(dir, 'native'));
  const plain: Snapshotter = new Proxy(native, { get: (t, p, r) => (p === 'cleanup' ? undefined : Reflect.get(t, p, r)) });
  const srv = await serveSnapshotter(plain, join(dir, 'sn.sock'));
  const conn = connect(srv.address);
  try {
    await assert.rejects(new RemoteSnapshotter(conn, 'x').cleanup(), isNotImplemented);
  } finally {
    conn.close();
    await srv.close();
    await native.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('serveContentStore serves calls with or without a namespace header', async () => {
  const dir = await tempDir();
  const store = createMemoryContent().namespace('any');
  const seen: Array<string | undefined> = [];
  const srv = await serveContentStore(store, join(dir, 'cs.sock'), { onCall: (_m, ns) => seen.push(ns) });
  const conn = connect(srv.address, { namespace: 'x' });
  try {
    const remote = new RemoteContentStore(conn);
    const w = await remote.writer({ ref: 'r1' });
    await w.write(Buffer.from('hello'));
    await w.commit(5, 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    const bare = remote.withScope({ namespace: '' });
    assert.equal((await bare.info('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')).size, 5);
    assert.ok(seen.includes('x'));
    assert.equal(seen.at(-1), undefined, 'the last call carried no namespace and was served');
  } finally {
    conn.close();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
