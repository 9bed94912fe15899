import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MountFlags, compactLowerdir, parseMountOptions } from './options.js';

test('parseMountOptions turns flag words into flags and keeps the rest as data', () => {
  const p = parseMountOptions(['ro', 'rbind', 'nosuid', 'index=off', 'lowerdir=/a:/b']);
  assert.equal(p.flags, MountFlags.RDONLY | MountFlags.BIND | MountFlags.REC | MountFlags.NOSUID);
  assert.equal(p.data, 'index=off,lowerdir=/a:/b');
  assert.equal(p.loop, false);
});

test('parseMountOptions lets a later word clear an earlier flag', () => {
  assert.equal(parseMountOptions(['ro', 'rw']).flags, 0);
  assert.equal(parseMountOptions(['nodev', 'dev', 'noexec']).flags, MountFlags.NOEXEC);
  assert.equal(parseMountOptions(['defaults']).data, '');
  assert.equal(parseMountOptions(['loop']).loop, true);
  assert.equal(parseMountOptions(['rprivate']).flags, MountFlags.PRIVATE | MountFlags.REC);
});

test('compactLowerdir makes the layers relative to their common directory', () => {
  const r = compactLowerdir(['index=off', 'lowerdir=/var/lib/s/snapshots/12/fs:/var/lib/s/snapshots/3/fs', 'workdir=/w']);
  assert.equal(r.chdir, '/var/lib/s/snapshots/');
  assert.deepEqual(r.options, ['index=off', 'workdir=/w', 'lowerdir=12/fs:3/fs']);
});

test('compactLowerdir leaves options alone when nothing is shared', () => {
  assert.deepEqual(compactLowerdir(['lowerdir=/a/fs:/b/fs']), { chdir: '', options: ['lowerdir=/a/fs:/b/fs'] });
  assert.deepEqual(compactLowerdir(['lowerdir=/a/fs']), { chdir: '', options: ['lowerdir=/a/fs'] });
  assert.deepEqual(compactLowerdir(['upperdir=/x']), { chdir: '', options: ['upperdir=/x'] });
});
