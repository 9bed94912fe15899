import assert from 'node:assert/strict';
import { isAlreadyExists } from '@ctrd/errdefs';
import { digestFromBytes } from '../digest.js';
import { writeBlob } from '../helpers.js';
import type { ContentStore } from '../store.js';
import { blob, listDigests, readBack, rejectsWith, withWriter, type SuiteCase, type SuiteFixture } from './harness.js';

function pair(fx: SuiteFixture): [ContentStore, ContentStore] {
  const ns = fx.namespaced!;
  return [ns('suite-a'), ns('suite-b')];
}

async function commitShared(commit: Promise<void>): Promise<void> {
  try {
    await commit;
  } catch (err) {
    // Clients treat AlreadyExists as success; stores may report the shared blob that way.
    if (!isAlreadyExists(err)) throw err;
  }
}

/** namespaceCases need `namespaced`: blobs are shared across namespaces but visible only once committed there. */
export const namespaceCases: SuiteCase[] = [
  {
    name: 'namespaces: a blob is invisible in another namespace until committed there, without re-upload',
    async run(fx) {
      const [a, b] = pair(fx);
      const size = 1000;
      const x = blob(size);
      await writeBlob(a, 'ref-1000', x.data, { digest: x.digest, size });

      await rejectsWith(b.info(x.digest), 'NOT_FOUND', 'info in the other namespace');
      await rejectsWith(b.readerAt({ digest: x.digest }), 'NOT_FOUND', 'reader in the other namespace');
      await rejectsWith(b.delete(x.digest), 'NOT_FOUND', 'delete in the other namespace');
      assert.ok(!(await listDigests(b)).includes(x.digest), 'not listed in the other namespace');

      const w = await b.writer({ ref: 'ref-1000', total: size, expected: x.digest });
      await withWriter(w, async () => {
        const st = await w.status();
        assert.equal(st.offset, size, 'the shared blob needs no upload');
        assert.equal(st.total, size);
        await commitShared(w.commit(size, x.digest));
      });
      assert.equal((await b.info(x.digest)).size, size, 'visible after the commit');
      await readBack(b, x, 'read in the second namespace');
      await rejectsWith(b.writer({ ref: 'again', expected: x.digest }), 'ALREADY_EXISTS', 'now it exists there');

      await b.delete(x.digest);
      await rejectsWith(b.info(x.digest), 'NOT_FOUND', 'deleted in the second namespace');
      await readBack(a, x, 'still in the first namespace');
    },
  },
  {
    name: 'namespaces: appending to a blob shared from another namespace',
    async run(fx) {
      const [a, b] = pair(fx);
      const size = 1000;
      const x = blob(size);
      await writeBlob(a, 'ref-append', x.data, { digest: x.digest, size });
      const extra = new TextEncoder().encode('appended bytes');
      const longer = new Uint8Array([...x.data, ...extra]);
      const d2 = digestFromBytes(longer);

      const w = await b.writer({ ref: 'ref-append', total: size, expected: x.digest });
      await withWriter(w, async () => {
        assert.equal((await w.status()).offset, size, 'starts at the shared size');
        await w.write(extra);
        await w.commit(longer.length, d2);
      });
      await readBack(b, { data: longer, digest: d2 }, 'appended blob');
      await rejectsWith(b.info(x.digest), 'NOT_FOUND', 'the original was not committed in the second namespace');
      await rejectsWith(a.info(d2), 'NOT_FOUND', 'the appended blob is not in the first namespace');
      await readBack(a, x, 'original intact');
    },
  },
  {
    name: 'namespaces: ingests are per namespace',
    async run(fx) {
      const [a, b] = pair(fx);
      const wa = await a.writer({ ref: 'same-ref' });
      await withWriter(wa, async () => {
        await wa.write(new Uint8Array(10));
        const wb = await b.writer({ ref: 'same-ref' });
        await withWriter(wb, async () => {
          assert.equal((await wb.status()).offset, 0, 'a separate ingest');
          await wb.write(new Uint8Array(3));
        });
        assert.deepEqual((await a.listStatuses()).map((s) => [s.ref, s.offset]), [['same-ref', 10]]);
        assert.deepEqual((await b.listStatuses()).map((s) => [s.ref, s.offset]), [['same-ref', 3]]);
      });
      await b.abort('same-ref');
      assert.equal((await a.status('same-ref')).offset, 10, 'aborting in one namespace leaves the other');
      await a.abort('same-ref');
    },
  },
];
