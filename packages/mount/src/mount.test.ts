import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotFound } from '@ctrd/errdefs';
import { mount, mountAll, unmountAll } from './mount.js';
import { Errno, sysUnmountAsync } from './libc.js';
import { cleanupTempMounts, withTempMount } from './temp-mount.js';
import { isMountPoint, lookupMount, mountsUnder } from './mountinfo.js';

const isRoot = process.getuid?.() === 0;
const hasOverlay = existsSync('/proc/filesystems') && readFileSync('/proc/filesystems', 'utf8').includes('\toverlay\n');

describe('mount helpers', { skip: isRoot ? false : 'mounting needs root' }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctrd-mount-test-'));
  });
  after(() => {
    const left = mountsUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'mounts left behind');
  });

  test('a read-only bind mount shows the source and refuses writes', async () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    writeFileSync(join(src, 'f'), 'hello');
    await mountAll([{ type: 'bind', source: src, options: ['ro', 'rbind'] }], dst);
    try {
      assert.equal(isMountPoint(dst), true);
      assert.equal(lookupMount(join(dst, 'f')).mountpoint, dst);
      assert.equal(readFileSync(join(dst, 'f'), 'utf8'), 'hello');
      assert.throws(() => writeFileSync(join(dst, 'g'), 'x'), { code: 'EROFS' });
    } finally {
      await unmountAll(dst);
    }
    assert.equal(isMountPoint(dst), false);
  });

  test('withTempMount unmounts and removes its directory when the callback throws', async () => {
    const src = join(dir, 'src2');
    mkdirSync(src);
    let seen = '';
    await assert.rejects(
      withTempMount([{ type: 'bind', source: src, options: ['rbind'] }], (root) => {
        seen = root;
        assert.equal(isMountPoint(root), true);
        throw new Error('boom');
      }, { dir }),
      /boom/,
    );
    assert.notEqual(seen, '');
    assert.equal(existsSync(seen), false);
    assert.equal(isMountPoint(seen), false);
  });

  test('withTempMount returns the callback result and leaves nothing behind', async () => {
    const src = join(dir, 'src3');
    mkdirSync(src);
    writeFileSync(join(src, 'x'), 'y');
    const v = await withTempMount([{ type: 'bind', source: src, options: ['rbind', 'ro'] }], (root) => readFileSync(join(root, 'x'), 'utf8'), { dir });
    assert.equal(v, 'y');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('ctrd-mount-')), []);
  });

  test('cleanupTempMounts detaches and removes what a killed process left of its temporary mounts', async () => {
    const tmp = join(dir, 'tmpmounts');
    const src = join(dir, 'src5');
    mkdirSync(tmp);
    mkdirSync(src);
    const left = join(tmp, 'ctrd-mount-abc123');
    mkdirSync(left);
    await mountAll([{ type: 'bind', source: src, options: ['rbind'] }], left);
    await mountAll([{ type: 'bind', source: src, options: ['rbind'] }], left);
    mkdirSync(join(tmp, 'other'));
    assert.deepEqual(await cleanupTempMounts(tmp), [left]);
    assert.deepEqual(mountsUnder(tmp), []);
    assert.deepEqual(readdirSync(tmp), ['other'], 'only the temporary mount points go');
    assert.deepEqual(await cleanupTempMounts(join(dir, 'absent')), []);
  });

  test('a failed mount is an errdefs error and mountAll undoes earlier mounts', async () => {
    const src = join(dir, 'src4');
    const dst = join(dir, 'dst4');
    mkdirSync(src);
    mkdirSync(dst);
    await assert.rejects(
      mountAll([
        { type: 'bind', source: src, options: ['rbind'] },
        { type: 'bind', source: join(dir, 'missing'), options: ['rbind'] },
      ], dst),
      (err: unknown) => isNotFound(err),
    );
    assert.equal(isMountPoint(dst), false);
  });

  test('an overlay with a lowerdir longer than a page is mounted', { skip: hasOverlay ? false : 'no overlay in /proc/filesystems' }, async () => {
    // deep names make 200 layers far exceed one page of mount data
    const base = join(dir, 'a-rather-long-directory-name-to-make-the-layer-paths-long');
    const layers: string[] = [];
    for (let i = 0; i < 200; i++) {
      const l = join(base, `layer-${i}`, 'fs');
      mkdirSync(l, { recursive: true });
      writeFileSync(join(l, `f${i}`), String(i));
      layers.push(l);
    }
    assert.ok(layers.join(':').length > 4096);
    const dst = join(dir, 'ovl');
    mkdirSync(dst);
    const cwd = process.cwd();
    mount({ type: 'overlay', source: 'overlay', options: [`lowerdir=${layers.join(':')}`] }, dst);
    try {
      assert.equal(process.cwd(), cwd);
      assert.equal(readFileSync(join(dst, 'f0'), 'utf8'), '0');
      assert.equal(readFileSync(join(dst, 'f199'), 'utf8'), '199');
    } finally {
      await unmountAll(dst);
    }
  });

  test('sysUnmountAsync unmounts and reports the errno of a failure', async () => {
    const dst = join(dir, 'async');
    mkdirSync(dst);
    mount({ type: 'tmpfs', source: 'tmpfs', options: [] }, dst);
    assert.equal(isMountPoint(dst), true);
    assert.equal(await sysUnmountAsync(dst, 0), 0);
    assert.equal(isMountPoint(dst), false);
    assert.equal(await sysUnmountAsync(dst, 0), Errno.EINVAL, 'not a mount point');
    assert.equal(await sysUnmountAsync(join(dir, 'missing'), 0), Errno.ENOENT);
  });

  test('unmountAll of a directory with nothing mounted or a missing path succeeds', async () => {
    await unmountAll(dir);
    await unmountAll(join(dir, 'nope'));
  });
});
