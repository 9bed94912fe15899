import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { createMemoryContent } from '@ctrd/content/testsuite';
import { readBlob, writeBlob } from '@ctrd/content';
import { MediaType, UNCOMPRESSED_LABEL } from '@ctrd/diff';
import { isNotFound, isNotImplemented } from '@ctrd/errdefs';
import type { Mount } from '@ctrd/mount';
import { createWalkingDiffer, overlayTarget } from './walking-differ.js';
import { lsetxattr, lgetxattr } from './sys.js';
import { buildTar, digestOf, gzip, tempDir, treeHash } from './test-helpers.js';

async function entryNames(tar: Buffer): Promise<string[]> {
  const ex = extract();
  ex.end(tar);
  const names: string[] = [];
  for await (const e of ex) {
    names.push(e.header.name.replace(/\/$/, ''));
    e.resume();
  }
  return names;
}

const bind = (dir: string): Mount[] => [{ type: 'bind', source: dir, options: ['rbind'] }];

function makeLower(d: string): void {
  mkdirSync(`${d}/etc/sub`, { recursive: true });
  writeFileSync(`${d}/etc/keep`, 'keep');
  writeFileSync(`${d}/etc/change`, 'before');
  writeFileSync(`${d}/etc/remove`, 'remove');
  writeFileSync(`${d}/etc/sub/deep`, 'deep');
  mkdirSync(`${d}/gone-dir/x`, { recursive: true });
  writeFileSync(`${d}/same-size`, 'aaaa');
  utimesSync(`${d}/same-size`, 1000, 1000);
}

