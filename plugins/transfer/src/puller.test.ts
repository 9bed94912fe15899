import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailedPrecondition, isNotFound } from '@ctrd/errdefs';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, type FixtureImage } from '@ctrd/images/fixtures';
import { openMetadataDB, type MetadataDB } from '@ctrd/metadata-level';
import { withTempMount } from '@ctrd/mount';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { Puller, dockerResolverFor, pushImage, type ProgressEvent, type TransferDeps, type TransferHooks } from './index.js';
import { CountingProxy, hasCommand, publishImage, startRegistry, type TestRegistry } from './test-registry.js';

const NS = 'default';
const skip = !hasCommand('docker-registry')
  ? 'docker-registry is not installed (apt-get install docker-registry)'
  : process.getuid?.() !== 0 ? 'applying layers onto native snapshots needs root (bind mounts)' : undefined;

let reg: TestRegistry;
let srcDir: string;
const images: Record<string, FixtureImage> = {};

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  srcDir = mkdtempSync(join(tmpdir(), 'ctrd-transfer-src-'));
  const src = await createLocalStore(srcDir);
  const resolver = createDockerResolver();
  const publish = async (key: string, img: FixtureImage, repo: string) => {
    images[key] = img;
    await publishImage(src, img, await resolver.pusher(`${reg.addr}/${repo}`));
  };
  await publish('multi', await buildBusyboxImage(src, { layers: 'multi' }), 'ctrd/multi:v1');
  await publish('big', await buildBusyboxImage(src, { layers: 'big', bigSize: 24 << 20, gzipLevel: 1 }), 'ctrd/big:v1');
  await resolver.close();
});

after(async () => {
  if (skip) return;
  await reg.stop();
  rmSync(srcDir, { recursive: true, force: true });
});

interface Env {
  deps: TransferDeps;
  db: MetadataDB;
  proxy: CountingProxy;
  puller: Puller;
  close(): Promise<void>;
}

