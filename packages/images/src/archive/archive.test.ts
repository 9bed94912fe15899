import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { readBlob, type ContentStore } from '@ctrd/content';
import { MediaTypes, defaultMatcher, hostPlatform, strictMatcher, type Descriptor, type Index } from '@ctrd/remotes';
import tar from 'tar-stream';
import { buildBusyboxImage } from '../fixtures/busybox-image.js';
import { writeDockerArchive, writeOciArchive } from '../fixtures/archives.js';
import { imageConfig } from '../image.js';
import { collect, haveBusybox, memoryStore } from '../testing/setup.js';
import { exportArchive, type ExportImage, type ExportOptions } from './export.js';
import { ctrImportOptions, importImages } from './import-images.js';
import { importIndex } from './import-index.js';

const ARM64 = { os: 'linux', architecture: 'arm64' };

async function archiveOf(write: (out: PassThrough) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const [, bytes] = await Promise.all([write(out), collect(out)]);
  return bytes;
}

async function entries(archive: Buffer): Promise<Map<string, Buffer>> {
  const ex = tar.extract();
  const out = new Map<string, Buffer>();
  ex.end(archive);
  for await (const e of ex) {
    const data = await collect(e as unknown as AsyncIterable<Uint8Array>);
    if (e.header.type === 'file') out.set(e.header.name, data);
  }
  return out;
}

const exportOf = (store: ContentStore, images: ExportImage[], opts?: ExportOptions): Promise<Buffer> =>
  archiveOf((out) => exportArchive(store, out, images, opts));

const blobNames = (m: Map<string, Buffer>): string[] => [...m.keys()].filter((k) => k.startsWith('blobs/')).sort();

test('export writes an OCI layout with name annotations and a Docker manifest.json', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi' });
  const files = await entries(await exportOf(store, [{ name: 'docker.io/library/bb:1', target: img.target }], { platform: defaultMatcher() }));
  assert.equal(files.get('oci-layout')!.toString(), '{"imageLayoutVersion":"1.0.0"}');
  const index = JSON.parse(files.get('index.json')!.toString()) as Index;
  assert.deepEqual(index.manifests[0]!.annotations, {
    'io.containerd.image.name': 'docker.io/library/bb:1',
    'org.opencontainers.image.ref.name': '1',
  });
  const manifest = JSON.parse(files.get('manifest.json')!.toString());
  assert.deepEqual(manifest, [
    {
      Config: `blobs/sha256/${img.manifests[0]!.configDesc.digest.slice(7)}`,
      RepoTags: ['bb:1'],
      Layers: img.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    },
  ]);
  assert.equal(blobNames(files).length, 1 + 1 + 3);
  for (const name of blobNames(files)) assert.equal(`sha256:${name.slice(13)}`, (await import('@ctrd/content')).digestFromBytes(files.get(name)!));
});

test('export of an index: one platform, or all with --all-platforms; skip manifest.json', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'single', platforms: [hostPlatform(), ARM64] });
  const one = await entries(await exportOf(store, [{ name: 'x.io/bb:2', target: img.target }], { platform: strictMatcher(ARM64) }));
  // index, arm64 manifest, its config, the layer
  assert.equal(blobNames(one).length, 4);
  assert.ok(one.has(`blobs/sha256/${img.manifests[1]!.desc.digest.slice(7)}`));
  assert.ok(!one.has(`blobs/sha256/${img.manifests[0]!.desc.digest.slice(7)}`));
  assert.deepEqual(JSON.parse(one.get('manifest.json')!.toString())[0].RepoTags, ['x.io/bb:2']);
  const all = await entries(
    await exportOf(store, [{ name: 'x.io/bb:2', target: img.target }], { platform: strictMatcher(ARM64), allPlatforms: true, skipManifestJson: true }),
  );
  assert.equal(blobNames(all).length, 6);
  assert.ok(!all.has('manifest.json'));
  await assert.rejects(
    exportOf(store, [{ target: img.target }], { platform: strictMatcher({ os: 'linux', architecture: 's390x' }) }),
    { code: 'NOT_FOUND' },
  );
  await assert.rejects(exportOf(store, [{ target: img.layers[0]! }]), { code: 'INVALID_ARGUMENT' });
});

test('OCI archive: import → export → import keeps every blob identical', async (t) => {
  if (!haveBusybox(t)) return;
  const src = memoryStore();
  const img = await buildBusyboxImage(src, { layers: 'multi', platforms: [hostPlatform(), ARM64] });
  const first = await archiveOf((out) => writeOciArchive(src, img, out));
  const a = memoryStore();
  const r = await importImages(a, [first], { allPlatforms: true });
  assert.deepEqual(r.images.map((i) => i.name), [img.name]);
  assert.equal(r.images[0]!.target.digest, img.target.digest);
  const second = await exportOf(a, r.images, { platform: defaultMatcher(), allPlatforms: true });
  const e1 = await entries(first);
  const e2 = await entries(second);
  assert.deepEqual(blobNames(e2), blobNames(e1));
  for (const n of blobNames(e1)) assert.ok(e1.get(n)!.equals(e2.get(n)!), n);
  assert.ok(e1.get('index.json')!.equals(e2.get('index.json')!));
});

