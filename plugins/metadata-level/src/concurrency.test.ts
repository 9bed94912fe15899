import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { MemoryLevel } from 'memory-level';
import { openMetadataDB } from './metadata-db.js';

const TARGET = { mediaType: 'm', digest: `sha256:${'cd'.repeat(32)}`, size: 3 };

test('racing creates of one name: exactly one wins, the rest are AlreadyExists', async () => {
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => db.images.create('ns', { name: 'img', labels: { i: String(i) }, target: TARGET })),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal(codeOf(r.reason), 'ALREADY_EXISTS');
  await db.close();
});

test('concurrent single-label updates are all kept', async () => {
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  await db.images.create('ns', { name: 'img', target: TARGET });
  await Promise.all(
    Array.from({ length: 25 }, (_, i) => db.images.update('ns', { name: 'img', labels: { [`k${i}`]: 'v' }, target: TARGET }, [`labels.k${i}`])),
  );
  assert.equal(Object.keys((await db.images.get('ns', 'img')).labels).length, 25);
  await db.close();
});

test('a rejected change writes nothing, not even the namespace', async () => {
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  await assert.rejects(db.images.create('fresh', { name: 'x', target: { ...TARGET, size: 0 } }));
  await assert.rejects(db.leases.addResource('fresh', 'missing', { type: 'ingests', id: 'r' }));
  assert.deepEqual(await db.namespaces.list(), []);
  await db.close();
});

test('a resource change on a missing lease is NotFound whatever the resource, as in containerd', async () => {
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  for (const resource of [{ type: 'ingests', id: 'r' }, { type: 'bogus', id: 'x' }, { type: 'snapshots/', id: '' }]) {
    assert.equal(codeOf(await db.leases.addResource('ns', 'missing', resource).catch((e: unknown) => e)), 'NOT_FOUND');
    assert.equal(codeOf(await db.leases.deleteResource('ns', 'missing', resource).catch((e: unknown) => e)), 'NOT_FOUND');
  }
  await db.close();
});
