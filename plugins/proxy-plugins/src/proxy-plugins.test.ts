import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInvalidArgument, isUnavailable } from '@ctrd/errdefs';
import { Kernel, PluginType } from '@ctrd/plugin';
import { serveSnapshotter } from '@ctrd/plugin-sdk';
import type { Snapshotter } from '@ctrd/snapshots';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { forwardedNamespace, ProxySnapshotter, proxyPluginRegistrations, proxyTypeOf } from './index.js';

test('forwardedNamespace reads the namespace of a metadata backend key', () => {
  assert.equal(forwardedNamespace('default/12/extract-1 sha256:abc'), 'default');
  assert.equal(forwardedNamespace('k8s.io/3/a/b/c'), 'k8s.io');
  assert.equal(forwardedNamespace('plain-key'), undefined);
  assert.equal(forwardedNamespace('ns/notanumber/key'), undefined);
  assert.equal(forwardedNamespace('Bad Namespace!/1/key'), undefined);
  assert.equal(forwardedNamespace(undefined), undefined);
});

test('proxy types are read as containerd reads them', () => {
  assert.equal(proxyTypeOf('snapshot'), PluginType.Snapshot);
  assert.equal(proxyTypeOf('io.containerd.snapshotter.v1'), PluginType.Snapshot);
  assert.equal(proxyTypeOf('content'), PluginType.Content);
  assert.equal(proxyTypeOf('io.containerd.content.v1'), PluginType.Content);
  assert.throws(() => proxyTypeOf('diff'), isInvalidArgument);
});

test('each table registers a plugin that loads while its server is down and fails Unavailable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-proxy-'));
  const regs = proxyPluginRegistrations({
    fast: { type: 'snapshot', address: join(dir, 'nobody.sock') },
    blobs: { type: 'content', address: join(dir, 'nobody.sock'), platform: 'linux/arm64/v8' },
  });
  assert.deepEqual(regs.map((r) => `${r.type}.${r.id}`), ['io.containerd.snapshotter.v1.fast', 'io.containerd.content.v1.blobs']);
  const kernel = new Kernel({ registrations: regs, root: join(dir, 'root'), state: join(dir, 'state'), hostPlatform: { os: 'linux', architecture: 'amd64' } });
  try {
    await kernel.init();
    const [sn, cs] = kernel.records();
    assert.equal(sn!.status, 'ok');
    assert.equal(sn!.meta.exports.address, join(dir, 'nobody.sock'));
    assert.deepEqual(sn!.meta.platforms, [{ os: 'linux', architecture: 'amd64' }]);
    assert.deepEqual(cs!.meta.platforms, [{ os: 'linux', architecture: 'arm64', variant: 'v8' }]);
    await assert.rejects((sn!.instance as Snapshotter).stat('x'), isUnavailable);
  } finally {
    await kernel.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('calls forward the namespace of the request they serve, and the proxy name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-proxy-'));
  const backend = await createNativeSnapshotter(join(dir, 'native'));
  const seen: Array<[string, string | undefined]> = [];
  const names: string[] = [];
  const wrapped: Snapshotter = new Proxy(backend, {
    get: (t, p, r) => (p === 'prepare' ? (key: string, ...rest: []) => (names.push(key), t.prepare(key, ...rest)) : Reflect.get(t, p, r)),
  });
  const srv = await serveSnapshotter(wrapped, join(dir, 'sn.sock'), { onCall: (m, ns) => seen.push([m.split('/').pop()!, ns]) });
  const [reg] = proxyPluginRegistrations({ mine: { type: 'snapshot', address: srv.address } });
  const kernel = new Kernel({ registrations: [reg!], root: join(dir, 'root'), state: join(dir, 'state') });
  try {
    await kernel.init();
    const sn = kernel.records()[0]!.instance as ProxySnapshotter;
    assert.equal(sn.name, 'mine');
    await sn.prepare('team-a/1/work', undefined);
    await sn.commit('team-a/2/layer', 'team-a/1/work');
    await sn.prepare('team-b/3/other', 'team-a/2/layer');
    await sn.walk(() => {});
    await sn.remove('team-b/3/other');
    assert.deepEqual(seen, [
      ['Prepare', 'team-a'],
      ['Commit', 'team-a'],
      ['Prepare', 'team-b'],
      ['List', undefined],
      ['Remove', 'team-b'],
    ]);
    assert.deepEqual(names, ['team-a/1/work', 'team-b/3/other'], 'keys reach the backend unchanged');
  } finally {
    await kernel.close();
    await srv.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
});