test('import labels the index and the selected manifests for GC', async (t) => {
  if (!haveBusybox(t)) return;
  const src = memoryStore();
  const img = await buildBusyboxImage(src, { layers: 'multi', platforms: [hostPlatform(), ARM64] });
  const archive = await archiveOf((out) => writeOciArchive(src, img, out));
  const dst = memoryStore();
  const r = await importImages(dst, [archive], { platform: strictMatcher(ARM64) });
  const indexInfo = await dst.info(r.index.digest);
  // a nested index is referenced by the generic label, as containerd does
  assert.deepEqual(indexInfo.labels, { 'containerd.io/gc.ref.content.0': img.target.digest });
  const fixtureIndex = await dst.info(img.target.digest);
  assert.deepEqual(fixtureIndex.labels, { 'containerd.io/gc.ref.content.m.0': img.manifests[1]!.desc.digest });
  const arm = await dst.info(img.manifests[1]!.desc.digest);
  assert.equal(arm.labels['containerd.io/gc.ref.content.config'], img.manifests[1]!.configDesc.digest);
  assert.equal(arm.labels['containerd.io/gc.ref.content.l.2'], img.layers[2]!.digest);
  const host = await dst.info(img.manifests[0]!.desc.digest);
  assert.deepEqual(host.labels, {});
});

test('Docker archive: import builds an index of Docker manifests named as containerd does', async (t) => {
  if (!haveBusybox(t)) return;
  const src = memoryStore();
  const img = await buildBusyboxImage(src, { layers: 'multi', format: 'docker' });
  const archive = await archiveOf((out) => writeDockerArchive(src, img, out, { tags: ['busybox:fixture', 'example.com/a/b:c'] }));
  const dst = memoryStore();
  const r = await importImages(dst, [archive], ctrImportOptions({ now: new Date(2024, 0, 2) }));
  assert.deepEqual(r.images.map((i) => i.name), ['docker.io/library/busybox:fixture', 'example.com/a/b:c']);
  const entry = r.images[0]!.target as Descriptor;
  assert.equal(entry.mediaType, MediaTypes.dockerManifest);
  assert.deepEqual(entry.annotations, {
    'io.containerd.image.name': 'docker.io/library/busybox:fixture',
    'org.opencontainers.image.ref.name': 'fixture',
  });
  assert.deepEqual(entry.platform, { os: 'linux', architecture: hostPlatform().architecture });
  const { manifest, config, configDesc } = await imageConfig(dst, entry, defaultMatcher());
  assert.equal(configDesc.digest, img.manifests[0]!.configDesc.digest);
  assert.equal(configDesc.mediaType, MediaTypes.dockerConfig);
  // docker save holds uncompressed layers: their digests are the diffIDs
  assert.deepEqual(manifest.layers.map((l) => l.digest), config.rootfs.diff_ids);
  assert.ok(manifest.layers.every((l) => l.mediaType === MediaTypes.dockerLayer));
  const raw = Buffer.from(await readBlob(dst, entry)).toString();
  assert.ok(raw.startsWith('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{'));

  // round trip: export the imported image and import that again
  const again = await exportOf(dst, r.images.slice(0, 1), { platform: defaultMatcher() });
  const e = await entries(again);
  const third = memoryStore();
  const r3 = await importImages(third, [again]);
  assert.equal(r3.images[0]!.target.digest, entry.digest);
  for (const n of blobNames(e)) {
    const d = `sha256:${n.slice(13)}`;
    assert.ok(Buffer.from(await readBlob(third, { digest: d })).equals(Buffer.from(await readBlob(dst, { digest: d }))));
  }
});

test('Docker import with --compress-blobs gzips layers and labels them', async (t) => {
  if (!haveBusybox(t)) return;
  const src = memoryStore();
  const img = await buildBusyboxImage(src, { layers: 'single', format: 'docker' });
  const archive = await archiveOf((out) => writeDockerArchive(src, img, out));
  const dst = memoryStore();
  const r = await importImages(dst, [archive], ctrImportOptions({ compressBlobs: true }));
  const { manifest } = await imageConfig(dst, r.images[0]!.target, defaultMatcher());
  assert.equal(manifest.layers[0]!.mediaType, MediaTypes.dockerLayerGzip);
  const info = await dst.info(manifest.layers[0]!.digest);
  assert.equal(info.labels['containerd.io/uncompressed'], img.diffIds[0]);
});

