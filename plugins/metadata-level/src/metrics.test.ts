import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDB } from './fixture-db.js';
import { collectMetadataMetrics } from './metrics.js';

const TARGET = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'ab'.repeat(32)}`, size: 2 };

test('metadata metrics count images, containers, leases and blobs per namespace', async () => {
  const t = await openTestDB();
  try {
    await t.db.images.create('a', { name: 'one', target: TARGET });
    await t.db.images.create('a', { name: 'two', target: TARGET });
    await t.db.images.create('b', { name: 'three', target: TARGET });
    await t.db.containers.create('b', { id: 'c1', runtime: { name: 'io.containerd.runc.v2' }, spec: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new Uint8Array() } } as never);
    await t.db.leases.create('a', { id: 'l1' });
    await t.addBlob('a', 'twelve bytes');
    await t.addBlob('a', 'x');
    const families = new Map((await collectMetadataMetrics(t.db, t.content)).map((f) => [f.name, f]));
    const value = (name: string, ns: string) => families.get(name)?.samples.find((s) => s.labels?.namespace === ns)?.value;
    assert.equal(value('images', 'a'), 2);
    assert.equal(value('images', 'b'), 1);
    assert.equal(value('containers', 'a'), 0);
    assert.equal(value('containers', 'b'), 1);
    assert.equal(value('leases', 'a'), 1);
    assert.equal(value('content_blobs', 'a'), 2);
    assert.equal(value('content_size_bytes', 'a'), 13);
    assert.equal(value('content_blobs', 'b'), 0);
  } finally {
    await t.close();
  }
});
