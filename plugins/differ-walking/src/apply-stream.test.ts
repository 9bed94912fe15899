import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { isCanceled, isFailedPrecondition, isInvalidArgument, isNotImplemented } from '@ctrd/errdefs';
import { MediaType } from '@ctrd/diff';
import { applyLayerStream } from './apply-stream.js';
import { lgetxattr, llistxattr, major, minor } from './sys.js';
import { buildTar, chunked, digestOf, gzip, tempDir, zstd, type TestEntry } from './test-helpers.js';

const CAP = '\x01\x00\x00\x02\x00\x20\x00\x00\x80\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00';
const T = 1_700_000_000;

const fullLayer: TestEntry[] = [
  { name: 'etc/', type: 'directory', mode: 0o755, pax: { mtime: `${T}.5` } },
  { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644, uid: 1000, gid: 1001, pax: { mtime: `${T}.123456789`, 'SCHILY.xattr.user.note': Buffer.from('héllo').toString('latin1') } },
  { name: 'etc/passwd-link', type: 'symlink', linkname: 'passwd', pax: { mtime: `${T}.000000007` } },
  { name: 'etc/passwd-hard', type: 'link', linkname: 'etc/passwd' },
  { name: 'bin/ping', data: 'ELF', mode: 0o4755, pax: { 'SCHILY.xattr.security.capability': CAP } },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
  { name: 'run/fifo', type: 'fifo', mode: 0o620 },
  { name: 'tmp/', type: 'directory', mode: 0o1777 },
  { name: `deep/${'n'.repeat(200)}/${'m'.repeat(150)}`, data: 'long name' },
  { name: 'unicode/日本語.txt', data: 'utf8' },
];

