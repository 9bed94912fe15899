import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorCode, errorOf, sampleDigest, withFixture, type MetadataFixtureFactory } from './fixture.js';

const TARGET = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sampleDigest('a'), size: 10 };
const SPEC = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new Uint8Array([123, 125]) };

/**
 * namespaceStoreSuite registers the NamespaceStore conformance tests under `name`. `factory`
 * must give a fresh, empty fixture for every test. The blob and snapshot cases of delete run only
 * when the fixture has `addBlob` and `addSnapshot`.
 */
export function namespaceStoreSuite(name: string, factory: MetadataFixtureFactory): void {
  describe(`${name}: NamespaceStore`, () => {
    test('create, get and list', () =>
      withFixture(factory, async ({ namespaces }) => {
        const created = await namespaces.create('alpha', { team: 'a' });
        assert.deepEqual(created, { name: 'alpha', labels: { team: 'a' } });
        await namespaces.create('beta');
        assert.deepEqual(await namespaces.get('alpha'), { name: 'alpha', labels: { team: 'a' } });
        assert.deepEqual(await namespaces.list(), [
          { name: 'alpha', labels: { team: 'a' } },
          { name: 'beta', labels: {} },
        ]);
      }));

    test('create rejects duplicates, bad names and oversized labels', () =>
      withFixture(factory, async ({ namespaces }) => {
        await namespaces.create('alpha');
        assert.equal(await errorCode(namespaces.create('alpha')), 'ALREADY_EXISTS');
        assert.equal(await errorCode(namespaces.create('not valid')), 'INVALID_ARGUMENT');
        assert.equal(await errorCode(namespaces.create('')), 'INVALID_ARGUMENT');
        assert.equal(await errorCode(namespaces.create('gamma', { k: 'v'.repeat(4096) })), 'INVALID_ARGUMENT');
        assert.deepEqual((await namespaces.list()).map((n) => n.name), ['alpha']);
      }));

    test('get of a missing namespace returns it with no labels', () =>
      withFixture(factory, async ({ namespaces }) => {
        assert.deepEqual(await namespaces.get('ghost'), { name: 'ghost', labels: {} });
        assert.deepEqual(await namespaces.list(), []);
      }));

    test('update sets and deletes single labels and replaces the map', () =>
      withFixture(factory, async ({ namespaces }) => {
        await namespaces.create('alpha', { a: '1', b: '2' });
        let ns = await namespaces.update({ name: 'alpha', labels: { c: '3', a: 'x' } }, ['labels.c', 'labels.b']);
        assert.deepEqual(ns.labels, { a: '1', c: '3' });
        ns = await namespaces.update({ name: 'alpha', labels: { z: '26' } });
        assert.deepEqual(ns.labels, { z: '26' });
        assert.deepEqual(await namespaces.get('alpha'), { name: 'alpha', labels: { z: '26' } });
        assert.equal(await errorCode(namespaces.update({ name: 'alpha', labels: {} }, ['name'])), 'INVALID_ARGUMENT');
      }));

    test('a namespace comes into being on first use', () =>
      withFixture(factory, async ({ namespaces, images, containers, leases }) => {
        await images.create('img-ns', { name: 'x', target: TARGET });
        await containers.create('ctr-ns', { id: 'c', runtime: { name: 'r' }, spec: SPEC });
        await leases.create('lease-ns', { id: 'l1' });
        assert.deepEqual((await namespaces.list()).map((n) => n.name), ['ctr-ns', 'img-ns', 'lease-ns']);
        assert.equal(await errorCode(namespaces.create('img-ns')), 'ALREADY_EXISTS');
      }));

    test('delete removes an empty namespace; a missing one is NotFound', () =>
      withFixture(factory, async ({ namespaces }) => {
        await namespaces.create('alpha', { a: '1' });
        await namespaces.delete('alpha');
        assert.deepEqual(await namespaces.list(), []);
        assert.deepEqual(await namespaces.get('alpha'), { name: 'alpha', labels: {} });
        assert.equal(await errorCode(namespaces.delete('alpha')), 'NOT_FOUND');
      }));

    test('delete refuses a namespace with images or containers and names them', () =>
      withFixture(factory, async ({ namespaces, images, containers }) => {
        await images.create('busy', { name: 'x', target: TARGET });
        await containers.create('busy', { id: 'c', runtime: { name: 'r' }, spec: SPEC });
        const err = await errorOf(namespaces.delete('busy'));
        assert.equal(await errorCode(Promise.reject(err)), 'FAILED_PRECONDITION');
        assert.match(err.message, /namespace "busy" must be empty, but it still has images, containers/);
        await images.delete('busy', 'x');
        const err2 = await errorOf(namespaces.delete('busy'));
        assert.match(err2.message, /still has containers$/);
        await containers.delete('busy', 'c');
        await namespaces.delete('busy');
        assert.deepEqual(await namespaces.list(), []);
      }));

    test('delete names remaining blobs and snapshots per snapshotter', async (t) => {
      await withFixture(factory, async (f) => {
        if (!f.addBlob || !f.addSnapshot) {
          t.skip('fixture cannot add blobs or snapshots');
          return;
        }
        await f.images.create('busy', { name: 'x', target: TARGET });
        await f.addBlob('busy', new TextEncoder().encode('hello'));
        await f.containers.create('busy', { id: 'c', runtime: { name: 'r' }, spec: SPEC });
        await f.addSnapshot('busy', 'overlayfs', 'k1');
        const err = await errorOf(f.namespaces.delete('busy'));
        assert.match(err.message, /^namespace "busy" must be empty, but it still has images, blobs, containers, snapshots on "overlayfs" snapshotter/);
      });
    });

    test('delete takes leases with the namespace', () =>
      withFixture(factory, async ({ namespaces, leases }) => {
        await leases.create('temp', { id: 'l1' });
        await namespaces.delete('temp');
        assert.deepEqual(await namespaces.list(), []);
        assert.deepEqual(await leases.list('temp'), []);
      }));
  });
}