async function env(hooks?: TransferHooks): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-transfer-'));
  const db = await openMetadataDB(join(dir, 'meta'));
  const cs = db.contentStore(await createLocalStore(join(dir, 'content')));
  const native = await createNativeSnapshotter(join(dir, 'native'));
  db.addSnapshotter('native', native);
  const proxy = new CountingProxy(reg.addr);
  await proxy.start();
  const deps: TransferDeps = {
    content: (ns, lease) => cs.forNamespace(ns, lease ? { lease } : {}),
    images: db.images,
    leases: db.leases,
    snapshotter: (name, ns, lease) => db.snapshotter(name).forNamespace(ns, lease ? { lease } : {}),
    defaultSnapshotter: 'native',
    resolver: dockerResolverFor,
    ...(hooks ? { hooks } : {}),
  };
  return {
    deps, db, proxy, puller: new Puller(deps),
    async close() {
      await proxy.stop();
      await db.close();
      await native.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function readRoot(e: Env, chainId: string, files: string[]): Promise<Record<string, string | null>> {
  const sn = e.deps.snapshotter('native', NS);
  const mounts = await sn.view(`check-${Date.now()}`, chainId);
  return withTempMount(mounts, (root) => {
    const out: Record<string, string | null> = {};
    for (const f of files) out[f] = existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : null;
    return out;
  });
}

test('pull unpacks a multi-layer image, labels it, and a re-pull downloads nothing', { skip }, async () => {
  const e = await env();
  try {
    const img = images.multi!;
    const ref = `${e.proxy.addr}/ctrd/multi:v1`;
    const events: ProgressEvent[] = [];
    const started = Date.now();
    const r = await e.puller.pull({ namespace: NS, ref, onProgress: (ev) => events.push(ev) });
    const ms = Date.now() - started;
    assert.equal(r.target.digest, img.target.digest);
    assert.deepEqual(r.chainIds, [img.chainIds.at(-1)]);
    assert.ok(r.transferred >= img.layers.reduce((a, l) => a + l.size, 0));
    const files = await readRoot(e, img.chainIds.at(-1)!, ['bin/busybox', 'etc/fixture/deleted', 'etc/fixture/added', 'etc/fixture/opaque/old', 'etc/fixture/layer3']);
    assert.ok(files['bin/busybox']!.length > 100_000);
    assert.equal(files['etc/fixture/deleted'], null);
    assert.equal(files['etc/fixture/opaque/old'], null);
    assert.equal(files['etc/fixture/added'], 'replaced in layer 3\n');
    assert.equal(files['etc/fixture/layer3'], 'layer 3\n');

    const record = await e.db.images.get(NS, ref);
    assert.equal(record.target.digest, img.target.digest);
    const content = e.deps.content(NS);
    const cfg = await content.info(img.manifests[0]!.configDesc.digest);
    assert.equal(cfg.labels['containerd.io/gc.ref.snapshot.native'], img.chainIds.at(-1));
    for (let i = 0; i < img.layers.length; i++) {
      assert.equal((await content.info(img.layers[i]!.digest)).labels['containerd.io/uncompressed'], img.diffIds[i]);
    }
    const man = await content.info(img.manifests[0]!.desc.digest);
    assert.equal(man.labels['containerd.io/gc.ref.content.config'], img.manifests[0]!.configDesc.digest);
    assert.equal(man.labels['containerd.io/gc.ref.content.l.2'], img.layers[2]!.digest);
    const snap = await e.deps.snapshotter('native', NS).stat(img.chainIds[1]!);
    assert.equal(snap.labels['containerd.io/snapshot.ref'], img.chainIds[1]);
    assert.equal(snap.parent, img.chainIds[0]);
    assert.deepEqual(await e.db.leases.list(NS), [], 'the pull lease is released');
    assert.ok(events.some((ev) => ev.type === 'done'));
    assert.ok(events.some((ev) => ev.type === 'blob' && ev.state === 'unpacking'));
    console.log(`# pull of the multi fixture (${r.total} bytes): ${ms} ms`);

    // Everything survives a collection: the image record references it all.
    await e.db.gc.collect();
    await e.deps.snapshotter('native', NS).stat(img.chainIds.at(-1)!);

    const gets = new Map(e.proxy.gets);
    const again = await e.puller.pull({ namespace: NS, ref });
    assert.equal(again.transferred, 0);
    assert.deepEqual(e.proxy.gets, gets, 'no blob fetched again');
  } finally {
    await e.close();
  }
});

test('eight concurrent pulls of one image share the downloads: one GET per blob', { skip }, async () => {
  const e = await env();
  try {
    const img = images.multi!;
    const ref = `${e.proxy.addr}/ctrd/multi:v1`;
    const rs = await Promise.all(Array.from({ length: 8 }, () => e.puller.pull({ namespace: NS, ref })));
    for (const r of rs) assert.equal(r.target.digest, img.target.digest);
    for (const d of [...img.layers.map((l) => l.digest), img.manifests[0]!.configDesc.digest]) {
      assert.equal(e.proxy.getCount(d), 1, `GETs of ${d}`);
    }
    const files = await readRoot(e, img.chainIds.at(-1)!, ['etc/fixture/layer3']);
    assert.equal(files['etc/fixture/layer3'], 'layer 3\n');
  } finally {
    await e.close();
  }
});

test('an interrupted pull resumes where it stopped', { skip }, async () => {
  const e = await env();
  try {
    const img = images.big!;
    const ref = `${e.proxy.addr}/ctrd/big:v1`;
    const layer = img.layers[2]!;
    const half = Math.floor(layer.size / 2);
    e.proxy.stallAfter.set(layer.digest, half);
    const ac = new AbortController();
    e.proxy.onStall = () => setTimeout(() => ac.abort(), 300);
    await assert.rejects(e.puller.pull({ namespace: NS, ref, signal: ac.signal }));
    const status = await e.deps.content(NS).status(`layer-${layer.digest}`);
    assert.ok(status.offset > 0 && status.offset <= half, `ingest kept at ${status.offset}`);
    e.proxy.stallAfter.clear();
    const before = e.proxy.served.get(layer.digest) ?? 0;
    const r = await e.puller.pull({ namespace: NS, ref });
    const resumed = (e.proxy.served.get(layer.digest) ?? 0) - before;
    assert.ok(resumed <= layer.size - half + (1 << 20), `second pull fetched ${resumed} of ${layer.size} bytes`);
    assert.ok(resumed < layer.size);
    assert.deepEqual(r.chainIds, [img.chainIds.at(-1)]);
    await e.deps.snapshotter('native', NS).stat(img.chainIds.at(-1)!);
  } finally {
    await e.close();
  }
});

test('a corrupted layer fails the pull and leaves no snapshot or blob', { skip }, async () => {
  const e = await env();
  try {
    const img = images.multi!;
    const bad = img.layers[1]!;
    e.proxy.corrupt.add(bad.digest);
    const ref = `${e.proxy.addr}/ctrd/multi:v1`;
    await assert.rejects(e.puller.pull({ namespace: NS, ref }), (err: Error) => isFailedPrecondition(err));
    const sn = e.deps.snapshotter('native', NS);
    await assert.rejects(sn.stat(img.chainIds[1]!), (err: Error) => isNotFound(err));
    await assert.rejects(sn.stat(img.chainIds[2]!), (err: Error) => isNotFound(err));
    const active: string[] = [];
    await sn.walk((i) => void active.push(i.name), ['kind==active']);
    assert.deepEqual(active, []);
    await assert.rejects(e.deps.content(NS).info(bad.digest), (err: Error) => isNotFound(err));
    await assert.rejects(e.db.images.get(NS, ref), (err: Error) => isNotFound(err));
    // Once the registry serves good bytes again, the pull succeeds.
    e.proxy.corrupt.clear();
    await e.puller.pull({ namespace: NS, ref });
    await sn.stat(img.chainIds[2]!);
  } finally {
    await e.close();
  }
});

test('layers are applied while they download', { skip }, async () => {
  const marks: string[] = [];
  const e = await env({
    applyStart: (d, streaming) => marks.push(`apply ${d} ${streaming}`),
    downloadEnd: (d) => marks.push(`end ${d}`),
  });
  try {
    const img = images.big!;
    const first = img.layers[0]!.digest;
    e.proxy.slow.set(first, 2);
    await e.puller.pull({ namespace: NS, ref: `${e.proxy.addr}/ctrd/big:v1`, maxConcurrentDownloads: 2 });
    const apply = marks.indexOf(`apply ${first} true`);
    const end = marks.indexOf(`end ${first}`);
    assert.ok(apply >= 0, `first layer streamed: ${marks.join(', ')}`);
    assert.ok(apply < end, 'apply started before the download ended');
  } finally {
    await e.close();
  }
});

test('push reports the bytes of each upload as it goes, and what it sent in all', { skip }, async () => {
  const e = await env();
  try {
    const img = images.big!;
    await e.puller.pull({ namespace: NS, ref: `${e.proxy.addr}/ctrd/big:v1` });
    const name = `${e.proxy.addr}/ctrd/big:v1`;
    const ref = `${e.proxy.addr}/ctrd/pushed-big:v1`;
    const events: ProgressEvent[] = [];
    const r = await pushImage(e.deps, { namespace: NS, name, ref, onProgress: (ev) => events.push(ev) });
    const biggest = img.layers.reduce((a, l) => (l.size > a.size ? l : a));
    const offsets = events.flatMap((ev) => (ev.type === 'blob' && ev.digest === biggest.digest && ev.state === 'uploading' ? [ev.offset] : []));
    assert.ok(offsets.some((o) => o > 0 && o < biggest.size), `uploading offsets of ${biggest.size} bytes: ${offsets.join(', ')}`);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'offsets only grow');
    const everything = img.layers.reduce((a, l) => a + l.size, 0) + img.manifests[0]!.configDesc.size + img.manifests[0]!.desc.size;
    assert.equal(r.total, everything);
    assert.equal(r.transferred, everything);
    const again = await pushImage(e.deps, { namespace: NS, name, ref });
    assert.equal(again.transferred, 0, 'the registry has it all: nothing is sent again');
    assert.equal(again.total, everything);
  } finally {
    await e.close();
  }
});
