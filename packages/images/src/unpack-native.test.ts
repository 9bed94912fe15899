import assert from 'node:assert/strict';
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Applier } from '@ctrd/diff';
import { defaultMatcher } from '@ctrd/remotes';
import type { Snapshotter } from '@ctrd/snapshots';
import { buildBusyboxImage } from './fixtures/busybox-image.js';
import { haveBusybox, memoryStore } from './testing/setup.js';
import { unpackImage } from './unpack.js';

// Loaded at run time so this package does not depend on the plugin packages to build.
async function load<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

test('unpack into the native snapshotter with the walking differ gives the layered tree', async (t) => {
  if (!haveBusybox(t)) return;
  if (process.getuid?.() !== 0) return t.skip('needs root to bind mount');
  const native = await load<{ createNativeSnapshotter(root: string): Promise<Snapshotter> }>('@ctrd/snapshotter-native');
  const walking = await load<{ createWalkingDiffer(store: unknown): Applier }>('@ctrd/differ-walking');
  if (!native || !walking) return t.skip('@ctrd/snapshotter-native or @ctrd/differ-walking is not built');
  const root = await mkdtemp(join(tmpdir(), 'ctrd-images-'));
  const sn = await native.createNativeSnapshotter(root);
  try {
    const store = memoryStore();
    const img = await buildBusyboxImage(store, { layers: 'multi' });
    const applier = walking.createWalkingDiffer(store);
    const r = await unpackImage({ provider: store, content: store, snapshotter: sn, snapshotterName: 'native', applier, target: img.target, matcher: defaultMatcher() });
    assert.equal(r.chainId, img.chainIds.at(-1));
    const again = await unpackImage({ provider: store, content: store, snapshotter: sn, snapshotterName: 'native', applier, target: img.target });
    assert.deepEqual(again.layers.map((l) => l.applied), [false, false, false]);
    // look at the top layer through a view
    const mounts = await sn.view('check', r.chainId);
    const dir = mounts[0]!.source;
    assert.equal(await readlink(join(dir, 'bin/sh')), '/bin/busybox');
    assert.equal((await stat(join(dir, 'bin/busybox'))).mode & 0o777, 0o755);
    await assert.rejects(stat(join(dir, 'etc/fixture/deleted')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dir, 'etc/fixture/opaque/old')), { code: 'ENOENT' });
    assert.equal(await readFile(join(dir, 'etc/fixture/opaque/new'), 'utf8'), 'new in layer 2\n');
    assert.equal(await readFile(join(dir, 'etc/fixture/added'), 'utf8'), 'replaced in layer 3\n');
    assert.equal(await readFile(join(dir, 'etc/fixture/kept'), 'utf8'), 'kept\n');
    await sn.remove('check');
  } finally {
    await sn.close();
    await rm(root, { recursive: true, force: true });
  }
});
