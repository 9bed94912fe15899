import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlreadyExists, isNotFound } from '@ctrd/errdefs';
import { createDockerResolver } from './index.js';
import { hasCommand, makeTestImage, readAll } from './fixtures.js';
import { startRegistry } from './test-registry.js';

test('push, resolve, fetch and resume against a real registry', async (t) => {
  if (!hasCommand('docker-registry')) {
    t.skip('docker-registry is not installed (apt-get install docker-registry)');
    return;
  }
  const reg = await startRegistry();
  const resolver = createDockerResolver();
  t.after(async () => {
    await resolver.close();
    await reg.stop();
  });
  const img = makeTestImage('hello from ctrd\n', 200_000);
  const ref = `${reg.addr}/ctrd/test:v1`;

  await assert.rejects(resolver.resolve(ref), (e: Error) => isNotFound(e));

  const pusher = await resolver.pusher(ref);
  await pusher.push(img.layer.desc, () => (async function* () {
    yield img.layer.data.subarray(0, 1000);
    yield img.layer.data.subarray(1000);
  })());
  await pusher.push(img.config.desc, img.config.data);
  await pusher.push(img.manifest.desc, img.manifest.data);

  const byTag = await resolver.resolve(ref);
  assert.equal(byTag.name, ref);
  assert.deepEqual(byTag.descriptor, img.manifest.desc);

  const byDigest = await resolver.resolve(`${reg.addr}/ctrd/test@${img.manifest.desc.digest}`);
  assert.equal(byDigest.descriptor.digest, img.manifest.desc.digest);
  assert.equal(byDigest.descriptor.size, img.manifest.desc.size);

  assert.deepEqual(await readAll(await byTag.fetcher.fetch(byTag.descriptor)), img.manifest.data);
  assert.deepEqual(await readAll(await byTag.fetcher.fetch(img.config.desc)), img.config.data);
  assert.deepEqual(await readAll(await byTag.fetcher.fetch(img.layer.desc)), img.layer.data);
  const offset = Math.floor(img.layer.data.length / 3);
  assert.deepEqual(await readAll(await byTag.fetcher.fetch(img.layer.desc, { offset })), img.layer.data.subarray(offset));

  const missing = { ...img.layer.desc, digest: `sha256:${'0'.repeat(64)}` };
  await assert.rejects(byTag.fetcher.fetch(missing), (e: Error) => isNotFound(e));

  // Pushing again: every blob and the tagged manifest are already there.
  for (const b of [img.layer, img.config, img.manifest]) {
    assert.equal(await pusher.exists(b.desc), true);
    await assert.rejects(pusher.push(b.desc, () => { throw new Error('source must not be read'); }), (e: Error) => isAlreadyExists(e));
  }

  // A second tag for the same content: blobs skipped, manifest written.
  const img2 = makeTestImage('second\n');
  const pusher2 = await resolver.pusher(`${reg.addr}/ctrd/test:v2`);
  await pusher2.push(img2.layer.desc, img2.layer.data);
  await pusher2.push(img2.config.desc, img2.config.data);
  assert.equal(await pusher2.exists(img2.manifest.desc), false);
  await pusher2.push(img2.manifest.desc, img2.manifest.data);
  assert.equal((await resolver.resolve(`${reg.addr}/ctrd/test:v2`)).descriptor.digest, img2.manifest.desc.digest);
  assert.equal((await resolver.resolve(ref)).descriptor.digest, img.manifest.desc.digest);
});
