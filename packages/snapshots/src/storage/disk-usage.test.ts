import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { diskUsage } from './disk-usage.js';

test('diskUsage counts allocated blocks and inodes as du does, hard links once', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ctrd-disk-usage-'));
  try {
    await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(root, 'a'), Buffer.alloc(8192, 1));
    await writeFile(join(root, 'sub', 'b'), Buffer.alloc(100, 2));
    await link(join(root, 'a'), join(root, 'sub', 'deeper', 'a-again'));
    await symlink('../a', join(root, 'sub', 'link'));
    for (let i = 0; i < 200; i++) await writeFile(join(root, 'sub', 'deeper', `f${i}`), String(i));
    const usage = await diskUsage(root);
    // root, sub, deeper, a, b, link and 200 small files: the hard link adds no inode.
    assert.equal(usage.inodes, 206);
    const du = Number(execFileSync('du', ['-s', '-B1', root], { encoding: 'utf8' }).split('\t')[0]);
    assert.equal(usage.size, du);
    assert.ok(usage.size >= 8192 + 100);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('diskUsage of a missing tree fails with ENOENT', async () => {
  await assert.rejects(diskUsage(join(tmpdir(), 'ctrd-no-such-tree-for-usage')), { code: 'ENOENT' });
});
