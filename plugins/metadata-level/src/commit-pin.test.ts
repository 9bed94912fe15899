import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestFromBytes, readBlob, writeBlob, type ContentStore, type Writer } from '@ctrd/content';
import { createLocalStore } from '@ctrd/content-local';
import { MemoryLevel } from 'memory-level';
import { openMetadataDB } from './metadata-db.js';

/** withCommitHook wraps `store` so that `hook` runs after each backend commit, before the commit returns. */
function withCommitHook(store: ContentStore, hook: () => Promise<unknown>): ContentStore {
  const wrapWriter = (w: Writer): Writer =>
    new Proxy(w, {
      get(target, key) {
        if (key === 'commit') {
          return async (...args: Parameters<Writer['commit']>) => {
            await target.commit(...args);
            await hook();
          };
        }
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return new Proxy(store, {
    get(target, key) {
      if (key === 'writer') return async (o: Parameters<ContentStore['writer']>[0]) => wrapWriter(await target.writer(o));
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

test('a collection between the backend commit and the record keeps the blob being committed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ctrd-commit-pin-'));
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  try {
    const collections: number[] = [];
    let armed = true;
    const backing = withCommitHook(await createLocalStore(join(root, 'content')), async () => {
      if (!armed) return;
      armed = false;
      // The commit holds no lock here: a collection runs now, with nothing referencing the blob yet.
      const stats = await db.gc.collect();
      collections.push(stats.backend.blobs);
    });
    const content = db.contentStore(backing);
    const bytes = new TextEncoder().encode('published before it is recorded');
    const digest = digestFromBytes(bytes);
    await writeBlob(content.forNamespace('ns'), 'ref-1', bytes, { digest, size: bytes.length });
    assert.deepEqual(collections, [0], 'the collection ran during the commit and removed no blob');
    assert.equal((await content.forNamespace('ns').info(digest)).size, bytes.length);
    assert.deepEqual(await readBlob(content.forNamespace('ns'), { digest, size: bytes.length }), bytes);
    // Once recorded the pin is gone: removing the record lets the next collection free the blob.
    await content.forNamespace('ns').delete(digest);
    assert.equal((await db.gc.collect()).backend.blobs, 1);
  } finally {
    await db.close();
    await rm(root, { recursive: true, force: true });
  }
});
