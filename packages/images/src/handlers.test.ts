import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allPlatforms, hostPlatform, isLayerType, onlyMatcher, strictMatcher, type Descriptor } from '@ctrd/remotes';
import { buildBusyboxImage } from './fixtures/busybox-image.js';
import {
  SKIP,
  childLabelsOf,
  childrenHandler,
  childrenOf,
  dispatch,
  handlers,
  limitManifests,
  platformFilter,
  setChildrenLabels,
  walk,
  walkNotEmpty,
} from './handlers.js';
import { haveBusybox, memoryStore } from './testing/setup.js';

const ARM64 = { os: 'linux', architecture: 'arm64' };
const ARM = { os: 'linux', architecture: 'arm', variant: 'v7' };
const PLATFORMS = [hostPlatform(), ARM64, ARM];

test('childrenOf: index → manifests, manifest → config then layers, layer → none', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi', platforms: PLATFORMS });
  const ms = await childrenOf(store, img.target);
  assert.deepEqual(ms.map((m) => m.digest), img.manifests.map((m) => m.desc.digest));
  const kids = await childrenOf(store, ms[0]!);
  assert.deepEqual(kids.map((d) => d.digest), [img.manifests[0]!.configDesc.digest, ...img.layers.map((l) => l.digest)]);
  assert.deepEqual(await childrenOf(store, img.layers[0]!), []);
  assert.deepEqual(await childrenOf(store, { mediaType: 'application/x-unknown', digest: img.layers[0]!.digest, size: 1 }), []);
});

test('childrenOf rejects a manifest that is really an index', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'single', platforms: PLATFORMS });
  const lie: Descriptor = { ...img.target, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
  await assert.rejects(childrenOf(store, lie), { code: 'INVALID_ARGUMENT' });
});

test('walk visits depth first; SKIP prunes; handlers() concatenates', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi', platforms: PLATFORMS });
  const seen: string[] = [];
  await walk(handlers(async (d) => void seen.push(d.digest), childrenHandler(store)), img.target);
  // index, then per manifest: manifest, config, 3 layers
  assert.equal(seen.length, 1 + 3 * 5);
  assert.equal(seen[0], img.target.digest);
  assert.equal(seen[1], img.manifests[0]!.desc.digest);
  assert.equal(seen[2], img.manifests[0]!.configDesc.digest);

  const pruned: string[] = [];
  await walk(
    handlers(async (d) => {
      pruned.push(d.digest);
      return d.digest === img.target.digest ? undefined : SKIP;
    }, childrenHandler(store)),
    img.target,
  );
  assert.equal(pruned.length, 1 + 3);
});

test('dispatch visits everything and respects its concurrency bound', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi', platforms: PLATFORMS });
  let active = 0;
  let peak = 0;
  const seen: string[] = [];
  const children = childrenHandler(store);
  await dispatch(async (d) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    seen.push(d.digest);
    const out = await children(d);
    active--;
    return out;
  }, [img.target], { concurrency: 2 });
  assert.equal(seen.length, 16);
  assert.equal(peak, 2);
});

test('dispatch reports the first error and starts nothing after it', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'multi', platforms: PLATFORMS });
  let calls = 0;
  const children = childrenHandler(store);
  await assert.rejects(
    dispatch(async (d) => {
      calls++;
      if (isLayerType(d.mediaType)) throw new Error('boom');
      return children(d);
    }, [img.target], { concurrency: 1 }),
    /boom/,
  );
  assert.ok(calls < 16, `stopped early (${calls} calls)`);
});

test('platformFilter keeps the host by default, one strict platform, or all', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'single', platforms: PLATFORMS });
  const manifestsWith = async (h: ReturnType<typeof platformFilter>) => {
    const out: string[] = [];
    await walk(async (d) => {
      const r = await h(d);
      if (d.digest === img.target.digest) out.push(...(Array.isArray(r) ? r.map((x) => x.platform!.architecture) : []));
      return [];
    }, img.target);
    return out;
  };
  const children = childrenHandler(store);
  assert.deepEqual(await manifestsWith(platformFilter(children, onlyMatcher(hostPlatform()))), [hostPlatform().architecture]);
  assert.deepEqual(await manifestsWith(platformFilter(children, strictMatcher(ARM64))), ['arm64']);
  assert.deepEqual(await manifestsWith(platformFilter(children, strictMatcher(ARM64), { all: true })), ['amd64', 'arm64', 'arm'].map((a, i) => (i === 0 ? hostPlatform().architecture : a)));
  // children without a platform (config, layers) always pass
  const m = img.manifests[0]!.desc;
  assert.equal(((await platformFilter(children, strictMatcher(ARM64))(m)) as Descriptor[]).length, 2);
});

test('limitManifests picks the preferred platform and fails when none matches', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'single', platforms: [ARM, ARM64] });
  const arm64First = strictMatcher(ARM64);
  const h = limitManifests(platformFilter(childrenHandler(store), allPlatforms), onlyMatcher(ARM64), 1);
  const r = (await h(img.target)) as Descriptor[];
  assert.deepEqual(r.map((d) => d.platform?.architecture), ['arm64']);
  const none = limitManifests(platformFilter(childrenHandler(store), strictMatcher({ os: 'windows', architecture: 'amd64' })), arm64First, 1);
  await assert.rejects(none(img.target), { code: 'NOT_FOUND' });
  await assert.rejects(walkNotEmpty(platformFilter(childrenHandler(store), strictMatcher({ os: 'windows', architecture: 'amd64' })), img.target), {
    code: 'NOT_FOUND',
  });
});

test('childLabelsOf numbers manifests and layers, names the config', () => {
  const d = (mediaType: string, n: number): Descriptor => ({ mediaType, digest: `sha256:${String(n).repeat(64)}`, size: 1 });
  const labels = childLabelsOf([
    d('application/vnd.oci.image.config.v1+json', 1),
    d('application/vnd.oci.image.layer.v1.tar+gzip', 2),
    d('application/vnd.docker.image.rootfs.diff.tar.gzip', 3),
  ]);
  assert.deepEqual(labels, {
    'containerd.io/gc.ref.content.config': d('', 1).digest,
    'containerd.io/gc.ref.content.l.0': d('', 2).digest,
    'containerd.io/gc.ref.content.l.1': d('', 3).digest,
  });
  const idx = childLabelsOf([d('application/vnd.oci.image.manifest.v1+json', 4), d('application/vnd.docker.distribution.manifest.v2+json', 5)]);
  assert.deepEqual(Object.keys(idx), ['containerd.io/gc.ref.content.m.0', 'containerd.io/gc.ref.content.m.1']);
});

test('setChildrenLabels labels parents with only the filtered children', async (t) => {
  if (!haveBusybox(t)) return;
  const store = memoryStore();
  const img = await buildBusyboxImage(store, { layers: 'single', platforms: PLATFORMS });
  await store.update({ digest: img.target.digest, labels: {} }, ['labels']);
  await walk(setChildrenLabels(store, platformFilter(childrenHandler(store), strictMatcher(ARM64))), img.target);
  const info = await store.info(img.target.digest);
  assert.deepEqual(info.labels, { 'containerd.io/gc.ref.content.m.0': img.manifests[1]!.desc.digest });
});
