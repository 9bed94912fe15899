import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNotFound } from '@ctrd/errdefs';
import { openTestDB, type TestDB } from './fixture-db.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SPEC = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new Uint8Array([123, 125]) };
const HOUR = 3600_000;

async function withDB(fn: (t: TestDB, clock: { now: number }) => Promise<void>): Promise<void> {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const t = await openTestDB({ now: () => new Date(clock.now) });
  try {
    await fn(t, clock);
  } finally {
    await t.close();
  }
}

/** has reports whether namespace `ns` still references blob `digest`. */
async function has(t: TestDB, ns: string, digest: string): Promise<boolean> {
  try {
    await t.content.forNamespace(ns).info(digest);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function inBackend(t: TestDB, digest: string): Promise<boolean> {
  try {
    await t.content.backing.info(digest);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function image(t: TestDB, ns: string, name: string, digest: string, labels: Record<string, string> = {}): Promise<void> {
  await t.db.images.create(ns, { name, labels, target: { mediaType: MANIFEST, digest, size: 1 } });
}

describe('garbage collection', () => {
  test('an unreferenced blob goes from metadata and from the backend', () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'orphan');
      assert.ok(await has(t, 'ns', d));
      const stats = await t.db.gc.collect();
      assert.equal(await has(t, 'ns', d), false);
      assert.equal(await inBackend(t, d), false);
      assert.equal(stats.removed.content, 1);
      assert.equal(stats.backend.blobs, 1);
      assert.ok(stats.totalMs >= stats.metaMs);
    }));

  test('root: an image keeps its target until the image is deleted', () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'manifest');
      await image(t, 'ns', 'img', d);
      await t.db.gc.collect();
      assert.ok(await has(t, 'ns', d));
      await t.db.images.delete('ns', 'img');
      assert.equal(t.db.isDirty, true);
      await t.db.gc.collect();
      assert.equal(t.db.isDirty, false);
      assert.equal(await has(t, 'ns', d), false);
      assert.equal(await inBackend(t, d), false);
    }));

  test('root: a container keeps its snapshot and labelled content; deleting it frees them', () =>
    withDB(async (t) => {
      const kept = await t.addBlob('ns', 'checkpoint');
      await t.putSnapshot('ns', 'overlayfs', 'c1-rootfs');
      await t.db.containers.create('ns', {
        id: 'c1',
        runtime: { name: 'io.containerd.runc.v2' },
        spec: SPEC,
        snapshotter: 'overlayfs',
        snapshotKey: 'c1-rootfs',
        labels: { 'containerd.io/gc.ref.content.checkpoint': kept },
      });
      await t.db.gc.collect();
      assert.ok(await t.hasSnapshot('ns', 'overlayfs', 'c1-rootfs'));
      assert.ok(await has(t, 'ns', kept));
      await t.db.containers.delete('ns', 'c1');
      await t.db.gc.collect();
      assert.equal(await t.hasSnapshot('ns', 'overlayfs', 'c1-rootfs'), false);
      assert.equal(await has(t, 'ns', kept), false);
    }));

  test("a deleted container's content stays while an image still references it", () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'shared');
      await image(t, 'ns', 'img', d);
      await t.db.containers.create('ns', {
        id: 'c1',
        runtime: { name: 'r' },
        spec: SPEC,
        labels: { 'containerd.io/gc.ref.content': d },
      });
      await t.db.containers.delete('ns', 'c1');
      await t.db.gc.collect();
      assert.ok(await has(t, 'ns', d));
    }));

  test('root: a lease keeps its content, ingests and snapshots until deleted', () =>
    withDB(async (t) => {
      await t.db.leases.create('ns', { id: 'l1' });
      const d = await t.addBlob('ns', 'leased');
      await t.putSnapshot('ns', 'native', 'snap');
      const w = await t.content.forNamespace('ns', { lease: 'l1' }).writer({ ref: 'pulling' });
      await w.write(new TextEncoder().encode('partial'));
      await w.close();
      await t.db.leases.addResource('ns', 'l1', { type: 'content', id: d });
      await t.db.leases.addResource('ns', 'l1', { type: 'snapshots/native', id: 'snap' });
      const stats = await t.db.gc.collect();
      assert.equal(stats.removed.content + stats.removed.snapshots + stats.removed.ingests + stats.removed.leases, 0);
      assert.ok(await has(t, 'ns', d));
      assert.ok(await t.hasSnapshot('ns', 'native', 'snap'));
      assert.equal((await t.content.forNamespace('ns').status('pulling')).offset, 7);
      await t.db.leases.delete('ns', 'l1');
      const after = await t.db.gc.collect();
      assert.deepEqual(after.removed, { leases: 0, content: 1, ingests: 1, snapshots: 1 });
      assert.equal(after.backend.ingests, 1);
      assert.deepEqual(await t.content.forNamespace('ns').listStatuses(), []);
      assert.deepEqual(await t.content.backing.listStatuses(), []);
    }));

  test('root: containerd.io/gc.root keeps a blob and a snapshot', () =>
    withDB(async (t) => {
      const root = await t.addBlob('ns', 'root', { 'containerd.io/gc.root': '2030-01-01T00:00:00Z' });
      const plain = await t.addBlob('ns', 'plain');
      await t.putSnapshot('ns', 'overlayfs', 'rooted', { labels: { 'containerd.io/gc.root': 'yes' } });
      await t.putSnapshot('ns', 'overlayfs', 'loose');
      await t.db.gc.collect();
      assert.ok(await has(t, 'ns', root));
      assert.equal(await has(t, 'ns', plain), false);
      assert.ok(await t.hasSnapshot('ns', 'overlayfs', 'rooted'));
      assert.equal(await t.hasSnapshot('ns', 'overlayfs', 'loose'), false);
    }));

  test('root: an ingest lives until it expires, and keeps the blob it shares', () =>
    withDB(async (t, clock) => {
      const d = await t.addBlob('other', 'shared blob');
      const ns = t.content.forNamespace('ns');
      const w = await ns.writer({ ref: 'shared', expected: d });
      await w.close();
      await t.db.images.delete('other', 'missing').catch(() => {});
      await t.content.forNamespace('other').delete(d);
      await t.db.gc.collect();
      assert.ok(await inBackend(t, d), 'the live ingest keeps the shared blob');
      assert.equal((await ns.status('shared')).offset, 'shared blob'.length);
      clock.now += 25 * HOUR;
      const stats = await t.db.gc.collect();
      assert.equal(stats.removed.ingests, 1);
      assert.equal(await inBackend(t, d), false);
      assert.deepEqual(await ns.listStatuses(), []);
    }));

  test('references: every form of containerd.io/gc.ref.content is followed; lookalikes are not', () =>
    withDB(async (t) => {
      const bare = await t.addBlob('ns', 'bare');
      const dot = await t.addBlob('ns', 'dot');
      const slash = await t.addBlob('ns', 'slash');
      const lookalike = await t.addBlob('ns', 'lookalike');
      const top = await t.addBlob('ns', 'top', {
        'containerd.io/gc.ref.content': bare,
        'containerd.io/gc.ref.content.config': dot,
        'containerd.io/gc.ref.content/l.0': slash,
        'containerd.io/gc.ref.contentx': lookalike,
      });
      await image(t, 'ns', 'img', top);
      await t.db.gc.collect();
      for (const d of [top, bare, dot, slash]) assert.ok(await has(t, 'ns', d), d);
      assert.equal(await has(t, 'ns', lookalike), false);
    }));

  test('references: gc.ref.snapshot.<snapshotter>[/<suffix>] and snapshot parents are followed', () =>
    withDB(async (t) => {
      await t.putSnapshot('ns', 'overlayfs', 'base');
      await t.putSnapshot('ns', 'overlayfs', 'mid', { parent: 'base' });
      await t.putSnapshot('ns', 'overlayfs', 'top', { parent: 'mid' });
      await t.putSnapshot('ns', 'native', 'other');
      await t.putSnapshot('ns', 'overlayfs', 'unrelated');
      const config = await t.addBlob('ns', 'config', {
        'containerd.io/gc.ref.snapshot.overlayfs': 'top',
        'containerd.io/gc.ref.snapshot.native/extra': 'other',
      });
      await image(t, 'ns', 'img', config);
      await t.db.gc.collect();
      for (const k of ['base', 'mid', 'top']) assert.ok(await t.hasSnapshot('ns', 'overlayfs', k), k);
      assert.ok(await t.hasSnapshot('ns', 'native', 'other'));
      assert.equal(await t.hasSnapshot('ns', 'overlayfs', 'unrelated'), false);
    }));

  test("references: a snapshot's own gc.ref labels are followed", () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'from snapshot');
      await t.putSnapshot('ns', 'overlayfs', 's', { labels: { 'containerd.io/gc.root': '1', 'containerd.io/gc.ref.content.x': d } });
      await t.db.gc.collect();
      assert.ok(await has(t, 'ns', d));
    }));

  test('references: a whole image chain survives, index to snapshots', () =>
    withDB(async (t) => {
      await t.putSnapshot('ns', 'overlayfs', 'chain0');
      await t.putSnapshot('ns', 'overlayfs', 'chain1', { parent: 'chain0' });
      const layer = await t.addBlob('ns', 'layer');
      const config = await t.addBlob('ns', 'config', { 'containerd.io/gc.ref.snapshot.overlayfs': 'chain1' });
      const manifest = await t.addBlob('ns', 'manifest', {
        'containerd.io/gc.ref.content.config': config,
        'containerd.io/gc.ref.content.l.0': layer,
      });
      const index = await t.addBlob('ns', 'index', { 'containerd.io/gc.ref.content.m.0': manifest });
      const stray = await t.addBlob('ns', 'stray');
      await image(t, 'ns', 'img', index);
      const stats = await t.db.gc.collect();
      for (const d of [index, manifest, config, layer]) assert.ok(await has(t, 'ns', d));
      assert.ok(await t.hasSnapshot('ns', 'overlayfs', 'chain0'));
      assert.equal(await has(t, 'ns', stray), false);
      assert.equal(stats.removed.content, 1);
    }));

  test('gc.flat: a flat lease keeps only what it lists, but snapshot parents still', () =>
    withDB(async (t) => {
      await t.db.leases.create('ns', { id: 'flat', labels: { 'containerd.io/gc.flat': 'true' } });
      const child = await t.addBlob('ns', 'child');
      const parent = await t.addBlob('ns', 'parent', { 'containerd.io/gc.ref.content.c': child });
      await t.putSnapshot('ns', 'overlayfs', 'p');
      await t.putSnapshot('ns', 'overlayfs', 's', { parent: 'p' });
      const labelled = await t.addBlob('ns', 'labelled');
      await t.putSnapshot('ns', 'overlayfs', 'ref-target');
      await t.putSnapshot('ns', 'overlayfs', 'x', { labels: { 'containerd.io/gc.ref.content': labelled, 'containerd.io/gc.ref.snapshot.overlayfs': 'ref-target' } });
      await t.db.leases.addResource('ns', 'flat', { type: 'content', id: parent });
      await t.db.leases.addResource('ns', 'flat', { type: 'snapshots/overlayfs', id: 's' });
      await t.db.leases.addResource('ns', 'flat', { type: 'snapshots/overlayfs', id: 'x' });
      await t.db.gc.collect();
      assert.ok(await has(t, 'ns', parent));
      assert.equal(await has(t, 'ns', child), false, 'labels of flat content are not followed');
      assert.ok(await t.hasSnapshot('ns', 'overlayfs', 'p'), 'parents of flat snapshots are followed');
      assert.equal(await has(t, 'ns', labelled), false, 'labels of flat snapshots are not followed');
      assert.equal(await t.hasSnapshot('ns', 'overlayfs', 'ref-target'), false);
    }));

  test('gc.flat: content reached both flat and normally has its references followed', () =>
    withDB(async (t) => {
      await t.db.leases.create('ns', { id: 'flat', labels: { 'containerd.io/gc.flat': '1' } });
      const child = await t.addBlob('ns', 'child');
      const parent = await t.addBlob('ns', 'parent', { 'containerd.io/gc.ref.content.c': child });
      await t.db.leases.addResource('ns', 'flat', { type: 'content', id: parent });
      await image(t, 'ns', 'img', parent);
      await t.db.gc.collect();
      assert.ok(await has(t, 'ns', child));
    }));

  test('gc.expire: an expired lease is removed with what it alone held; a live one is kept', () =>
    withDB(async (t, clock) => {
      await t.db.leases.create('ns', { id: 'past', labels: { 'containerd.io/gc.expire': '2029-12-31T23:00:00Z' } });
      await t.db.leases.create('ns', { id: 'future', labels: { 'containerd.io/gc.expire': '2030-01-01T01:00:00Z' } });
      await t.db.leases.create('ns', { id: 'garbled', labels: { 'containerd.io/gc.expire': 'not a time' } });
      const a = await t.addBlob('ns', 'a', undefined, 'past');
      const b = await t.addBlob('ns', 'b', undefined, 'future');
      const c = await t.addBlob('ns', 'c', undefined, 'garbled');
      let stats = await t.db.gc.collect();
      assert.equal(stats.removed.leases, 1);
      assert.deepEqual((await t.db.leases.list('ns')).map((l) => l.id).sort(), ['future', 'garbled']);
      assert.equal(await has(t, 'ns', a), false);
      assert.ok(await has(t, 'ns', b));
      assert.ok(await has(t, 'ns', c), 'an unparsable expiry is ignored');
      clock.now += 2 * HOUR;
      stats = await t.db.gc.collect();
      assert.equal(stats.removed.leases, 1);
      assert.equal(await has(t, 'ns', b), false);
    }));

  test('namespaces are collected separately; the backend blob stays while any namespace holds it', () =>
    withDB(async (t) => {
      const d = await t.addBlob('a', 'same bytes');
      await t.addBlob('b', 'same bytes');
      await image(t, 'a', 'img', d);
      await t.db.gc.collect();
      assert.ok(await has(t, 'a', d));
      assert.equal(await has(t, 'b', d), false);
      assert.ok(await inBackend(t, d));
    }));

  test('removed snapshots are handed to their snapshotter collector', () =>
    withDB(async (t) => {
      const seen: string[] = [];
      t.db.gc.registerSnapshotCollector('overlayfs', async (removed) => {
        for (const r of removed) seen.push(`${r.namespace} ${r.key} ${r.name}`);
        return removed.length;
      });
      await t.putSnapshot('ns', 'overlayfs', 'gone', { name: 'ns/7/gone' });
      await t.putSnapshot('ns', 'native', 'also-gone');
      const stats = await t.db.gc.collect();
      assert.deepEqual(seen, ['ns gone ns/7/gone']);
      assert.deepEqual(stats.backend.snapshots, { overlayfs: 1 });
      assert.equal(stats.removed.snapshots, 2);
    }));

  test('the sweep removes every unreachable record in one batch', () =>
    withDB(async (t) => {
      for (const s of ['a', 'b', 'c']) await t.addBlob('ns', s);
      await t.putSnapshot('ns', 'overlayfs', 's1');
      await t.db.leases.create('ns', { id: 'old', labels: { 'containerd.io/gc.expire': '2000-01-01T00:00:00Z' } });
      const level = t.level as unknown as { batch: (...args: unknown[]) => Promise<void> };
      const original = level.batch.bind(level);
      let batches = 0;
      level.batch = (...args: unknown[]) => {
        batches++;
        return original(...args);
      };
      const stats = await t.db.gc.collect();
      level.batch = original;
      assert.equal(batches, 1);
      assert.deepEqual(stats.removed, { leases: 1, content: 3, ingests: 0, snapshots: 1 });
    }));

  test('mutation callbacks hear of changes and whether a collection is due', () =>
    withDB(async (t) => {
      const calls: boolean[] = [];
      const off = t.db.onMutation((dirty) => calls.push(dirty));
      const d = await t.addBlob('ns', 'x');
      await image(t, 'ns', 'img', d);
      await t.db.images.delete('ns', 'img');
      off();
      await t.db.images.create('ns', { name: 'after', target: { mediaType: MANIFEST, digest: d, size: 1 } });
      assert.equal(calls.at(-1), true);
      assert.ok(calls.includes(false));
      assert.equal(calls.length >= 3, true);
    }));
});

