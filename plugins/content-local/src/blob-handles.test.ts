import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobHandles } from './blob-handles.js';

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

test('BlobHandles shares one descriptor, closes it when idle and after evict', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'blob-handles-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'blob');
  await writeFile(path, 'hello');
  const handles = new BlobHandles({ idleMs: 50 });
  const before = await openFds();
  const a = await handles.acquire(path, 'sha256:x');
  const b = await handles.acquire(path, 'sha256:x');
  assert.equal(a.fh, b.fh, 'one descriptor for concurrent readers');
  assert.equal(a.size, 5);
  a.release();
  b.release();
  const c = await handles.acquire(path, 'sha256:x');
  assert.equal(c.fh, a.fh, 'reused while idle');
  c.release();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await openFds(), before, 'closed after the idle time');

  const d = await handles.acquire(path, 'sha256:x');
  handles.evict(path);
  const buf = Buffer.alloc(5);
  await d.fh.read(buf, 0, 5, 0);
  assert.equal(buf.toString(), 'hello', 'a holder keeps reading after evict');
  d.release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await openFds(), before, 'closed with its last holder');

  await rm(path);
  await assert.rejects(handles.acquire(path, 'sha256:x'), (err: Error) => err.message === 'content digest sha256:x');
});
