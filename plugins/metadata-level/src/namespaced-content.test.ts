import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { digestFromBytes, writeBlob } from '@ctrd/content';
import { codeOf, isAlreadyExists } from '@ctrd/errdefs';
import { openTestDB, type TestDB } from './fixture-db.js';
import { createNamespacedContentStore } from './namespaced-content.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function withDB(fn: (t: TestDB) => Promise<void>): Promise<void> {
  const t = await openTestDB();
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

describe('namespaced content', () => {
  test('content written under a lease is held by it: the ingest while open, the blob once committed', () =>
    withDB(async (t) => {
      await t.db.leases.create('ns', { id: 'pull' });
      const store = t.content.forNamespace('ns', { lease: 'pull' });
      const data = enc('layer bytes');
      const w = await store.writer({ ref: 'layer-1', total: data.length });
      await w.write(data);
      assert.deepEqual(await t.db.leases.listResources('ns', 'pull'), [{ type: 'ingests', id: 'layer-1' }]);
      await w.commit(data.length, digestFromBytes(data));
      assert.deepEqual(await t.db.leases.listResources('ns', 'pull'), [{ type: 'content', id: digestFromBytes(data) }]);
    }));

  test('a writer under a missing lease is NotFound and leaves no ingest', () =>
    withDB(async (t) => {
      const store = t.content.forNamespace('ns', { lease: 'nope' });
      assert.equal(codeOf(await store.writer({ ref: 'r' }).catch((e: unknown) => e)), 'NOT_FOUND');
      assert.deepEqual(await t.content.forNamespace('ns').listStatuses(), []);
      assert.deepEqual(await t.content.backing.listStatuses(), []);
    }));

  test('opening a writer for content the namespace has adds it to the lease and is AlreadyExists', () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'present');
      await t.db.leases.create('ns', { id: 'l' });
      const err = await t.content.forNamespace('ns', { lease: 'l' }).writer({ ref: 'again', expected: d }).catch((e: unknown) => e);
      assert.ok(isAlreadyExists(err));
      assert.deepEqual(await t.db.leases.listResources('ns', 'l'), [{ type: 'content', id: d }]);
    }));

  test('backend ingest refs are namespaced as <ns>/<n>/<ref>', () =>
    withDB(async (t) => {
      const w1 = await t.content.forNamespace('alpha').writer({ ref: 'same' });
      const w2 = await t.content.forNamespace('beta').writer({ ref: 'same' });
      await w1.write(enc('a'));
      await w2.write(enc('bb'));
      const refs = (await t.content.backing.listStatuses()).map((s) => s.ref).sort();
      assert.equal(refs.length, 2);
      assert.match(refs[0]!, /^alpha\/\d+\/same$/);
      assert.match(refs[1]!, /^beta\/\d+\/same$/);
      await w1.close();
      await w2.close();
    }));

  test('labels live in metadata, per namespace; the backend blob carries none', () =>
    withDB(async (t) => {
      const data = enc('labelled');
      const d = digestFromBytes(data);
      await writeBlob(t.content.forNamespace('a'), 'r', data, { digest: d }, { labels: { who: 'a' } });
      await writeBlob(t.content.forNamespace('b'), 'r', data, { digest: d }, { labels: { who: 'b' } });
      assert.deepEqual((await t.content.forNamespace('a').info(d)).labels, { who: 'a' });
      assert.deepEqual((await t.content.forNamespace('b').info(d)).labels, { who: 'b' });
      assert.deepEqual((await t.content.backing.info(d)).labels, {});
    }));

  test('a commit of bytes another namespace already stored only adds the reference', () =>
    withDB(async (t) => {
      const data = enc('same bytes, no expected digest');
      const d = await t.addBlob('a', data);
      const w = await t.content.forNamespace('b').writer({ ref: 'plain' });
      await w.write(data);
      await w.commit(data.length);
      assert.equal((await t.content.forNamespace('b').info(d)).size, data.length);
    }));

  test('delete drops only the reference; the blob goes at collection time', () =>
    withDB(async (t) => {
      const d = await t.addBlob('ns', 'to delete');
      await t.content.forNamespace('ns').delete(d);
      assert.equal((await t.content.backing.info(d)).digest, d);
      await t.db.gc.collect();
      assert.equal(codeOf(await t.content.backing.info(d).catch((e: unknown) => e)), 'NOT_FOUND');
    }));

  test('delete and abort under a lease release what the lease held', () =>
    withDB(async (t) => {
      await t.db.leases.create('ns', { id: 'l' });
      const d = await t.addBlob('ns', 'held', undefined, 'l');
      const store = t.content.forNamespace('ns', { lease: 'l' });
      const w = await store.writer({ ref: 'pending' });
      await w.close();
      assert.equal((await t.db.leases.listResources('ns', 'l')).length, 2);
      await store.delete(d);
      await store.abort('pending');
      assert.deepEqual(await t.db.leases.listResources('ns', 'l'), []);
    }));

  test('a shared ingest can be aborted and leaves nothing behind', () =>
    withDB(async (t) => {
      const d = await t.addBlob('a', 'shared');
      const b = t.content.forNamespace('b');
      const w = await b.writer({ ref: 'share', expected: d });
      assert.equal((await b.status('share')).expected, d);
      await w.close();
      await b.abort('share');
      assert.equal(codeOf(await b.status('share').catch((e: unknown) => e)), 'NOT_FOUND');
      assert.deepEqual(await t.content.backing.listStatuses(), []);
    }));

  test('a namespace view needs a valid namespace', () =>
    withDB(async (t) => {
      assert.throws(() => t.content.forNamespace(''), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
      assert.throws(() => t.content.forNamespace('no spaces'), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT');
    }));
});

describe('content sharing policy', () => {
  test('shared: a namespace takes a blob another one stored by naming its digest', () =>
    withDB(async (t) => {
      const data = enc('shared bytes');
      const digest = await t.addBlob('a', data);
      const w = await t.content.forNamespace('b').writer({ ref: 'r', expected: digest, total: data.length });
      assert.equal((await w.status()).offset, data.length);
      await w.commit(data.length, digest);
      assert.equal((await t.content.forNamespace('b').info(digest)).size, data.length);
    }));

  test('isolated: the digest alone is not enough, the bytes must be written and verified', () =>
    withDB(async (t) => {
      const data = enc('isolated bytes');
      const digest = await t.addBlob('a', data);
      const isolated = createNamespacedContentStore(t.db.core, t.content.backing, 'isolated').forNamespace('b');
      const w = await isolated.writer({ ref: 'r', expected: digest, total: data.length });
      assert.equal((await w.status()).offset, 0);
      assert.notEqual(codeOf(await w.commit(data.length, digest).catch((e: unknown) => e)), undefined);
      assert.equal(codeOf(await isolated.info(digest).catch((e: unknown) => e)), 'NOT_FOUND');
      const w2 = await isolated.writer({ ref: 'r2', expected: digest, total: data.length });
      await w2.write(enc('isolated bytez'));
      assert.equal(codeOf(await w2.commit(data.length, digest).catch((e: unknown) => e)), 'FAILED_PRECONDITION');
      const w3 = await isolated.writer({ ref: 'r3', expected: digest, total: data.length });
      await w3.write(data);
      await w3.commit(data.length, digest);
      assert.equal((await isolated.info(digest)).size, data.length);
    }));
});
