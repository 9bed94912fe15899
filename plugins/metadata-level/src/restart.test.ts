import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { MemoryLevel } from 'memory-level';
import { KEYS } from './keys.js';
import { openMetadataDB } from './metadata-db.js';
import type { ImageRecord, SnapshotRecord } from './records.js';
import { SCHEMA_VERSION, type Migration } from './schema.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const SPEC = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new Uint8Array([0, 1, 2, 255]) };

test('level on disk: records survive closing and reopening', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-metadata-level-disk-'));
  try {
    const db = await openMetadataDB(join(dir, 'meta.db'));
    await db.namespaces.create('k8s.io', { team: 'x' });
    await db.images.create('k8s.io', { name: 'docker.io/library/redis:7', labels: { a: 'b' }, target: { mediaType: 'm', digest: DIGEST, size: 7 } });
    await db.containers.create('default', { id: 'c1', runtime: { name: 'io.containerd.runc.v2' }, spec: SPEC, snapshotter: 'overlayfs', snapshotKey: 'c1' });
    await db.leases.create('default', { id: 'l1', labels: { 'containerd.io/gc.expire': '2999-01-01T00:00:00Z' } });
    await db.leases.addResource('default', 'l1', { type: 'snapshots/overlayfs', id: 'c1' });
    const created = await db.images.get('k8s.io', 'docker.io/library/redis:7');
    await db.close();

    const again = await openMetadataDB(join(dir, 'meta.db'));
    try {
      assert.deepEqual(again.migrated, []);
      assert.deepEqual((await again.namespaces.list()).map((n) => [n.name, n.labels]), [['default', {}], ['k8s.io', { team: 'x' }]]);
      assert.deepEqual(await again.images.get('k8s.io', 'docker.io/library/redis:7'), created);
      const c = await again.containers.get('default', 'c1');
      assert.deepEqual([...c.spec!.value], [0, 1, 2, 255]);
      assert.equal(c.snapshotKey, 'c1');
      assert.deepEqual(await again.leases.listResources('default', 'l1'), [{ type: 'snapshots/overlayfs', id: 'c1' }]);
    } finally {
      await again.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a new database is stamped with the current version', async () => {
  const level = new MemoryLevel<string, string>();
  const db = await openMetadataDB(level);
  assert.equal(db.schemaVersion, SCHEMA_VERSION);
  assert.deepEqual(JSON.parse((await level.get('version'))!), { schema: 'v1', version: SCHEMA_VERSION });
  await db.close();
});

test('migrations run in order on open, one step at a time', async () => {
  const level = new MemoryLevel<string, string>();
  const v1 = await openMetadataDB(level, { schemaVersion: 1 });
  await v1.images.create('ns', { name: 'img', target: { mediaType: 'm', digest: DIGEST, size: 1 } });
  await v1.close();

  const ran: string[] = [];
  const migrations: Migration[] = [
    {
      from: 2,
      to: 3,
      async run(tx) {
        ran.push('2->3');
        const r = await tx.get<ImageRecord>(KEYS.image('ns', 'img'));
        assert.equal(r?.labels.migrated, 'yes', 'sees the previous step');
        tx.put(KEYS.image('ns', 'img'), { ...r!, labels: { ...r!.labels, step: '3' } });
      },
    },
    {
      from: 1,
      to: 2,
      async run(tx) {
        ran.push('1->2');
        const r = await tx.get<ImageRecord>(KEYS.image('ns', 'img'));
        tx.put(KEYS.image('ns', 'img'), { ...r!, labels: { migrated: 'yes' } });
      },
    },
  ];
  const v3 = await openMetadataDB(level, { schemaVersion: 3, migrations });
  assert.deepEqual(ran, ['1->2', '2->3']);
  assert.deepEqual(v3.migrated, [2, 3]);
  assert.deepEqual((await v3.images.get('ns', 'img')).labels, { migrated: 'yes', step: '3' });
  await v3.close();
});

test('a failed migration leaves the database at the last good version', async () => {
  const level = new MemoryLevel<string, string>();
  await (await openMetadataDB(level, { schemaVersion: 1 })).close();
  const migrations: Migration[] = [
    { from: 1, to: 2, run: async (tx) => tx.put('marker', 2) },
    { from: 2, to: 3, run: async (tx) => { tx.put('marker', 3); throw new Error('boom'); } },
  ];
  await assert.rejects(openMetadataDB(level, { schemaVersion: 3, migrations }), /boom/);
  await level.open();
  assert.deepEqual(JSON.parse((await level.get('version'))!), { schema: 'v1', version: 2 });
  assert.equal(await level.get('marker'), '2');
  await level.close();
});

test('a database newer than the code, or without a migration path, is refused', async () => {
  const level = new MemoryLevel<string, string>();
  await (await openMetadataDB(level)).close();
  await level.open();
  await level.put('version', JSON.stringify({ schema: 'v1', version: 9 }));
  await level.close();
  const newer = await openMetadataDB(level).catch((e: unknown) => e);
  assert.equal(codeOf(newer), 'FAILED_PRECONDITION');
  assert.match(String(newer), /version 9/);
  await level.open();
  await level.put('version', JSON.stringify({ schema: 'v1', version: 1 }));
  await level.close();
  const nopath = await openMetadataDB(level, { schemaVersion: 2, migrations: [] }).catch((e: unknown) => e);
  assert.equal(codeOf(nopath), 'FAILED_PRECONDITION');
});

test('version 2 indexes the children of every snapshot recorded at version 1', async () => {
  const level = new MemoryLevel<string, string>();
  await (await openMetadataDB(level, { schemaVersion: 1 })).close();
  // Records as version 1 wrote them: a chain base <- mid <- top, and a second child of base.
  const now = new Date().toISOString();
  const rec = (name: string, parent?: string): SnapshotRecord => ({ name, kind: 'committed', labels: {}, createdAt: now, updatedAt: now, ...(parent ? { parent } : {}) });
  await level.open();
  await level.batch([
    { type: 'put', key: KEYS.snapshot('ns', 'native', 'base'), value: JSON.stringify(rec('ns/1/base')) },
    { type: 'put', key: KEYS.snapshot('ns', 'native', 'mid'), value: JSON.stringify(rec('ns/2/mid', 'base')) },
    { type: 'put', key: KEYS.snapshot('ns', 'native', 'top'), value: JSON.stringify(rec('ns/3/top', 'mid')) },
    { type: 'put', key: KEYS.snapshot('ns', 'native', 'side'), value: JSON.stringify(rec('ns/4/side', 'base')) },
  ]);
  await level.close();

  const db = await openMetadataDB(level);
  assert.deepEqual(db.migrated, [2]);
  const children: string[] = [];
  for await (const k of level.keys({ gte: KEYS.snapshotters('ns'), lt: `${KEYS.snapshotters('ns')}\x01` })) {
    if (k.includes('\x00children\x00')) children.push(k.split('\x00').slice(4).join('/'));
  }
  assert.deepEqual(children.sort(), ['base/children/mid', 'base/children/side', 'mid/children/top']);
  await db.close();
});
