import assert from 'node:assert/strict';
import { writeBlob } from '../helpers.js';
import type { Info } from '../types.js';
import { blob, checkInfo, listDigests, rejectsWith, throwsWith, withWriter, type SuiteCase } from './harness.js';

const BAD_DIGESTS = ['', 'sha256', 'sha256:', 'sha256:abc', `sha256:${'G'.repeat(64)}`, `md5:${'a'.repeat(32)}`];

/** managerCases cover labels, listing, deletion and ingest listing. */
export const managerCases: SuiteCase[] = [
  {
    name: 'labels: set at commit, replaced by update, edited by field path',
    async run({ store }) {
      const b = blob(256);
      const root = new Date().toISOString();
      const labels: Record<string, string> = { k1: 'v1', k2: 'v2', 'containerd.io/gc.root': root };
      const w = await store.writer({ ref: 'labels', total: 256, expected: b.digest });
      const preCommit = Date.now();
      await withWriter(w, async () => {
        await w.write(b.data);
        await w.commit(0, '', { labels });
      });
      const postCommit = Date.now();
      const created: [number, number] = [preCommit, postCommit];
      await checkInfo(store, b.digest, { size: 256, labels }, created, created, 'after commit');

      const all = { k1: 'newvalue', k3: 'v3', 'containerd.io/gc.root': root };
      let pre = Date.now();
      const returned = await store.update({ digest: b.digest, labels: all });
      let post = Date.now();
      assert.deepEqual({ ...returned.labels }, all, 'update returns the new labels');
      await checkInfo(store, b.digest, { size: 256, labels: all }, created, [pre, post], 'replace all');

      pre = Date.now();
      await store.update({ digest: b.digest, labels: { k1: 'v1', k2: 'ignored' } }, ['labels.k3', 'labels.k1']);
      post = Date.now();
      const edited = { k1: 'v1', 'containerd.io/gc.root': root };
      await checkInfo(store, b.digest, { size: 256, labels: edited }, created, [pre, post], 'field paths');

      await store.update({ digest: b.digest, labels: { k1: '' } }, ['labels.k1']);
      assert.deepEqual({ ...(await store.info(b.digest)).labels }, { 'containerd.io/gc.root': root }, 'empty value deletes');
      await store.update({ digest: b.digest, labels: { a: 'b' } }, ['labels']);
      assert.deepEqual({ ...(await store.info(b.digest)).labels }, { a: 'b' }, 'the labels path replaces all');

      await rejectsWith(store.update({ digest: b.digest, labels: {} }, ['size']), 'INVALID_ARGUMENT', 'unknown path');
      const big = { huge: 'x'.repeat(4096) };
      await rejectsWith(store.update({ digest: b.digest, labels: big }), 'INVALID_ARGUMENT', 'oversized label');
      assert.deepEqual({ ...(await store.info(b.digest)).labels }, { a: 'b' }, 'failed updates change nothing');
      await rejectsWith(store.update({ digest: blob(1).digest, labels: {} }), 'NOT_FOUND', 'update of a missing blob');

      const c = blob(10);
      const w2 = await store.writer({ ref: 'labels-big' });
      await withWriter(w2, async () => {
        await w2.write(c.data);
        await rejectsWith(w2.commit(10, c.digest, { labels: big }), 'INVALID_ARGUMENT', 'oversized label at commit');
      });
      await rejectsWith(store.info(c.digest), 'NOT_FOUND', 'nothing committed with a bad label');

      const d = blob(20);
      const w3 = await store.writer({ ref: 'labels-at-open', labels: { from: 'open' } });
      await withWriter(w3, async () => {
        await w3.write(d.data);
        await w3.commit(20, d.digest);
      });
      assert.deepEqual({ ...(await store.info(d.digest)).labels }, { from: 'open' }, 'labels given at open apply at commit');
    },
  },
  {
    name: 'list and walk: all blobs, and filters by digest, size and labels',
    async run({ store }) {
      const a = blob(100);
      const b = blob(200);
      const c = blob(300);
      await writeBlob(store, 'a', a.data, { digest: a.digest }, { labels: { team: 'red', tier: 'one' } });
      await writeBlob(store, 'b', b.data, { digest: b.digest }, { labels: { team: 'blue' } });
      await writeBlob(store, 'c', c.data, { digest: c.digest });
      const sorted = (...ds: string[]): string[] => ds.sort();

      assert.deepEqual(await listDigests(store), sorted(a.digest, b.digest, c.digest), 'list all');
      assert.deepEqual(await listDigests(store, []), sorted(a.digest, b.digest, c.digest), 'empty filter list');
      assert.deepEqual(await listDigests(store, ['labels.team==red']), [a.digest], 'label equality');
      assert.deepEqual(await listDigests(store, ['labels.team']), sorted(a.digest, b.digest), 'label presence');
      assert.deepEqual(await listDigests(store, ['labels.team!=red']), sorted(b.digest, c.digest), 'label inequality (absent counts as "")');
      assert.deepEqual(await listDigests(store, ['labels.team==red,labels.tier==one']), [a.digest], 'conjunction');
      assert.deepEqual(await listDigests(store, ['labels.team==red', `digest==${c.digest}`]), sorted(a.digest, c.digest), 'disjunction');
      assert.deepEqual(await listDigests(store, [`digest==${b.digest}`]), [b.digest], 'digest');
      assert.deepEqual(await listDigests(store, ['size==300']), [c.digest], 'size');
      assert.deepEqual(await listDigests(store, ['labels.team~=^bl']), [b.digest], 'regexp');

      const walked: Info[] = [];
      await store.walk(async (info) => {
        walked.push(info);
      }, ['labels.team']);
      assert.deepEqual(walked.map((i) => i.digest).sort(), sorted(a.digest, b.digest), 'walk with a filter');
      const red = walked.find((i) => i.digest === a.digest)!;
      assert.equal(red.size, 100, 'walked size');
      assert.deepEqual({ ...red.labels }, { team: 'red', tier: 'one' }, 'walked labels');

      let count = 0;
      const stop = new Error('stop');
      await assert.rejects(
        store.walk(() => {
          count++;
          throw stop;
        }),
        (e: unknown) => e === stop,
        'an error from the callback ends the walk',
      );
      assert.equal(count, 1, 'the walk stopped at the first error');
      await rejectsWith(listDigests(store, ['==']), 'INVALID_ARGUMENT', 'malformed filter');
    },
  },
  {
    name: 'delete: the blob is gone and NotFound afterwards',
    async run({ store }) {
      const a = blob(1000);
      const b = blob(1000);
      await writeBlob(store, 'a', a.data, { digest: a.digest });
      await writeBlob(store, 'b', b.data, { digest: b.digest });
      await store.delete(a.digest);
      await rejectsWith(store.info(a.digest), 'NOT_FOUND', 'info after delete');
      await rejectsWith(store.readerAt({ digest: a.digest }), 'NOT_FOUND', 'reader after delete');
      await rejectsWith(store.delete(a.digest), 'NOT_FOUND', 'second delete');
      await rejectsWith(store.update({ digest: a.digest, labels: { x: 'y' } }), 'NOT_FOUND', 'update after delete');
      assert.deepEqual(await listDigests(store), [b.digest], 'the other blob stays');
      await writeBlob(store, 'a-again', a.data, { digest: a.digest });
      assert.equal((await store.info(a.digest)).size, 1000, 'the blob can be written again');
      assert.deepEqual({ ...(await store.info(a.digest)).labels }, {}, 'without old labels');
    },
  },
  {
    name: 'digests: malformed digests are InvalidArgument',
    async run({ store }) {
      for (const d of BAD_DIGESTS) {
        await throwsWith(() => store.info(d), 'INVALID_ARGUMENT', `info(${JSON.stringify(d)})`);
        await throwsWith(() => store.readerAt({ digest: d }), 'INVALID_ARGUMENT', `readerAt(${JSON.stringify(d)})`);
        await throwsWith(() => store.delete(d), 'INVALID_ARGUMENT', `delete(${JSON.stringify(d)})`);
      }
      const b = blob(10);
      await rejectsWith(store.info(b.digest), 'NOT_FOUND', 'a well-formed unknown digest');
    },
  },
  {
    name: 'ingests: status and listStatuses with filters',
    async run({ store }) {
      const b = blob(3000);
      const refs = ['pull-a-1', 'pull-a-2', 'push-b-1'];
      const pre = Date.now();
      for (const [i, ref] of refs.entries()) {
        const w = await store.writer({ ref, total: 3000 });
        await withWriter(w, () => w.write(b.data.subarray(0, (i + 1) * 100)));
      }
      const open = await store.writer({ ref: 'open-c', total: 3000 });
      await withWriter(open, async () => {
        await open.write(b.data.subarray(0, 42));
        const post = Date.now();
        const st = await store.status('pull-a-2');
        assert.equal(st.ref, 'pull-a-2');
        assert.equal(st.offset, 200);
        assert.equal(st.total, 3000);
        assert.ok(st.startedAt.getTime() >= pre && st.startedAt.getTime() <= post, 'startedAt');
        assert.ok(st.updatedAt.getTime() >= st.startedAt.getTime() - 1, 'updatedAt is not before startedAt');

        const refsOf = async (filters?: string[]): Promise<string[]> =>
          (await store.listStatuses(filters)).map((s) => s.ref).sort();
        assert.deepEqual(await refsOf(), [...refs, 'open-c'].sort(), 'all');
        assert.deepEqual(await refsOf(['']), [...refs, 'open-c'].sort(), 'the empty filter');
        assert.deepEqual(await refsOf(['ref==pull-a-1']), ['pull-a-1'], 'ref equality');
        assert.deepEqual(await refsOf(['ref~=^pull-']), ['pull-a-1', 'pull-a-2'], 'ref regexp');
        assert.deepEqual(await refsOf(['ref==push-b-1', 'ref==open-c']), ['open-c', 'push-b-1'], 'disjunction');
        const listed = (await store.listStatuses(['ref==open-c']))[0]!;
        assert.equal(listed.offset, 42, 'an open ingest reports its offset');
        await rejectsWith(store.status('nope'), 'NOT_FOUND', 'unknown ref');
      });
    },
  },
];