describe('updates and the dirty mark', () => {
  test('an update that only adds references or other labels leaves nothing to collect; dropping one does', () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'config');
      const child = await t.addBlob('ns', 'layer');
      await image(t, 'ns', 'img', d);
      const view = t.content.forNamespace('ns');
      const ref = 'containerd.io/gc.ref.content.l.0';
      await view.update({ digest: d, labels: { [ref]: child } }, ['labels']);
      await t.db.gc.collect();
      assert.equal(await has(t, 'ns', child), true, 'held by the label');
      assert.equal(t.db.isDirty, false);
      await view.update({ digest: d, labels: { [ref]: child, 'containerd.io/gc.ref.content.l.1': d, note: 'x' } }, ['labels']);
      await t.db.images.update('ns', { name: 'img', labels: { a: 'b' }, target: { mediaType: MANIFEST, digest: d, size: 1 } }, ['labels']);
      assert.equal(t.db.isDirty, false, 'added references and plain labels');
      await view.update({ digest: d, labels: { note: 'x' } }, ['labels']);
      assert.equal(t.db.isDirty, true, 'a dropped reference');
      const stats = await t.db.gc.collect();
      assert.equal(await has(t, 'ns', child), false, 'the collection takes what the dropped label held');
      assert.equal(stats.removed.content, 1);
      const other = await t.addBlob('ns', 'other manifest');
      assert.equal(t.db.isDirty, false, 'a new blob');
      await t.db.images.update('ns', { name: 'img', target: { mediaType: MANIFEST, digest: other, size: 1 } }, ['target']);
      assert.equal(t.db.isDirty, true, 'a new image target');
    }));
});
