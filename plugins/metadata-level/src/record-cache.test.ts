import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLevel } from 'memory-level';
import { MetaCore } from './core.js';
import { RecordCache } from './record-cache.js';

test('a read that began before a write is not kept; the oldest records go past either bound', () => {
  const c = new RecordCache({ entries: 2 });
  const era = c.era;
  c.forget(['k']);
  c.keep('k', { v: 1 }, 10, era);
  assert.equal(c.lookup('k'), undefined);
  c.keep('a', { v: 1 }, 10, c.era);
  c.keep('b', { v: 2 }, 10, c.era);
  c.keep('c', { v: 3 }, 10, c.era);
  assert.equal(c.lookup('a'), undefined);
  assert.deepEqual(c.lookup('c'), { v: 3 });
  assert.equal(c.size, 2);

  const b = new RecordCache({ bytes: 100 });
  b.keep('a', { v: 1 }, 40, b.era);
  b.keep('b', { v: 2 }, 40, b.era);
  b.keep('a', { v: 3 }, 30, b.era); // kept again: its old size is not counted twice
  assert.equal(b.bytes, 70);
  b.keep('c', { v: 4 }, 50, b.era); // b, the oldest now, goes
  assert.equal(b.lookup('b'), undefined);
  assert.deepEqual([b.lookup('a'), b.lookup('c'), b.bytes], [{ v: 3 }, { v: 4 }, 80]);
  b.keep('huge', { v: 5 }, 101, b.era);
  assert.equal(b.lookup('huge'), undefined);
  b.forget(['a', 'c']);
  assert.deepEqual([b.size, b.bytes], [0, 0]);
});

test('records kept are frozen all the way down', () => {
  const c = new RecordCache();
  c.keep('k', { labels: { a: 'b' }, target: { annotations: { x: 'y' } } }, 60, c.era);
  const r = c.lookup('k') as { labels: Record<string, string>; target: { annotations: Record<string, string> } };
  assert.throws(() => (r.labels.a = 'changed'), TypeError);
  assert.throws(() => (r.target.annotations.z = 'new'), TypeError);
});

test('MetaCore.get sees every committed write, and a failed batch leaves no stale record', async () => {
  const db = new MemoryLevel<string, string>();
  const core = new MetaCore(db, () => new Date(0));
  await core.write(async (tx) => tx.put('k', { v: 1 }));
  assert.deepEqual(await core.get('k'), { v: 1 });
  assert.deepEqual(await core.get('k'), { v: 1 });
  await core.write(async (tx) => tx.put('k', { v: 2 }));
  assert.deepEqual(await core.get('k'), { v: 2 });
  await core.write(async (tx) => tx.del('k'));
  assert.equal(await core.get('k'), undefined);

  await core.write(async (tx) => tx.put('k', { v: 3 }));
  assert.deepEqual(await core.get('k'), { v: 3 });
  // A batch that fails after reaching the database: the record read next comes from it.
  const batch = db.batch.bind(db);
  (db as { batch: unknown }).batch = async (...args: Parameters<typeof batch>) => {
    await batch(...args);
    throw new Error('disk went away');
  };
  await assert.rejects(core.write(async (tx) => tx.put('k', { v: 4 })), /disk went away/);
  (db as { batch: unknown }).batch = batch;
  assert.deepEqual(await core.get('k'), { v: 4 });
  await db.close();
});
