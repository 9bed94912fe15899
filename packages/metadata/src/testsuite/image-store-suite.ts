import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ImageInput } from '../images.js';
import { errorCode, errorOf, sampleDigest, withFixture, type MetadataFixtureFactory } from './fixture.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

function image(name: string, seed = 'a', extra: Partial<ImageInput> = {}): ImageInput {
  return { name, labels: {}, target: { mediaType: MANIFEST, digest: sampleDigest(seed), size: 100 }, ...extra };
}

/**
 * imageStoreSuite registers the ImageStore conformance tests under `name`. `factory` must give a
 * fresh, empty fixture for every test.
 */
export function imageStoreSuite(name: string, factory: MetadataFixtureFactory): void {
  describe(`${name}: ImageStore`, () => {
    test('create then get round-trips every field', () =>
      withFixture(factory, async ({ images }) => {
        const input = image('docker.io/library/alpine:3', 'b', {
          labels: { 'a.b/c': 'd' },
          target: { mediaType: INDEX, digest: sampleDigest('c'), size: 512, annotations: { 'org.x': 'y' } },
        });
        const created = await images.create('ns1', input);
        assert.equal(created.name, input.name);
        assert.deepEqual(created.labels, { 'a.b/c': 'd' });
        assert.deepEqual(created.target, input.target);
        assert.ok(created.createdAt instanceof Date);
        assert.equal(created.createdAt.getTime(), created.updatedAt.getTime());
        const got = await images.get('ns1', input.name);
        assert.deepEqual(got, created);
      }));

    test('create rejects a duplicate name with AlreadyExists', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x'));
        assert.equal(await errorCode(images.create('ns1', image('x', 'b'))), 'ALREADY_EXISTS');
      }));

    test('create validates name, target and labels', () =>
      withFixture(factory, async ({ images }) => {
        const bad: ImageInput[] = [
          image(''),
          image('x', 'a', { target: { mediaType: MANIFEST, digest: 'sha256:abc', size: 1 } }),
          image('x', 'a', { target: { mediaType: MANIFEST, digest: 'nope', size: 1 } }),
          image('x', 'a', { target: { mediaType: MANIFEST, digest: sampleDigest('a'), size: 0 } }),
          image('x', 'a', { target: { mediaType: '', digest: sampleDigest('a'), size: 1 } }),
          image('x', 'a', { labels: { k: 'v'.repeat(4096) } }),
        ];
        for (const b of bad) assert.equal(await errorCode(images.create('ns1', b)), 'INVALID_ARGUMENT', JSON.stringify(b).slice(0, 120));
        assert.deepEqual(await images.list('ns1'), []);
      }));

    test('get of a missing image is NotFound naming the image', () =>
      withFixture(factory, async ({ images }) => {
        const err = await errorOf(images.get('ns1', 'missing'));
        assert.equal(await errorCode(Promise.reject(err)), 'NOT_FOUND');
        assert.match(err.message, /image "missing"/);
      }));

    test('images are scoped to their namespace', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('shared-name'));
        assert.equal(await errorCode(images.get('ns2', 'shared-name')), 'NOT_FOUND');
        assert.deepEqual(await images.list('ns2'), []);
        await images.create('ns2', image('shared-name', 'b'));
        assert.equal((await images.get('ns1', 'shared-name')).target.digest, sampleDigest('a'));
        assert.equal((await images.get('ns2', 'shared-name')).target.digest, sampleDigest('b'));
      }));

    test('list filters on name, target.digest, target.mediatype and labels', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('docker.io/a:1', 'a', { labels: { env: 'prod', 'x.y': 'z' } }));
        await images.create('ns1', image('docker.io/b:1', 'b', { labels: { env: 'dev' } }));
        await images.create('ns1', image('quay.io/c:1', 'c', {
          target: { mediaType: INDEX, digest: sampleDigest('c'), size: 3, annotations: { ann: 'yes' } },
        }));
        const names = async (fs?: string[]) => (await images.list('ns1', fs)).map((i) => i.name);
        assert.deepEqual(await names(), ['docker.io/a:1', 'docker.io/b:1', 'quay.io/c:1']);
        assert.deepEqual(await names(['']), ['docker.io/a:1', 'docker.io/b:1', 'quay.io/c:1']);
        assert.deepEqual(await names(['name==docker.io/b:1']), ['docker.io/b:1']);
        assert.deepEqual(await names(['name~=^docker\\.io/']), ['docker.io/a:1', 'docker.io/b:1']);
        assert.deepEqual(await names([`target.digest==${sampleDigest('c')}`]), ['quay.io/c:1']);
        assert.deepEqual(await names([`target.mediatype==${INDEX}`]), ['quay.io/c:1']);
        assert.deepEqual(await names(['labels.env==prod']), ['docker.io/a:1']);
        assert.deepEqual(await names(['labels.env']), ['docker.io/a:1', 'docker.io/b:1']);
        assert.deepEqual(await names(['labels."x.y"==z']), ['docker.io/a:1']);
        assert.deepEqual(await names(['annotations.ann==yes']), ['quay.io/c:1']);
        assert.deepEqual(await names(['labels.env==prod', 'name==quay.io/c:1']), ['docker.io/a:1', 'quay.io/c:1']);
        assert.deepEqual(await names(['labels.env==dev,name==docker.io/a:1']), []);
      }));

    test('list rejects a malformed filter with InvalidArgument', () =>
      withFixture(factory, async ({ images }) => {
        assert.equal(await errorCode(images.list('ns1', ['name=='])), 'INVALID_ARGUMENT');
      }));

    test('update without a mask replaces labels and target and keeps createdAt', () =>
      withFixture(factory, async ({ images }) => {
        const created = await images.create('ns1', image('x', 'a', { labels: { old: '1' } }));
        await new Promise((r) => setTimeout(r, 5));
        const updated = await images.update('ns1', image('x', 'b', { labels: { new: '2' } }));
        assert.deepEqual(updated.labels, { new: '2' });
        assert.equal(updated.target.digest, sampleDigest('b'));
        assert.equal(updated.createdAt.getTime(), created.createdAt.getTime());
        assert.ok(updated.updatedAt.getTime() > created.updatedAt.getTime());
        assert.deepEqual(await images.get('ns1', 'x'), updated);
      }));

    test('update labels.<key> sets one key and an empty value deletes it', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x', 'a', { labels: { keep: '1', drop: '2', 'dotted.key': 'a' } }));
        let u = await images.update('ns1', image('x', 'f', { labels: { added: '3', keep: 'ignored' } }), ['labels.added']);
        assert.deepEqual(u.labels, { keep: '1', drop: '2', 'dotted.key': 'a', added: '3' });
        assert.equal(u.target.digest, sampleDigest('a'), 'target untouched by a labels mask');
        u = await images.update('ns1', image('x', 'f', { labels: { 'dotted.key': 'b' } }), ['labels.drop', 'labels.dotted.key']);
        assert.deepEqual(u.labels, { keep: '1', 'dotted.key': 'b', added: '3' });
      }));

    test('update labels replaces the whole map', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x', 'a', { labels: { a: '1', b: '2' } }));
        const u = await images.update('ns1', image('x', 'a', { labels: { c: '3' } }), ['labels']);
        assert.deepEqual(u.labels, { c: '3' });
      }));

    test('update annotations paths act on the target annotations', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x', 'a', {
          target: { mediaType: MANIFEST, digest: sampleDigest('a'), size: 9, annotations: { a: '1', b: '2' } },
        }));
        const input = image('x', 'e', { target: { mediaType: 'other', digest: sampleDigest('e'), size: 1, annotations: { c: '3' } } });
        let u = await images.update('ns1', input, ['annotations.c', 'annotations.a']);
        assert.deepEqual(u.target, { mediaType: MANIFEST, digest: sampleDigest('a'), size: 9, annotations: { b: '2', c: '3' } });
        u = await images.update('ns1', input, ['annotations']);
        assert.deepEqual(u.target.annotations, { c: '3' });
      }));

    test('update target replaces the descriptor and is validated', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x', 'a', { labels: { l: '1' } }));
        const u = await images.update('ns1', image('x', 'd', { labels: {} }), ['target']);
        assert.equal(u.target.digest, sampleDigest('d'));
        assert.deepEqual(u.labels, { l: '1' });
        const bad = image('x', 'a', { target: { mediaType: MANIFEST, digest: sampleDigest('a'), size: -1 } });
        assert.equal(await errorCode(images.update('ns1', bad, ['target'])), 'INVALID_ARGUMENT');
        assert.equal((await images.get('ns1', 'x')).target.digest, sampleDigest('d'));
      }));

    test('update with an unknown path is InvalidArgument', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x'));
        const err = await errorOf(images.update('ns1', image('x'), ['name']));
        assert.equal(await errorCode(Promise.reject(err)), 'INVALID_ARGUMENT');
        assert.match(err.message, /cannot update "name" field on image "x"/);
      }));

    test('update of a missing image is NotFound', () =>
      withFixture(factory, async ({ images }) => {
        assert.equal(await errorCode(images.update('ns1', image('missing'))), 'NOT_FOUND');
        assert.equal(await errorCode(images.update('ns1', image(''))), 'INVALID_ARGUMENT');
      }));

    test('delete removes the image; deleting twice is NotFound', () =>
      withFixture(factory, async ({ images }) => {
        await images.create('ns1', image('x'));
        await images.create('ns1', image('y'));
        await images.delete('ns1', 'x');
        assert.equal(await errorCode(images.get('ns1', 'x')), 'NOT_FOUND');
        assert.deepEqual((await images.list('ns1')).map((i) => i.name), ['y']);
        assert.equal(await errorCode(images.delete('ns1', 'x')), 'NOT_FOUND');
      }));

    test('a namespace is required and must be valid', () =>
      withFixture(factory, async ({ images }) => {
        assert.equal(await errorCode(images.create('', image('x'))), 'FAILED_PRECONDITION');
        assert.equal(await errorCode(images.list('bad namespace!')), 'INVALID_ARGUMENT');
      }));
  });
}
