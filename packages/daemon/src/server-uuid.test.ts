import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverUUID } from './server-uuid.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-uuid-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('serverUUID creates one UUID for callers racing on a fresh root and keeps it', async () => {
  await withDir(async (root) => {
    const dir = join(root, 'a', 'io.containerd.grpc.v1.introspection');
    const got = await Promise.all([serverUUID(dir), serverUUID(dir), serverUUID(dir)]);
    assert.match(got[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(new Set(got).size, 1);
    assert.equal(await readFile(join(dir, 'uuid'), 'utf8'), got[0]);
  });
});

test('serverUUID answers the UUID already on disk', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'uuid'), 'c0ffee00-0000-4000-8000-000000000001\n');
    assert.equal(await serverUUID(dir), 'c0ffee00-0000-4000-8000-000000000001');
  });
});

test('serverUUID tries again after a failed load', async () => {
  await withDir(async (root) => {
    const dir = join(root, 'uuid-dir');
    // A file where the directory should be: the load fails.
    await writeFile(dir, '');
    await assert.rejects(serverUUID(dir));
    await rm(dir);
    assert.match(await serverUUID(dir), /^[0-9a-f-]{36}$/);
  });
});
