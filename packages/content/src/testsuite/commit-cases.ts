import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { digestFromBytes } from '../digest.js';
import { openWriter, writeBlob } from '../helpers.js';
import type { ContentStore } from '../store.js';
import { blob, readBack, rejectsWith, withWriter, type SuiteCase } from './harness.js';

async function refLocked(store: ContentStore, ref: string): Promise<void> {
  const err = await rejectsWith(store.writer({ ref }), 'UNAVAILABLE', `second writer on ${ref}`);
  assert.match(err.message, /locked/, 'the lock error says the ref is locked');
}

/** commitCases cover commit failures, existing content, aborts and the ref lock. */
export const commitCases: SuiteCase[] = [
  {
    name: 'commit: existing content is AlreadyExists and discards the ingest',
    async run({ store }) {
      const b = blob(256);
      await writeBlob(store, 'c1', b.data, { digest: b.digest });
      for (const [i, expected] of [b.digest, ''].entries()) {
        const ref = `c1-exists-${i}`;
        const w = await store.writer({ ref });
        await withWriter(w, async () => {
          await w.write(b.data);
          await rejectsWith(w.commit(b.data.length, expected), 'ALREADY_EXISTS', `commit ${i}`);
        });
        await rejectsWith(store.status(ref), 'NOT_FOUND', `ingest ${ref} after AlreadyExists`);
      }
      await rejectsWith(store.writer({ ref: 'c1-open', expected: b.digest }), 'ALREADY_EXISTS', 'open with an existing expected digest');
      await readBack(store, b, 'untouched blob');
    },
  },
  {
    name: 'commit: error states keep the ingest and release the lock',
    async run({ store }) {
      const c1 = blob(256);
      const other = blob(256);
      await writeBlob(store, 'c1', c1.data, { digest: c1.digest });
      const ref = 'c1-commit-error';
      const more = new Uint8Array([...c1.data, ...Buffer.from('more')]);

      let w = await store.writer({ ref });
      await w.write(c1.data);
      await refLocked(store, ref);
      await rejectsWith(w.commit(256, c1.digest), 'ALREADY_EXISTS', 'existing, digest given');
      await w.close();

      w = await store.writer({ ref });
      await refLocked(store, ref);
      await w.write(c1.data);
      await rejectsWith(w.commit(256, ''), 'ALREADY_EXISTS', 'existing, no digest');
      await w.close();

      w = await store.writer({ ref });
      await refLocked(store, ref);
      await w.write(more);
      await rejectsWith(w.commit(260, other.digest), 'FAILED_PRECONDITION', 'wrong digest');
      await w.close();

      w = await store.writer({ ref });
      await refLocked(store, ref);
      assert.equal((await w.status()).offset, 260, 'the ingest survived a failed commit');
      await rejectsWith(w.commit(256, ''), 'FAILED_PRECONDITION', 'wrong size');
      await w.close();

      w = await store.writer({ ref });
      await refLocked(store, ref);
      await w.commit(260, '');
      await w.close();
      await readBack(store, { data: more, digest: digestFromBytes(more) }, 'committed after errors');

      w = await store.writer({ ref });
      await w.write(c1.data);
      await refLocked(store, ref);
      await rejectsWith(w.commit(256, c1.digest), 'ALREADY_EXISTS', 'existing again');
      await w.close();

      w = await store.writer({ ref });
      await refLocked(store, ref);
      await w.close();
      w = await store.writer({ ref });
      await w.close();
    },
  },
  {
    name: 'commit: a failed ingest can be aborted',
    async run({ store }) {
      const b = blob(1000);
      const w = await store.writer({ ref: 'fail-abort' });
      await w.write(b.data);
      await rejectsWith(w.commit(999, ''), 'FAILED_PRECONDITION', 'wrong size');
      await rejectsWith(w.write(b.data), 'FAILED_PRECONDITION', 'write after commit');
      await w.close();
      assert.equal((await store.status('fail-abort')).offset, 1000, 'ingest kept');
      await store.abort('fail-abort');
      await rejectsWith(store.status('fail-abort'), 'NOT_FOUND', 'status after abort');
      await rejectsWith(store.info(b.digest), 'NOT_FOUND', 'nothing was committed');
    },
  },
  {
    name: 'abort: removes the ingest, and a new writer starts from zero',
    async run({ store }) {
      const b = blob(4096);
      const w = await store.writer({ ref: 'ab', total: 4096 });
      await w.write(b.data.subarray(0, 1000));
      await w.close();
      assert.ok((await store.listStatuses()).some((s) => s.ref === 'ab'), 'listed before abort');
      await store.abort('ab');
      await rejectsWith(store.status('ab'), 'NOT_FOUND', 'status after abort');
      assert.ok(!(await store.listStatuses()).some((s) => s.ref === 'ab'), 'not listed after abort');
      await rejectsWith(store.abort('ab'), 'NOT_FOUND', 'second abort');
      await rejectsWith(store.abort('never-opened'), 'NOT_FOUND', 'abort of an unknown ref');
      const w2 = await store.writer({ ref: 'ab' });
      await withWriter(w2, async () => {
        assert.equal((await w2.status()).offset, 0, 'fresh offset');
        await w2.write(b.data);
        await w2.commit(4096, b.digest);
      });
      await readBack(store, b, 'after abort');
    },
  },
  {
    name: 'writer: two writers on one ref — the second is Unavailable until the first closes',
    async run({ store }) {
      const b = blob(100);
      const w1 = await store.writer({ ref: 'busy' });
      await w1.write(b.data.subarray(0, 10));
      await refLocked(store, 'busy');
      const w3 = await store.writer({ ref: 'not-busy' });
      await w3.close();
      await w1.close();
      const w2 = await store.writer({ ref: 'busy' });
      assert.equal((await w2.status()).offset, 10, 'the second writer resumes');
      const waiting = openWriter(store, { ref: 'busy' });
      await delay(50);
      await w2.write(b.data.subarray(10));
      await w2.commit(100, b.digest);
      const w4 = await waiting;
      await w4.close();
      await rejectsWith(store.writer({ ref: '' }), 'INVALID_ARGUMENT', 'empty ref');
    },
  },
];