function makeUpper(lower: string, u: string): void {
  execFileSync('cp', ['-a', `${lower}/.`, u]);
  writeFileSync(`${u}/etc/change`, 'after!');
  unlinkSync(`${u}/etc/remove`);
  rmSync(`${u}/gone-dir`, { recursive: true });
  writeFileSync(`${u}/same-size`, 'bbbb'); // same size, same whole-second mtime: compared by content
  utimesSync(`${u}/same-size`, 1000, 1000);
  mkdirSync(`${u}/new/dir`, { recursive: true });
  writeFileSync(`${u}/new/dir/file`, 'x'.repeat(3 * 1024 * 1024));
  linkSync(`${u}/new/dir/file`, `${u}/new/hard`);
  symlinkSync('../etc/keep', `${u}/new/link`);
  writeFileSync(`${u}/new/ping`, 'elf', { mode: 0o4755 });
  lsetxattr(`${u}/new/ping`, 'security.capability', Buffer.from([1, 0, 0, 2, 0x80, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  execFileSync('mknod', [`${u}/new/null`, 'c', '1', '3']);
  execFileSync('mkfifo', [`${u}/new/fifo`]);
  execFileSync('chown', ['-h', '1234:5678', `${u}/new/link`]);
  writeFileSync(`${u}/${'long-'.repeat(30)}`, 'long');
}

test('compare writes an OCI layer that reproduces the upper tree when applied onto the lower', async () => {
  const [base, rm] = tempDir();
  try {
    const [lower, upper, applied] = ['lower', 'upper', 'applied'].map((n) => `${base}/${n}`) as [string, string, string];
    for (const d of [lower, upper, applied]) mkdirSync(d);
    makeLower(lower);
    makeUpper(lower, upper);
    makeLower(applied);
    const store = createMemoryContent().namespace('default');
    const differ = createWalkingDiffer(store);
    const desc = await differ.compare(bind(lower), bind(upper), { labels: { 'x.test': 'y' } });
    assert.equal(desc.mediaType, MediaType.OCILayerGzip);
    const info = await store.info(desc.digest);
    assert.equal(info.size, desc.size);
    assert.equal(info.labels['x.test'], 'y');
    const tar = gunzipSync(await readBlob(store, desc));
    assert.equal(info.labels[UNCOMPRESSED_LABEL], digestOf(tar));
    const names = await entryNames(tar);
    assert.ok(names.includes('etc/.wh.remove') && names.includes('.wh.gone-dir'), 'deletions are whiteouts');
    assert.ok(!names.includes('etc/keep') && !names.includes('etc/sub/deep'), 'unchanged files are not in the layer');
    assert.ok(names.includes('etc/change') && names.includes('same-size') && names.includes('new/dir/file'));

    const res = await differ.apply(desc, bind(applied));
    assert.deepEqual(res, { mediaType: MediaType.OCILayer, digest: digestOf(tar), size: tar.length });
    assert.equal(treeHash(applied, false), treeHash(upper, false));
    assert.equal(lstatSync(`${applied}/new/hard`).ino, lstatSync(`${applied}/new/dir/file`).ino);
    assert.equal(lstatSync(`${applied}/new/dir/file`, { bigint: true }).mtimeNs, lstatSync(`${upper}/new/dir/file`, { bigint: true }).mtimeNs);
    assert.deepEqual(lgetxattr(`${applied}/new/ping`, 'security.capability'), lgetxattr(`${upper}/new/ping`, 'security.capability'));
    assert.equal(readFileSync(`${applied}/same-size`, 'utf8'), 'bbbb');
  } finally {
    rm();
  }
});

test('compare of identical trees is an empty layer; an uncompressed media type is honoured', async () => {
  const [base, rm] = tempDir();
  try {
    mkdirSync(`${base}/a`);
    makeLower(`${base}/a`);
    const store = createMemoryContent().namespace('default');
    const desc = await createWalkingDiffer(store).compare(bind(`${base}/a`), bind(`${base}/a`), { mediaType: MediaType.OCILayer });
    assert.equal(desc.size, 1024);
    assert.equal((await store.info(desc.digest)).labels[UNCOMPRESSED_LABEL], desc.digest);
  } finally {
    rm();
  }
});

test('apply onto an overlay mount writes the upperdir with overlay whiteouts', async () => {
  const [base, rm] = tempDir();
  try {
    for (const d of ['lo', 'up', 'work']) mkdirSync(`${base}/${d}`);
    writeFileSync(`${base}/lo/old`, 'old');
    const tar = await buildTar([{ name: '.wh.old', data: '' }, { name: 'new', data: 'new' }]);
    const blob = gzip(tar);
    const store = createMemoryContent().namespace('default');
    const desc = { mediaType: MediaType.OCILayerGzip, digest: digestOf(blob), size: blob.length };
    await writeBlob(store, 'l', blob, desc);
    const mounts: Mount[] = [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${base}/lo`, `upperdir=${base}/up`, `workdir=${base}/work`] }];
    assert.deepEqual(overlayTarget(mounts), { upper: `${base}/up`, lowers: [`${base}/lo`] });
    const res = await createWalkingDiffer(store).apply(desc, mounts);
    assert.equal(res.digest, digestOf(tar));
    assert.ok(lstatSync(`${base}/up/old`).isCharacterDevice());
    assert.equal(readFileSync(`${base}/up/new`, 'utf8'), 'new');
  } finally {
    rm();
  }
});

test('apply checks the blob: missing is NotFound, a non-layer media type NotImplemented', async () => {
  const [base, rm] = tempDir();
  try {
    const store = createMemoryContent().namespace('default');
    const differ = createWalkingDiffer(store);
    const tar = await buildTar([{ name: 'a', data: 'a' }]);
    await assert.rejects(differ.apply({ mediaType: MediaType.OCILayer, digest: digestOf(tar), size: tar.length }, bind(base)), isNotFound);
    await writeBlob(store, 'x', tar, { digest: digestOf(tar), size: tar.length });
    await assert.rejects(differ.apply({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(tar), size: tar.length }, bind(base)), isNotImplemented);
    const res = await differ.apply({ mediaType: MediaType.OCILayer, digest: digestOf(tar), size: tar.length }, bind(base));
    assert.equal(res.digest, digestOf(tar));
    assert.equal(readFileSync(`${base}/a`, 'utf8'), 'a');
  } finally {
    rm();
  }
});
