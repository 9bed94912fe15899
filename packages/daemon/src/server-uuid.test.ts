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

test('serverUUID creates the UUID and its directory on a fresh root, then answers the same one', async () => {
  await withDir(async (root) => {
    const dir = join(root, 'a', 'io.containerd.grpc.v1.introspection');
    const first = serverUUID(dir);
    assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(await readFile(join(dir, 'uuid'), 'utf8'), first);
    assert.equal(serverUUID(dir), first);
  });
});

test('serverUUID answers the UUID already on disk', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'uuid'), 'c0ffee00-0000-4000-8000-000000000001\n');
    assert.equal(serverUUID(dir), 'c0ffee00-0000-4000-8000-000000000001');
  });
});

test('serverUUID reports a directory it cannot read', async () => {
  await withDir(async (root) => {
    // A file where the directory should be.
    const dir = join(root, 'uuid-dir');
    await writeFile(dir, '');
    assert.throws(() => serverUUID(dir), { code: 'ENOTDIR' });
  });
});
