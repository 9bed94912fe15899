import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMatcher, hostPlatform } from '@ctrd/remotes';
import { Kind } from '@ctrd/snapshots';
import { buildBusyboxImage } from './fixtures/busybox-image.js';
import { isUnpacked } from './image.js';
import { unpackImage, unpackKey, type UnpackOptions } from './unpack.js';
import { createFakeApplier, createFakeSnapshotter } from './testing/fakes.js';
import { haveBusybox, memoryStore } from './testing/setup.js';

async function setup(layers: 'single' | 'multi' = 'multi') {
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers, platforms: [hostPlatform(), { os: 'linux', architecture: 'arm64' }] });
  const snapshotter = createFakeSnapshotter();
  const applier = createFakeApplier(store);
  const opts: UnpackOptions = {
    provider: store,
    content: store,
    snapshotter,
    snapshotterName: 'fake',
    applier,
    target: img.target,
    matcher: defaultMatcher(),
  };
  return { store, img, snapshotter, applier, opts };
}

test('unpackKey has containerd\'s extract-<nanos>-<rand> <chainID> form', () => {
  const k = unpackKey('sha256:' + 'a'.repeat(64));
  assert.match(k, /^extract-\d+-[A-Za-z0-9_-]{4} sha256:a{64}$/);
  assert.notEqual(unpackKey('x'), unpackKey('x'));
});

test('unpackImage commits one snapshot per chain ID with labels on snapshots and blobs', async (t) => {
  if (!haveBusybox(t)) return;
  const { store, img, snapshotter, applier, opts } = await setup();
  const r = await unpackImage(opts);
  assert.equal(r.chainId, img.chainIds.at(-1));
  assert.deepEqual(r.layers.map((l) => l.applied), [true, true, true]);
  assert.deepEqual(applier.applied, img.layers.map((l) => l.digest));
  for (const [i, id] of img.chainIds.entries()) {
    const info = await snapshotter.stat(id);
    assert.equal(info.kind, Kind.Committed);
    assert.equal(info.parent, img.chainIds[i - 1]);
    assert.equal(info.labels['containerd.io/snapshot.ref'], id);
    const blob = await store.info(img.layers[i]!.digest);
    assert.equal(blob.labels['containerd.io/uncompressed'], img.diffIds[i]);
  }
  assert.equal([...snapshotter.records.values()].filter((s) => s.kind !== Kind.Committed).length, 0);
  const cfg = await store.info(img.manifests[0]!.configDesc.digest);
  assert.equal(cfg.labels['containerd.io/gc.ref.snapshot.fake'], img.chainIds.at(-1));
  assert.ok(snapshotter.calls.some((c) => c.startsWith('prepare extract-') && c.endsWith(` ${img.chainIds[0]}`)));
  assert.equal(await isUnpacked(store, snapshotter, img.target, defaultMatcher()), true);
});

test('unpackImage reuses layers already unpacked', async (t) => {
  if (!haveBusybox(t)) return;
  const { snapshotter, applier, opts, img } = await setup();
  await snapshotter.prepare('pre', undefined);
  await snapshotter.commit(img.chainIds[0]!, 'pre');
  const r = await unpackImage(opts);
  assert.deepEqual(r.layers.map((l) => l.applied), [false, true, true]);
  assert.equal(applier.applied.length, 2);
  const again = await unpackImage(opts);
  assert.deepEqual(again.layers.map((l) => l.applied), [false, false, false]);
  assert.equal(applier.applied.length, 2);
});

test('concurrent unpacks of the same image apply each layer once', async (t) => {
  if (!haveBusybox(t)) return;
  const { applier, opts, snapshotter, img } = await setup();
  applier.delayMs = 20;
  const results = await Promise.all([unpackImage(opts), unpackImage(opts), unpackImage(opts)]);
  assert.deepEqual(applier.applied, img.layers.map((l) => l.digest));
  for (const r of results) assert.equal(r.chainId, img.chainIds.at(-1));
  const applied = results.flatMap((r) => r.layers.filter((l) => l.applied)).length;
  assert.equal(applied, 3);
  assert.equal(snapshotter.records.size, 3);
});

test('a commit lost to another unpacker counts as success', async (t) => {
  if (!haveBusybox(t)) return;
  const { opts, snapshotter, img } = await setup('single');
  const commit = snapshotter.commit.bind(snapshotter);
  snapshotter.commit = async (name, key, o) => {
    // another process commits the same chain ID first
    await snapshotter.prepare('other', undefined);
    await commit(name, 'other');
    return commit(name, key, o);
  };
  const r = await unpackImage(opts);
  assert.deepEqual(r.layers.map((l) => l.applied), [false]);
  assert.deepEqual([...snapshotter.records.keys()], [img.chainIds[0]]);
});

test('a diffID mismatch removes the extraction snapshot and fails with FailedPrecondition', async (t) => {
  if (!haveBusybox(t)) return;
  const { store, opts, snapshotter, applier, img } = await setup();
  applier.forceDigest = 'sha256:' + '0'.repeat(64);
  await assert.rejects(unpackImage(opts), { code: 'FAILED_PRECONDITION', message: /wrong diff id/ });
  assert.equal(snapshotter.records.size, 0);
  assert.ok(snapshotter.calls.some((c) => c.startsWith('remove extract-')));
  const blob = await store.info(img.layers[0]!.digest);
  assert.equal(blob.labels['containerd.io/uncompressed'], undefined);
});

test('an apply failure removes the extraction snapshot and keeps lower layers', async (t) => {
  if (!haveBusybox(t)) return;
  const { opts, snapshotter, applier, img } = await setup();
  const apply = applier.apply.bind(applier);
  applier.apply = async (desc, mounts, o) => {
    if (desc.digest === img.layers[2]!.digest) throw new Error('disk full');
    return apply(desc, mounts, o);
  };
  await assert.rejects(unpackImage(opts), /disk full/);
  assert.deepEqual([...snapshotter.records.keys()].sort(), img.chainIds.slice(0, 2).sort());
});
