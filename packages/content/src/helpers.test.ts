import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf, UnavailableError } from '@ctrd/errdefs';
import { digestFromBytes } from './digest.js';
import { openWriter, readBlob, writeBlob } from './helpers.js';
import type { Ingester } from './store.js';
import { createMemoryContent } from './testsuite/memory-store.js';

test('openWriter retries while the ref is locked', async () => {
  const store = createMemoryContent().namespace('ns');
  const held = await store.writer({ ref: 'r' });
  setTimeout(() => void held.close(), 60);
  const started = Date.now();
  const w = await openWriter(store, { ref: 'r' });
  assert.ok(Date.now() - started >= 50, 'it waited for the holder');
  await w.close();
});

test('openWriter gives up when the signal aborts, with the lock error', async () => {
  const store = createMemoryContent().namespace('ns');
  const held = await store.writer({ ref: 'r' });
  const err = await openWriter(store, { ref: 'r' }, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
  assert.equal(codeOf(err), 'UNAVAILABLE');
  await held.close();
});

test('openWriter does not retry other errors', async () => {
  let calls = 0;
  const ing: Ingester = {
    writer: async () => {
      calls++;
      throw calls > 1 ? new Error('boom') : new UnavailableError('ref r locked');
    },
  };
  await assert.rejects(openWriter(ing, { ref: 'r' }), /boom/);
  assert.equal(calls, 2);
});

test('writeBlob resumes, accepts existing blobs and streams iterables', async () => {
  const store = createMemoryContent().namespace('ns');
  const data = new Uint8Array(Buffer.from('0123456789abcdef'));
  const digest = digestFromBytes(data);
  const w = await store.writer({ ref: 'x' });
  await w.write(data.subarray(0, 5));
  await w.close();
  async function* chunks(): AsyncIterable<Uint8Array> {
    for (let i = 0; i < data.length; i += 3) yield data.subarray(i, i + 3);
  }
  await writeBlob(store, 'x', chunks(), { digest, size: data.length }, { labels: { a: 'b' } });
  assert.deepEqual(await readBlob(store, { digest }), data);
  assert.deepEqual((await store.info(digest)).labels, { a: 'b' });
  await writeBlob(store, 'y', new Uint8Array(0), { digest });
  const other = digestFromBytes('something else');
  await assert.rejects(writeBlob(store, 'z', data, { digest: other }), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
  assert.equal((await store.status('z')).offset, data.length, 'the ingest stays for a retry');
});