test('import names: bare OCI ref names get the import prefix, --base-name filters, --digests, --index-name', async (t) => {
  if (!haveBusybox(t)) return;
  const src = memoryStore();
  const img = await buildBusyboxImage(src, { layers: 'single' });
  // an OCI layout whose entries carry only OCI ref names, as other tools write
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { ...img.target, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
        { ...img.target, annotations: { 'org.opencontainers.image.ref.name': 'other.io/x:y' } },
      ],
    }),
  );
  const archive = await archiveOf(async (out) => {
    const pack = tar.pack();
    const blobs = [img.target, img.manifests[0]!.configDesc, ...img.layers];
    for (const b of blobs) pack.entry({ name: `blobs/sha256/${b.digest.slice(7)}` }, Buffer.from(await readBlob(src, b)));
    pack.entry({ name: 'index.json' }, index);
    pack.entry({ name: 'oci-layout' }, '{"imageLayoutVersion":"1.0.0"}');
    pack.finalize();
    for await (const c of pack) out.write(c);
    out.end();
  });
  const names = async (flags: Parameters<typeof ctrImportOptions>[0]) =>
    (await importImages(memoryStore(), [archive], ctrImportOptions({ now: new Date(2024, 4, 6), ...flags }))).images.map((i) => i.name);
  assert.deepEqual(await names({}), ['import-2024-05-06:v1', 'other.io/x:y']);
  assert.deepEqual(await names({ baseName: 'other.io/x' }), ['other.io/x:v1', 'other.io/x:y']);
  assert.deepEqual(await names({ baseName: 'mine' }), ['mine:v1']);
  assert.deepEqual(await names({ baseName: 'mine', digests: true }), ['mine:v1', `mine@${img.target.digest}`, `mine@${img.target.digest}`]);
  assert.deepEqual(await names({ baseName: 'mine', digests: true, skipDigestForNamed: true }), ['mine:v1', `mine@${img.target.digest}`]);
  assert.deepEqual(await names({ baseName: 'mine', indexName: 'idx' }), ['idx', 'mine:v1']);
  assert.throws(() => ctrImportOptions({ skipDigestForNamed: true }), { code: 'INVALID_ARGUMENT' });
});

test('importIndex refuses an unknown archive and an unsupported layout version', async () => {
  const store = memoryStore();
  const make = async (files: Record<string, string>): Promise<Buffer> =>
    archiveOf(async (out) => {
      const pack = tar.pack();
      for (const [name, body] of Object.entries(files)) pack.entry({ name }, body);
      pack.finalize();
      for await (const c of pack) out.write(c);
      out.end();
    });
  await assert.rejects(importIndex(store, [await make({ 'hello.txt': 'hi' })]), { code: 'INVALID_ARGUMENT', message: /unrecognized image format/ });
  await assert.rejects(importIndex(store, [await make({ 'oci-layout': '{"imageLayoutVersion":"2.0.0"}' })]), {
    code: 'INVALID_ARGUMENT',
  });
  await assert.rejects(importIndex(store, [await make({ 'manifest.json': '[{"Config":"missing.json","Layers":[]}]' })]), {
    code: 'NOT_FOUND',
  });
});

test('importIndex reads a Docker archive whose duplicate layer is a symlink', async (t) => {
  if (!haveBusybox(t)) return;
  const src = memoryStore();
  const img = await buildBusyboxImage(src, { layers: 'single', format: 'docker' });
  const plain = await entries(await archiveOf((out) => writeDockerArchive(src, img, out)));
  const layerName = [...plain.keys()].find((k) => k.endsWith('/layer.tar'))!;
  const cfgName = [...plain.keys()].find((k) => /^[a-f0-9]{64}\.json$/.test(k))!;
  const archive = await archiveOf(async (out) => {
    const pack = tar.pack();
    pack.entry({ name: layerName }, plain.get(layerName)!);
    pack.entry({ name: 'dup/layer.tar', type: 'symlink', linkname: `../${layerName}` });
    pack.entry({ name: cfgName }, plain.get(cfgName)!);
    pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: cfgName, RepoTags: null, Layers: [layerName, 'dup/layer.tar'] }]));
    pack.finalize();
    for await (const c of pack) out.write(c);
    out.end();
  });
  const dst = memoryStore();
  const idx = await importIndex(dst, [archive]);
  const index = JSON.parse(Buffer.from(await readBlob(dst, idx)).toString()) as Index;
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0]!.annotations, undefined);
  const m = JSON.parse(Buffer.from(await readBlob(dst, index.manifests[0] as Descriptor)).toString());
  assert.equal(m.layers[0].digest, m.layers[1].digest);
});
