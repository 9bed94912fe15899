import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { MediaType } from '@ctrd/diff';
import { applyLayerStream } from './apply-stream.js';
import { buildTar, chunked, tempDir, type TestEntry } from './test-helpers.js';

// Entries are created first and only on EEXIST is the old path removed: these layers replace
// every kind of entry, from this layer and from the tree below, with every other kind.

const T = new Date(1_700_000_000_000);

test('an entry replaces whatever is at its path, from this layer or below', async () => {
  const [dir, rm] = tempDir();
  try {
    mkdirSync(`${dir}/lower-dir/sub`, { recursive: true });
    writeFileSync(`${dir}/lower-dir/sub/f`, 'lower');
    writeFileSync(`${dir}/lower-file`, 'lower');
    symlinkSync('/etc', `${dir}/lower-link`);
    mkdirSync(`${dir}/keep`, 0o700);
    writeFileSync(`${dir}/keep/old`, 'old');
    const entries: TestEntry[] = [
      { name: 'lower-dir', data: 'now a file', mode: 0o600 },
      { name: 'lower-file/', type: 'directory', mode: 0o751 },
      { name: 'lower-link', data: 'not through the link' },
      { name: 'keep/', type: 'directory', mode: 0o755, mtime: T },
      { name: 'f', data: 'first' },
      { name: 'f', data: 'second', mode: 0o640 },
      { name: 'g', data: 'file' },
      { name: 'g', type: 'symlink', linkname: 'f' },
      { name: 'h', type: 'symlink', linkname: 'x' },
      { name: 'h', type: 'link', linkname: 'f' },
      { name: 'p', type: 'fifo', mode: 0o600 },
      { name: 'p', data: 'after fifo' },
    ];
    await applyLayerStream(chunked(await buildTar(entries)), dir, { mediaType: MediaType.OCILayer, overlay: false });
    assert.equal(readFileSync(`${dir}/lower-dir`, 'utf8'), 'now a file');
    assert.equal(lstatSync(`${dir}/lower-dir`).mode & 0o7777, 0o600);
    assert.ok(lstatSync(`${dir}/lower-file`).isDirectory());
    assert.equal(lstatSync(`${dir}/lower-file`).mode & 0o7777, 0o751);
    assert.ok(lstatSync(`${dir}/lower-link`).isFile());
    assert.equal(readFileSync(`${dir}/lower-link`, 'utf8'), 'not through the link');
    const keep = lstatSync(`${dir}/keep`);
    assert.equal(keep.mode & 0o7777, 0o755, 'an existing directory is kept and takes the attributes');
    assert.equal(keep.mtimeMs, T.getTime());
    assert.deepEqual(readdirSync(`${dir}/keep`), ['old']);
    assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'second');
    assert.equal(lstatSync(`${dir}/f`).mode & 0o7777, 0o640);
    assert.equal(readlinkSync(`${dir}/g`), 'f');
    assert.equal(lstatSync(`${dir}/h`).ino, lstatSync(`${dir}/f`).ino);
    assert.equal(readFileSync(`${dir}/p`, 'utf8'), 'after fifo');
  } finally {
    rm();
  }
});

test('a regular file gets owner, mode and nanosecond times through its descriptor', async (t) => {
  const [dir, rm] = tempDir();
  try {
    const entries: TestEntry[] = [
      { name: 'bin/tool', data: 'x', mode: 0o4755, uid: 12, gid: 34, pax: { mtime: '1700000000.123456789', atime: '1600000000.5' } },
    ];
    await applyLayerStream(chunked(await buildTar(entries)), dir, { mediaType: MediaType.OCILayer, overlay: false });
    const st = lstatSync(`${dir}/bin/tool`, { bigint: true });
    assert.equal(Number(st.mode) & 0o7777, 0o4755, 'set-id bits survive the chown before the chmod');
    assert.equal(st.mtimeNs, 1_700_000_000_123_456_789n);
    assert.equal(st.atimeNs, 1_600_000_000_500_000_000n);
    if (process.getuid?.() !== 0) return t.skip('owner needs root');
    assert.deepEqual([st.uid, st.gid], [12n, 34n]);
  } finally {
    rm();
  }
});
