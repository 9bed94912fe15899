import assert from 'node:assert/strict';
import { EMPTY_DIGEST, digestFromBytes } from '../digest.js';
import { writeBlob } from '../helpers.js';
import type { ContentStore, Writer } from '../store.js';
import { assertBetween, blob, checkInfo, readBack, rejectsWith, withWriter, writeAll, type SuiteCase } from './harness.js';

const GC_ROOT = { 'containerd.io/gc.root': new Date().toISOString() };

async function writeCommitRead(store: ContentStore, size: number, chunk: number): Promise<void> {
  const b = blob(size);
  const w = await store.writer({ ref: `wcr-${size}`, total: size, expected: b.digest });
  await withWriter(w, async () => {
    await writeAll(w, b.data, chunk);
    assert.equal(w.digest(), b.digest, `${size} bytes: digest before commit`);
    const pre = Date.now();
    await w.commit(size, b.digest, { labels: GC_ROOT });
    const post = Date.now();
    assert.equal(w.digest(), b.digest, `${size} bytes: digest after commit`);
    await checkInfo(store, b.digest, { size, labels: GC_ROOT }, [pre, post], [pre, post], `${size} bytes`);
  });
  await readBack(store, b, `${size} bytes`);
  await rejectsWith(store.status(`wcr-${size}`), 'NOT_FOUND', 'the ingest is gone after commit');
}

type Check = { ref: string; total: number; expected: string; digest: string; offset: number };

async function checkStatus(w: Writer, want: Check, started: [number, number], updated: [number, number]): Promise<void> {
  const st = await w.status();
  assert.equal(w.digest(), want.digest, `${want.ref}@${want.offset}: digest`);
  assert.equal(st.ref, want.ref, 'status ref');
  assert.equal(st.offset, want.offset, 'status offset');
  assert.equal(st.total, want.total, 'status total');
  assert.equal(st.expected, want.expected, 'status expected');
  assertBetween(st.startedAt, started[0], started[1], 'status startedAt');
  assertBetween(st.updatedAt, updated[0], updated[1], 'status updatedAt');
}