function checkFullLayer(root: string): void {
  const pw = lstatSync(`${root}/etc/passwd`, { bigint: true });
  assert.equal(readFileSync(`${root}/etc/passwd`, 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(Number(pw.mode & 0o7777n), 0o644);
  assert.equal(Number(pw.uid), 1000);
  assert.equal(Number(pw.gid), 1001);
  assert.equal(pw.mtimeNs, BigInt(T) * 1_000_000_000n + 123456789n);
  assert.equal(Number(pw.nlink), 2);
  assert.equal(lstatSync(`${root}/etc/passwd-hard`).ino, Number(pw.ino));
  assert.equal(lgetxattr(`${root}/etc/passwd`, 'user.note').toString('utf8'), 'héllo');
  assert.equal(readlinkSync(`${root}/etc/passwd-link`), 'passwd');
  assert.equal(lstatSync(`${root}/etc/passwd-link`, { bigint: true }).mtimeNs, BigInt(T) * 1_000_000_000n + 7n);
  assert.equal(lstatSync(`${root}/etc`, { bigint: true }).mtimeNs, BigInt(T) * 1_000_000_000n + 500_000_000n);
  assert.equal(lstatSync(`${root}/bin/ping`).mode & 0o7777, 0o4755);
  assert.deepEqual([...lgetxattr(`${root}/bin/ping`, 'security.capability')], [...Buffer.from(CAP, 'latin1')]);
  const nul = lstatSync(`${root}/dev/null`);
  assert.ok(nul.isCharacterDevice());
  assert.deepEqual([major(nul.rdev), minor(nul.rdev), nul.mode & 0o7777], [1, 3, 0o666]);
  const sda = lstatSync(`${root}/dev/sda`);
  assert.ok(sda.isBlockDevice());
  assert.deepEqual([major(sda.rdev), minor(sda.rdev), sda.gid], [8, 0, 6]);
  assert.ok(lstatSync(`${root}/run/fifo`).isFIFO());
  assert.equal(lstatSync(`${root}/run/fifo`).mode & 0o7777, 0o620);
  assert.equal(lstatSync(`${root}/tmp`).mode & 0o7777, 0o1777);
  assert.equal(readFileSync(`${root}/deep/${'n'.repeat(200)}/${'m'.repeat(150)}`, 'utf8'), 'long name');
  assert.equal(readFileSync(`${root}/unicode/日本語.txt`, 'utf8'), 'utf8');
}

test('round trip: an uncompressed layer keeps every kind of entry and attribute', async () => {
  const tar = await buildTar(fullLayer);
  const [dir, rm] = tempDir();
  try {
    const res = await applyLayerStream(chunked(tar), dir, { mediaType: MediaType.OCILayer, overlay: false, expectedDigest: digestOf(tar) });
    assert.equal(res.diffID, digestOf(tar));
    assert.equal(res.compressedDigest, digestOf(tar));
    assert.equal(res.size, tar.length);
    checkFullLayer(dir);
  } finally {
    rm();
  }
});

test('gzip layers are verified against the compressed digest and yield the tar diffID', async () => {
  const tar = await buildTar(fullLayer);
  const gz = gzip(tar);
  const [dir, rm] = tempDir();
  try {
    const res = await applyLayerStream(chunked(gz, 100), dir, { mediaType: MediaType.DockerLayerGzip, overlay: false, expectedDigest: digestOf(gz) });
    assert.deepEqual(res, { diffID: digestOf(tar), compressedDigest: digestOf(gz), size: gz.length, uncompressedSize: tar.length });
    checkFullLayer(dir);
  } finally {
    rm();
  }
});

test('digestVerified skips re-hashing the compressed bytes of a verified source but still measures the diffID', async () => {
  const tar = await buildTar(fullLayer);
  const gz = gzip(tar);
  const claimed = `sha256:${'ab'.repeat(32)}`;
  const [dir, rm] = tempDir();
  const [dir2, rm2] = tempDir();
  try {
    const res = await applyLayerStream(chunked(gz, 100), dir, { mediaType: MediaType.OCILayerGzip, overlay: false, expectedDigest: claimed, digestVerified: true });
    assert.deepEqual(res, { diffID: digestOf(tar), compressedDigest: claimed, size: gz.length, uncompressedSize: tar.length });
    checkFullLayer(dir);
    // Without the flag the same claim is checked, and refused.
    await assert.rejects(
      applyLayerStream(chunked(gz, 100), dir2, { mediaType: MediaType.OCILayerGzip, overlay: false, expectedDigest: claimed }),
      (e: Error) => isFailedPrecondition(e),
    );
  } finally {
    rm();
    rm2();
  }
});

test('zstd layers apply through the zstd CLI', async (t) => {
  const tar = await buildTar(fullLayer);
  const zst = zstd(tar);
  if (!zst) return t.skip('zstd CLI not installed');
  const [dir, rm] = tempDir();
  try {
    const res = await applyLayerStream(chunked(zst), dir, { mediaType: MediaType.OCILayerZstd, overlay: false, expectedDigest: digestOf(zst) });
    assert.equal(res.diffID, digestOf(tar));
    checkFullLayer(dir);
  } finally {
    rm();
  }
});

test('a corrupt zstd stream is InvalidArgument', async (t) => {
  const zst = zstd(await buildTar(fullLayer));
  if (!zst) return t.skip('zstd CLI not installed');
  const bad = Buffer.concat([zst.subarray(0, 20), Buffer.alloc(200, 0x55)]);
  const [dir, rm] = tempDir();
  try {
    await assert.rejects(applyLayerStream(chunked(bad), dir, { mediaType: MediaType.OCILayerZstd, overlay: false }), isInvalidArgument);
  } finally {
    rm();
  }
});

test('a digest mismatch is FailedPrecondition after the whole stream was read', async () => {
  const gz = gzip(await buildTar(fullLayer));
  const [dir, rm] = tempDir();
  try {
    await assert.rejects(
      applyLayerStream(chunked(gz), dir, { mediaType: MediaType.OCILayerGzip, overlay: false, expectedDigest: digestOf(Buffer.from('other')) }),
      (err) => isFailedPrecondition(err) && /digest mismatch/.test((err as Error).message),
    );
  } finally {
    rm();
  }
});

test('an unknown media type is NotImplemented and touches nothing', async () => {
  const [dir, rm] = tempDir();
  try {
    await assert.rejects(applyLayerStream(chunked(Buffer.alloc(10)), dir, { mediaType: 'application/x-foo', overlay: false }), isNotImplemented);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rm();
  }
});

test('an aborted apply is Canceled', async () => {
  const [dir, rm] = tempDir();
  const ac = new AbortController();
  async function* slow(): AsyncGenerator<Uint8Array> {
    yield (await buildTar([{ name: 'a', data: 'x'.repeat(100) }])).subarray(0, 512);
    ac.abort();
    yield Buffer.alloc(512);
  }
  try {
    await assert.rejects(applyLayerStream(slow(), dir, { mediaType: MediaType.OCILayer, overlay: false, signal: ac.signal }), isCanceled);
  } finally {
    rm();
  }
});

const lower = (root: string): void => {
  mkdirSync(`${root}/keep/sub`, { recursive: true });
  writeFileSync(`${root}/keep/old`, 'old');
  writeFileSync(`${root}/keep/sub/old`, 'old');
  writeFileSync(`${root}/gone`, 'gone');
  mkdirSync(`${root}/opq/inner`, { recursive: true });
  writeFileSync(`${root}/opq/lower-file`, 'x');
};

const whiteoutLayer: TestEntry[] = [
  { name: '.wh.gone', data: '' },
  { name: 'keep/.wh.old', data: '' },
  { name: 'keep/new', data: 'new' },
  { name: 'opq/', type: 'directory', mode: 0o750 },
  { name: 'opq/.wh..wh..opq', data: '' },
  { name: 'opq/mine', data: 'mine' },
  { name: 'opq/.wh.mine', data: '' },
];

test('whiteouts and opaque directories apply natively onto the lower content', async () => {
  const [dir, rm] = tempDir();
  try {
    lower(dir);
    await applyLayerStream(chunked(await buildTar(whiteoutLayer)), dir, { mediaType: MediaType.OCILayer, overlay: false });
    assert.equal(existsSync(`${dir}/gone`), false);
    assert.deepEqual(readdirSync(`${dir}/keep`).sort(), ['new', 'sub']);
    assert.deepEqual(readdirSync(`${dir}/opq`), ['mine'], 'opaque dir keeps only this layer, and a same-layer whiteout hides nothing');
    assert.equal(lstatSync(`${dir}/opq`).mode & 0o7777, 0o750);
  } finally {
    rm();
  }
});

test('overlay mode writes 0/0 char devices and trusted.overlay.opaque, and the merged view hides lower files', async (t) => {
  const [base, rm] = tempDir();
  try {
    const [lo, up, work, merged] = ['lower', 'upper', 'work', 'merged'].map((n) => `${base}/${n}`) as [string, string, string, string];
    for (const d of [lo, up, work, merged]) mkdirSync(d);
    lower(lo);
    await applyLayerStream(chunked(await buildTar(whiteoutLayer)), up, { mediaType: MediaType.OCILayer, overlay: true, parents: [lo] });
    const wh = lstatSync(`${up}/gone`);
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok(lstatSync(`${up}/keep/old`).isCharacterDevice());
    assert.equal(lgetxattr(`${up}/opq`, 'trusted.overlay.opaque').toString(), 'y');
    assert.ok(!llistxattr(`${up}/keep`).includes('trusted.overlay.opaque'));
    assert.equal(existsSync(`${up}/opq/mine`), true);
    const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lo},upperdir=${up},workdir=${work}`, merged]);
    if (r.status !== 0) return t.skip(`cannot mount overlay: ${r.stderr}`);
    try {
      assert.equal(existsSync(`${merged}/gone`), false);
      assert.deepEqual(readdirSync(`${merged}/keep`).sort(), ['new', 'sub']);
      assert.deepEqual(readdirSync(`${merged}/opq`), ['mine']);
    } finally {
      execFileSync('umount', [merged]);
    }
  } finally {
    rm();
  }
});

test('overlay mode drops trusted.overlay.* xattrs carried by the layer', async () => {
  const [dir, rm] = tempDir();
  try {
    const tar = await buildTar([{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.user.ok': '1' } }]);
    await applyLayerStream(chunked(tar), dir, { mediaType: MediaType.OCILayer, overlay: true });
    assert.deepEqual(llistxattr(`${dir}/d`), ['user.ok']);
  } finally {
    rm();
  }
});

test('missing parents in overlay mode copy the lower directory attributes', async () => {
  const [base, rm] = tempDir();
  try {
    mkdirSync(`${base}/lo/srv`, { recursive: true, mode: 0o711 });
    execFileSync('chown', ['123:456', `${base}/lo/srv`]);
    mkdirSync(`${base}/up`);
    await applyLayerStream(chunked(await buildTar([{ name: 'srv/f', data: 'f' }])), `${base}/up`, { mediaType: MediaType.OCILayer, overlay: true, parents: [`${base}/lo`] });
    const st = lstatSync(`${base}/up/srv`);
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o711, 123, 456]);
  } finally {
    rm();
  }
});
