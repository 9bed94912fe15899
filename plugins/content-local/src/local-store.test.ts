import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { digestFromBytes, readBlob, writeBlob } from '@ctrd/content';
import { createLocalStore, type LocalContentStore } from './local-store.js';

const MiB = 1024 * 1024;
const hexOf = (d: string): string => d.slice('sha256:'.length);
const refDir = (root: string, ref: string): string => join(root, 'ingest', createHash('sha256').update(ref).digest('hex'));

async function codeFrom(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return codeOf(err);
  }
  return 'OK';
}

describe('local store', () => {
  let root: string;
  let store: LocalContentStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'ctrd-content-local-'));
    store = await createLocalStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('uses containerd layout for ingests and blobs', async () => {
    const data = randomBytes(5000);
    const digest = digestFromBytes(data);
    const w = await store.writer({ ref: 'layer-1', total: 5000, expected: digest });
    await w.write(data.subarray(0, 1000));
    const dir = refDir(root, 'layer-1');
    assert.deepEqual((await readdir(dir)).sort(), ['data', 'expected', 'ref', 'startedat', 'total', 'updatedat']);
    assert.equal(await readFile(join(dir, 'ref'), 'utf8'), 'layer-1');
    assert.equal(await readFile(join(dir, 'total'), 'utf8'), '5000');
    assert.equal((await stat(join(dir, 'data'))).size, 1000);
    await w.write(data.subarray(1000));
    await w.commit(5000, digest, { labels: { a: 'b' } });

    const blob = join(root, 'blobs', 'sha256', hexOf(digest));
    const st = await stat(blob);
    assert.equal(st.size, 5000);
    assert.equal(st.mode & 0o222, 0, 'committed blobs are read-only');
    assert.deepEqual(await readFile(blob), data);
    const sidecar = JSON.parse(await readFile(join(root, 'info', 'sha256', `${hexOf(digest)}.json`), 'utf8'));
    assert.deepEqual(sidecar.labels, { a: 'b' });
    assert.deepEqual(await readdir(join(root, 'ingest')), [], 'the ingest directory is removed');
  });

  test('a new instance on the same root sees blobs, labels and resumable ingests', async () => {
    const a = randomBytes(3 * MiB + 5);
    const b = randomBytes(2 * MiB);
    const da = digestFromBytes(a);
    const db = digestFromBytes(b);
    await writeBlob(store, 'a', a, { digest: da }, { labels: { keep: 'me' } });
    const infoBefore = await store.info(da);
    const w = await store.writer({ ref: 'b', total: b.length, expected: db });
    await w.write(b.subarray(0, MiB + 7));
    await w.close();

    const again = await createLocalStore(root);
    const info = await again.info(da);
    assert.deepEqual(info, infoBefore, 'same info, times included');
    assert.deepEqual((await readBlob(again, { digest: da })).length, a.length);
    const st = await again.status('b');
    assert.deepEqual([st.ref, st.offset, st.total, st.expected], ['b', MiB + 7, b.length, db]);
    const w2 = await again.writer({ ref: 'b', total: b.length, expected: db });
    assert.equal(w2.digest(), digestFromBytes(b.subarray(0, MiB + 7)), 'digest rebuilt from disk');
    await w2.write(b.subarray(MiB + 7));
    await w2.commit(b.length, db);
    assert.equal(digestFromBytes(await readBlob(store, { digest: db })), db, 'the first instance sees it too');
  });

  test('resumes an ingest left by a crashed process', async () => {
    const data = randomBytes(10000);
    const digest = digestFromBytes(data);
    const dir = refDir(root, 'crashed');
    await mkdir(dir);
    await writeFile(join(dir, 'ref'), 'crashed');
    await writeFile(join(dir, 'startedat'), '2024-05-06T07:08:09.123456789+02:00');
    await writeFile(join(dir, 'data'), data.subarray(0, 4321));
    const st = await store.status('crashed');
    assert.equal(st.offset, 4321);
    assert.equal(st.startedAt.toISOString(), '2024-05-06T05:08:09.123Z', 'Go timestamps with nanoseconds parse');
    assert.deepEqual((await store.listStatuses()).map((s) => s.ref), ['crashed']);
    await writeBlob(store, 'crashed', data, { digest, size: data.length });
    assert.equal(digestFromBytes(await readBlob(store, { digest })), digest);

    const broken = refDir(root, 'half-created');
    await mkdir(broken);
    await writeFile(join(broken, 'data'), 'junk');
    assert.deepEqual(await store.listStatuses(), [], 'an ingest without its ref file is not listed');
    const w = await store.writer({ ref: 'half-created' });
    assert.equal((await w.status()).offset, 0, 'and is started afresh');
    await w.close();

    // Killed between creating the ref file and writing it.
    const empty = refDir(root, 'empty-ref');
    await mkdir(empty);
    await writeFile(join(empty, 'ref'), '');
    await writeFile(join(empty, 'data'), 'junk');
    assert.deepEqual((await store.listStatuses()).map((s) => s.ref), ['half-created'], 'an ingest with an empty ref file is not listed');
    await assert.rejects(store.status('empty-ref'), (err: unknown) => codeOf(err) === 'NOT_FOUND');
    const w2 = await store.writer({ ref: 'empty-ref' });
    assert.equal((await w2.status()).offset, 0, 'and is started afresh');
    await w2.write(Buffer.from('new'));
    await w2.close();
    assert.equal((await store.status('empty-ref')).offset, 3);
  });

  test('a different declared total restarts the ingest', async () => {
    const w = await store.writer({ ref: 'r', total: 100 });
    await w.write(randomBytes(50));
    await w.close();
    const w2 = await store.writer({ ref: 'r', total: 200 });
    assert.deepEqual([(await w2.status()).offset, (await w2.status()).total], [0, 200]);
    await w2.close();
  });

  test('leftovers of a crash never surface as blobs', async () => {
    const data = randomBytes(100);
    const digest = digestFromBytes(data);
    const sidecar = join(root, 'info', 'sha256', `${hexOf(digest)}.json`);
    await writeFile(sidecar, JSON.stringify({ createdAt: '2020-01-01T00:00:00Z', updatedAt: '2020-01-01T00:00:00Z', labels: { stale: 'x' } }));
    await writeFile(join(root, 'info', 'sha256', '.abc.tmp'), 'partial');
    await writeFile(join(root, 'blobs', 'sha256', 'not-a-digest'), 'x');
    await mkdir(join(root, 'blobs', 'sha512'));
    assert.equal(await codeFrom(store.info(digest)), 'NOT_FOUND', 'a sidecar alone is no blob');
    const listed: string[] = [];
    for await (const i of store.list()) listed.push(i.digest);
    assert.deepEqual(listed, []);
    const pre = Date.now();
    await writeBlob(store, 'x', data, { digest });
    const info = await store.info(digest);
    assert.deepEqual(info.labels, {}, 'the stale sidecar is replaced');
    assert.ok(info.createdAt.getTime() >= pre);
  });

  test('a failed commit publishes nothing', async () => {
    const data = randomBytes(100);
    const w = await store.writer({ ref: 'bad' });
    await w.write(data);
    assert.equal(await codeFrom(w.commit(100, digestFromBytes(randomBytes(100)))), 'FAILED_PRECONDITION');
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(root, 'info', 'sha256')), []);
    assert.equal((await store.status('bad')).offset, 100);
  });

  test('blobs without a sidecar take their times from the file and accept labels', async () => {
    const data = Buffer.from('placed by another tool');
    const digest = digestFromBytes(data);
    const path = join(root, 'blobs', 'sha256', hexOf(digest));
    await writeFile(path, data);
    const when = new Date('2023-03-04T05:06:07.250Z');
    await utimes(path, when, when);
    const info = await store.info(digest);
    assert.deepEqual([info.size, info.createdAt.toISOString(), info.updatedAt.toISOString(), info.labels], [data.length, when.toISOString(), when.toISOString(), {}]);
    const updated = await store.update({ digest, labels: { x: 'y' } });
    assert.equal(updated.createdAt.toISOString(), when.toISOString());
    assert.deepEqual((await store.info(digest)).labels, { x: 'y' });
  });

  test('the lock message reads like containerd', async () => {
    const w = await store.writer({ ref: 'busy' });
    const err = await store.writer({ ref: 'busy' }).catch((e: Error) => e);
    assert.ok(err instanceof Error);
    assert.equal(codeOf(err), 'UNAVAILABLE');
    assert.match(err.message, /^ref busy locked for \d+(\.\d+)?(ns|µs|ms|s) \(since \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
    await w.close();
    const other = await createLocalStore(root);
    const w2 = await other.writer({ ref: 'busy' });
    assert.equal(await codeFrom(store.writer({ ref: 'busy' })), 'UNAVAILABLE', 'instances on one root share locks');
    await w2.close();
  });

  test('concurrent commits of one digest: one wins, the others are AlreadyExists', async () => {
    const data = randomBytes(256 * 1024);
    const digest = digestFromBytes(data);
    const results = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const w = await store.writer({ ref: `race-${i}` });
        await w.write(data);
        return codeFrom(w.commit(data.length, digest));
      }),
    );
    assert.deepEqual(results.sort(), ['ALREADY_EXISTS', 'ALREADY_EXISTS', 'ALREADY_EXISTS', 'OK']);
    assert.equal(digestFromBytes(await readBlob(store, { digest })), digest);
    assert.deepEqual(await store.listStatuses(), []);
  });

  test('writes issued without waiting land in order', async () => {
    const data = randomBytes(100 * 1000);
    const w = await store.writer({ ref: 'burst' });
    const pending: Promise<void>[] = [];
    for (let i = 0; i < data.length; i += 1000) pending.push(w.write(data.subarray(i, i + 1000)));
    const commit = w.commit(data.length, digestFromBytes(data));
    await Promise.all(pending);
    await commit;
    assert.deepEqual(Buffer.from(await readBlob(store, { digest: digestFromBytes(data) })), data);
  });

  test('truncate to a shorter size keeps the prefix and its digest', async () => {
    const data = randomBytes(1000);
    const w = await store.writer({ ref: 't' });
    await w.write(data);
    await w.truncate(400);
    assert.equal(w.digest(), digestFromBytes(data.subarray(0, 400)));
    assert.equal((await w.status()).offset, 400);
    assert.equal(await codeFrom(w.truncate(401)), 'INVALID_ARGUMENT');
    await w.write(data.subarray(400));
    await w.commit(1000, digestFromBytes(data));
  });

  test('abort under an open writer makes its commit fail without a blob', async () => {
    const data = randomBytes(1000);
    const w = await store.writer({ ref: 'gone' });
    await w.write(data);
    await store.abort('gone');
    assert.equal(await codeFrom(w.commit(1000, '')), 'NOT_FOUND');
    assert.equal(await codeFrom(store.info(digestFromBytes(data))), 'NOT_FOUND');
    assert.equal(await codeFrom(w.close()), 'OK');
    const w2 = await store.writer({ ref: 'gone' });
    await w2.close();
  });

  test('closed writers refuse work', async () => {
    const w = await store.writer({ ref: 'c' });
    await w.close();
    await w.close();
    assert.equal(await codeFrom(w.write(Buffer.from('x'))), 'FAILED_PRECONDITION');
    assert.equal(await codeFrom(w.commit(0, '')), 'FAILED_PRECONDITION');
    assert.equal(await codeFrom(w.truncate(0)), 'FAILED_PRECONDITION');
  });

  test('streams large blobs in chunks of the configured size, at least 1 MiB', async () => {
    const data = randomBytes(3 * MiB + MiB / 2);
    const digest = digestFromBytes(data);
    await writeBlob(store, 's', data, { digest });
    const sizes = async (s: LocalContentStore): Promise<number[]> => {
      const ra = await s.readerAt({ digest });
      const out: number[] = [];
      for await (const c of ra.stream()) out.push(c.length);
      await ra.close();
      return out;
    };
    assert.deepEqual(await sizes(store), [MiB, MiB, MiB, MiB / 2]);
    assert.deepEqual(await sizes(await createLocalStore(root, { readChunkSize: 4 * MiB })), [data.length]);
    assert.deepEqual(await sizes(await createLocalStore(root, { readChunkSize: 1000 })), [MiB, MiB, MiB, MiB / 2]);
  });

  test('a reader keeps working after its blob is deleted', async () => {
    const data = randomBytes(3000);
    const digest = digestFromBytes(data);
    await writeBlob(store, 'd', data, { digest });
    const ra = await store.readerAt({ digest });
    await store.delete(digest);
    const buf = new Uint8Array(3000);
    assert.equal(await ra.readAt(buf, 0), 3000);
    assert.deepEqual(Buffer.from(buf), data);
    await ra.close();
    assert.equal(await codeFrom(ra.readAt(buf, 0)), 'FAILED_PRECONDITION');
  });

  test('sha512 digests are NotImplemented, unknown algorithms InvalidArgument', async () => {
    assert.equal(await codeFrom(store.info(`sha512:${'a'.repeat(128)}`)), 'NOT_IMPLEMENTED');
    assert.equal(await codeFrom(store.info(`foo:${'a'.repeat(64)}`)), 'INVALID_ARGUMENT');
    assert.equal(await codeFrom(store.writer({ ref: 'x', expected: 'sha256:zz' })), 'INVALID_ARGUMENT');
    assert.equal(await codeFrom(store.writer({ ref: 'x' }).then((w) => w.close())), 'OK', 'the lock was released');
  });
});