/** writerCases cover opening, writing, status, resume, truncation and commit. */
export const writerCases: SuiteCase[] = [
  {
    name: 'writer: keeps nothing of a Buffer it was given once write resolves',
    async run({ store }) {
      // A producer may reuse or move a chunk's memory once its write is done (a pull moves its
      // download batches to the apply worker).
      const b = blob(64 * 1024 + 5);
      const w = await store.writer({ ref: 'no-keep', total: b.data.length, expected: b.digest });
      await withWriter(w, async () => {
        for (let off = 0; off < b.data.length; off += 16 * 1024) {
          const chunk = Buffer.from(b.data.subarray(off, off + 16 * 1024));
          await w.write(chunk);
          chunk.fill(0xee);
        }
        await w.commit(b.data.length, b.digest, { labels: GC_ROOT });
      });
      await readBack(store, b, 'after the caller overwrote its buffers');
    },
  },
  {
    name: 'writer: write, commit and read back blobs of several sizes',
    async run({ store }) {
      await writeCommitRead(store, 0, 1);
      await writeCommitRead(store, 1, 1);
      await writeCommitRead(store, 6, 4);
      await writeCommitRead(store, 256, 32);
      await writeCommitRead(store, 4 * 1024 * 1024 + 17, 256 * 1024 + 3);
    },
  },
  {
    name: 'writer: any mix of declared total and expected digest commits',
    async run({ store }) {
      const cases = [0, 1, 2, 3].map((i) => ({ i, b: blob(256) }));
      const writers: Writer[] = [];
      try {
        for (const { i, b } of cases) {
          writers.push(
            await store.writer({
              ref: `mix-${i}`,
              total: i & 1 ? 256 : undefined,
              expected: i & 2 ? b.digest : undefined,
            }),
          );
        }
        for (const { i, b } of cases) {
          const w = writers[i]!;
          await writeAll(w, b.data, 32);
          const pre = Date.now();
          await w.commit(0, '', { labels: GC_ROOT });
          const post = Date.now();
          assert.equal(w.digest(), b.digest);
          await checkInfo(store, b.digest, { size: 256, labels: GC_ROOT }, [pre, post], [pre, post], `writer ${i}`);
        }
      } finally {
        for (const w of writers) await w.close();
      }
    },
  },
  {
    name: 'writer: status follows each write',
    async run({ store }) {
      const b = blob(256);
      const preStart = Date.now();
      const w = await store.writer({ ref: 'status-1', total: 256, expected: b.digest });
      const postStart = Date.now();
      await withWriter(w, async () => {
        const want = { ref: 'status-1', total: 256, expected: b.digest, digest: EMPTY_DIGEST, offset: 0 };
        await checkStatus(w, want, [preStart, postStart], [preStart, postStart]);
        for (const end of [64, 192, 256]) {
          const pre = Date.now();
          await w.write(b.data.subarray(want.offset, end));
          const post = Date.now();
          Object.assign(want, { offset: end, digest: digestFromBytes(b.data.subarray(0, end)) });
          await checkStatus(w, want, [preStart, postStart], [pre, post]);
        }
        const pre = Date.now();
        await w.commit(0, '');
        await checkInfo(store, b.digest, { size: 256 }, [pre, Date.now()], [pre, Date.now()], 'committed');
      });
    },
  },
  {
    name: 'writer: a closed ingest resumes at its offset with its digest',
    async run({ store }) {
      const b = blob(256);
      const first = b.data.subarray(0, 128);
      const preStart = Date.now();
      const w1 = await store.writer({ ref: 'resume', total: 256, expected: b.digest });
      const postStart = Date.now();
      const pre = Date.now();
      await w1.write(first);
      const post = Date.now();
      const want = { ref: 'resume', total: 256, expected: b.digest, digest: digestFromBytes(first), offset: 128 };
      await checkStatus(w1, want, [preStart, postStart], [pre, post]);
      await w1.close();
      await w1.close();

      const st = await store.status('resume');
      assert.equal(st.offset, 128, 'store status offset after close');
      assert.equal(st.total, 256, 'store status total after close');

      const w2 = await store.writer({ ref: 'resume', total: 256, expected: b.digest });
      await withWriter(w2, async () => {
        await checkStatus(w2, want, [preStart, postStart], [pre, post]);
        const pre2 = Date.now();
        await w2.write(b.data.subarray(128));
        const post2 = Date.now();
        await checkStatus(w2, { ...want, offset: 256, digest: b.digest }, [preStart, postStart], [pre2, post2]);
        const preCommit = Date.now();
        await w2.commit(0, '');
        const postCommit = Date.now();
        await checkInfo(store, b.digest, { size: 256 }, [preCommit, postCommit], [preCommit, postCommit], 'resumed');
      });
      await readBack(store, b, 'resumed');
    },
  },
  {
    name: 'writer: resume after cut-offs by continuing, truncating or writeBlob',
    async run({ store }) {
      const modes = ['continue', 'truncate', 'writeBlob'] as const;
      let n = 0;
      for (const size of [500, 5000, 50000]) {
        for (const cut of [0, 0.1, 0.5, 0.9, 1]) {
          for (const mode of modes) {
            const b = blob(size);
            const limit = Math.floor(size * cut);
            const ref = `cut-${n++}`;
            const w = await store.writer({ ref, total: size, expected: b.digest });
            await withWriter(w, () => w.write(b.data.subarray(0, limit)));
            const pre = Date.now();
            if (mode === 'writeBlob') {
              await writeBlob(store, ref, b.data, { digest: b.digest, size });
            } else {
              const w2 = await store.writer({ ref, total: size, expected: b.digest });
              await withWriter(w2, async () => {
                assert.equal((await w2.status()).offset, limit, `${ref}: resumed offset`);
                if (mode === 'truncate') {
                  await w2.truncate(0);
                  await writeAll(w2, b.data, 1024);
                } else {
                  await writeAll(w2, b.data.subarray(limit), 1024);
                }
                await w2.commit(size, b.digest);
              });
            }
            const post = Date.now();
            await checkInfo(store, b.digest, { size }, [pre, post], [pre, post], `${ref} (${mode}, ${size}×${cut})`);
          }
        }
      }
    },
  },
  {
    name: 'writer: truncate(0) discards the data and restarts the digest',
    async run({ store }) {
      const junk = blob(3000);
      const b = blob(1000);
      const w = await store.writer({ ref: 'trunc' });
      await withWriter(w, async () => {
        await w.write(junk.data);
        assert.equal(w.digest(), junk.digest);
        await w.truncate(0);
        assert.equal((await w.status()).offset, 0, 'offset after truncate');
        await w.write(b.data);
        assert.equal((await w.status()).offset, 1000, 'offset after the rewrite');
        assert.equal(w.digest(), b.digest, 'digest covers only the rewrite');
        await w.commit(1000, b.digest);
      });
      await readBack(store, b, 'after truncate');
      const w2 = await store.writer({ ref: 'trunc-2' });
      await withWriter(w2, async () => {
        await w2.write(junk.data);
        await w2.close();
      });
      const w3 = await store.writer({ ref: 'trunc-2' });
      await withWriter(w3, async () => {
        await w3.truncate(0);
        await w3.write(b.data.subarray(0, 10));
        assert.equal(w3.digest(), digestFromBytes(b.data.subarray(0, 10)), 'resumed then truncated');
      });
    },
  },
];
