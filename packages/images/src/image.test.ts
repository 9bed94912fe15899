import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMatcher, hostPlatform, strictMatcher } from '@ctrd/remotes';
import { buildBusyboxImage } from './fixtures/busybox-image.js';
import { check, imageChainIds, imageConfig, imagePlatforms, isUnpacked, packedSize, rootFS, unpackedSize } from './image.js';
import { createFakeSnapshotter } from './testing/fakes.js';
import { haveBusybox, memoryStore } from './testing/setup.js';

const ARM64 = { os: 'linux', architecture: 'arm64' };
const PLATFORMS = [hostPlatform(), ARM64];

test('imageConfig resolves the host manifest of an index, or the one asked for', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi', platforms: PLATFORMS });
  const host = await imageConfig(store, img.target, defaultMatcher());
  assert.equal(host.manifestDesc.digest, img.manifests[0]!.desc.digest);
  assert.equal(host.config.architecture, hostPlatform().architecture);
  const arm = await imageConfig(store, img.target, strictMatcher(ARM64));
  assert.equal(arm.configDesc.digest, img.manifests[1]!.configDesc.digest);
  assert.equal(arm.config.architecture, 'arm64');
  assert.deepEqual(rootFS(arm.config, arm.manifest.layers), img.diffIds);
  await assert.rejects(imageConfig(store, img.target, strictMatcher({ os: 'linux', architecture: 's390x' })), {
    code: 'NOT_FOUND',
    message: /no match for platform in manifest/,
  });
});

test('imageConfig of a bare manifest ignores the platform', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'single', platforms: [ARM64] });
  const r = await imageConfig(store, img.target, defaultMatcher());
  assert.equal(r.config.architecture, 'arm64');
  assert.deepEqual(await imageChainIds(store, img.target, defaultMatcher()), img.chainIds);
});

test('rootFS refuses a layer count that differs from the diffIDs', () => {
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + 'a'.repeat(64)] } };
  assert.throws(() => rootFS(config, []), { code: 'INVALID_ARGUMENT' });
});

test('packedSize sums index, one manifest, config and layers', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi', platforms: PLATFORMS });
  const m = img.manifests[1]!;
  const want = img.target.size + m.desc.size + m.configDesc.size + img.layers.reduce((s, l) => s + l.size, 0);
  assert.equal(await packedSize(store, img.target, strictMatcher(ARM64)), want);
});

test('check reports present and missing blobs, and an unavailable image', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi' });
  let r = await check(store, img.target, defaultMatcher());
  assert.equal(r.available, true);
  assert.equal(r.required.length, 4);
  assert.equal(r.missing.length, 0);
  await store.delete(img.layers[1]!.digest);
  r = await check(store, img.target, defaultMatcher());
  assert.deepEqual(r.missing.map((d) => d.digest), [img.layers[1]!.digest]);
  assert.equal(r.present.length, 3);
  await store.delete(img.target.digest);
  r = await check(store, img.target, defaultMatcher());
  assert.deepEqual(r, { available: false, required: [img.target], present: [], missing: [img.target] });
});

test('isUnpacked and unpackedSize follow the chain snapshots', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi' });
  const sn = createFakeSnapshotter();
  assert.equal(await isUnpacked(store, sn, img.target, defaultMatcher()), false);
  let parent: string | undefined;
  for (const id of img.chainIds) {
    await sn.prepare('k', parent);
    await sn.commit(id, 'k');
    parent = id;
  }
  assert.equal(await isUnpacked(store, sn, img.target, defaultMatcher()), true);
  assert.deepEqual(await unpackedSize(sn, img.chainIds), { size: 3 * 4096, inodes: 3 });
  assert.deepEqual(await unpackedSize(sn, ['sha256:' + 'f'.repeat(64)]), { size: 0, inodes: 0 });
});

test('imagePlatforms lists index platforms, or the config platform of a manifest', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const multi = await buildBusyboxImage(store, { layers: 'single', platforms: PLATFORMS });
  assert.deepEqual((await imagePlatforms(store, multi.target)).map((p) => p.architecture), [hostPlatform().architecture, 'arm64']);
  const one = await buildBusyboxImage(store, { layers: 'single', platforms: [ARM64] });
  assert.deepEqual(await imagePlatforms(store, one.target), [{ os: 'linux', architecture: 'arm64' }]);
});
