import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ingestPathsOf } from './ingest.js';
import { LocalWriter, type WriterHost } from './local-writer.js';

const MiB = 1024 * 1024;

/** withWriter opens a LocalWriter on a fresh data file whose datasync is `datasync`. */
async function withWriter(datasync: () => Promise<void>, fn: (w: LocalWriter, published: string[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-local-writer-'));
  const paths = ingestPathsOf(dir);
  const fh = await open(paths.data, 'w+');
  fh.datasync = datasync;
  const published: string[] = [];
  const host: WriterHost = { chunkSize: MiB, publish: async (_ref, _paths, digest) => void published.push(digest) };
  const now = new Date();
  const w = new LocalWriter({ ref: 'r', paths, fh, hash: createHash('sha256'), offset: 0, total: 0, expected: '', startedAt: now, updatedAt: now, release: () => {} }, host);
  try {
    await fn(w, published);
  } finally {
    await fh.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

test('a large upload is flushed to disk while it is written, and the commit waits for it', async () => {
  let flushes = 0;
  let inFlight = false;
  await withWriter(
    async () => {
      flushes++;
      // The first flush ends at once, so the second starts 16 MiB later whatever the disk's
      // speed; the later ones take a while, so the commit finds one in flight.
      if (flushes === 1) return;
      inFlight = true;
      await new Promise((r) => setTimeout(r, 20));
      inFlight = false;
    },
    async (w, published) => {
      const chunk = Buffer.alloc(MiB, 7);
      for (let i = 0; i < 40; i++) await w.write(chunk);
      assert.ok(flushes >= 2, `early flushes started during the upload (${flushes})`);
      await w.commit(40 * MiB);
      assert.equal(inFlight, false, 'no flush is left running after the commit');
      assert.deepEqual(published, [`sha256:${createHash('sha256').update(Buffer.alloc(40 * MiB, 7)).digest('hex')}`]);
    },
  );
});

test('an error met by an early flush fails the commit, even when the final fsync succeeds', async () => {
  await withWriter(
    async () => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    },
    async (w, published) => {
      const chunk = Buffer.alloc(MiB, 1);
      for (let i = 0; i < 20; i++) await w.write(chunk);
      await assert.rejects(w.commit(20 * MiB), { code: 'EIO' });
      assert.deepEqual(published, [], 'nothing was published');
    },
  );
});
