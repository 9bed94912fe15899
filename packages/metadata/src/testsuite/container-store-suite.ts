import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Any, ContainerInput } from '../containers.js';
import { errorCode, errorOf, withFixture, type MetadataFixtureFactory } from './fixture.js';

const SPEC_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';

function any(typeUrl: string, text: string): Any {
  return { typeUrl, value: new TextEncoder().encode(text) };
}

function container(id: string, extra: Partial<ContainerInput> = {}): ContainerInput {
  return {
    id,
    labels: {},
    image: 'docker.io/library/alpine:3',
    runtime: { name: 'io.containerd.runc.v2' },
    spec: any(SPEC_URL, '{"ociVersion":"1.0.2"}'),
    snapshotter: 'overlayfs',
    snapshotKey: id,
    ...extra,
  };
}

/**
 * containerStoreSuite registers the ContainerStore conformance tests under `name`. `factory`
 * must give a fresh, empty fixture for every test.
 */
export function containerStoreSuite(name: string, factory: MetadataFixtureFactory): void {
  describe(`${name}: ContainerStore`, () => {
    test('create then get round-trips every field, bytes included', () =>
      withFixture(factory, async ({ containers }) => {
        const input = container('c1', {
          labels: { a: 'b' },
          runtime: { name: 'io.containerd.runc.v2', options: any('containerd.runc.v1.Options', '\u0000\u0001bin') },
          extensions: { ext: any('x.y.Z', 'payload') },
        });
        const created = await containers.create('ns1', input);
        assert.equal(created.id, 'c1');
        assert.deepEqual(created.labels, { a: 'b' });
        assert.equal(created.image, input.image);
        assert.equal(created.runtime.name, 'io.containerd.runc.v2');
        assert.equal(created.runtime.options?.typeUrl, 'containerd.runc.v1.Options');
        assert.deepEqual(Buffer.from(created.runtime.options!.value), Buffer.from('\u0000\u0001bin'));
        assert.equal(created.spec?.typeUrl, SPEC_URL);
        assert.equal(Buffer.from(created.spec!.value).toString(), '{"ociVersion":"1.0.2"}');
        assert.equal(created.snapshotter, 'overlayfs');
        assert.equal(created.snapshotKey, 'c1');
        assert.equal(Buffer.from(created.extensions.ext!.value).toString(), 'payload');
        assert.equal(created.createdAt.getTime(), created.updatedAt.getTime());
        const got = await containers.get('ns1', 'c1');
        assert.equal(got.id, created.id);
        assert.deepEqual(got.labels, created.labels);
        assert.equal(got.createdAt.getTime(), created.createdAt.getTime());
        assert.deepEqual(Buffer.from(got.spec!.value), Buffer.from(created.spec!.value));
        assert.deepEqual(Buffer.from(got.runtime.options!.value), Buffer.from(created.runtime.options!.value));
        assert.deepEqual(Object.keys(got.extensions), ['ext']);
      }));

    test('create validates the container', () =>
      withFixture(factory, async ({ containers }) => {
        const bad: ContainerInput[] = [
          container(''),
          container('has space'),
          container('c', { runtime: { name: '' } }),
          container('c', { spec: undefined }),
          container('c', { snapshotter: '', snapshotKey: 'k' }),
          container('c', { extensions: { '': any('a', 'b') } }),
          container('c', { labels: { k: 'v'.repeat(4100) } }),
        ];
        for (const b of bad) assert.equal(await errorCode(containers.create('ns1', b)), 'INVALID_ARGUMENT', b.id);
        assert.deepEqual(await containers.list('ns1'), []);
      }));

    test('create without a snapshot needs no snapshotter', () =>
      withFixture(factory, async ({ containers }) => {
        const c = await containers.create('ns1', container('bare', { snapshotter: '', snapshotKey: '', image: '' }));
        assert.equal(c.snapshotter, '');
        assert.equal(c.image, '');
      }));

    test('create rejects a duplicate id with AlreadyExists', () =>
      withFixture(factory, async ({ containers }) => {
        await containers.create('ns1', container('c1'));
        assert.equal(await errorCode(containers.create('ns1', container('c1'))), 'ALREADY_EXISTS');
        await containers.create('ns2', container('c1'));
      }));

    test('get and delete of a missing container are NotFound', () =>
      withFixture(factory, async ({ containers }) => {
        const err = await errorOf(containers.get('ns1', 'nope'));
        assert.match(err.message, /container "nope"/);
        assert.equal(await errorCode(Promise.reject(err)), 'NOT_FOUND');
        assert.equal(await errorCode(containers.delete('ns1', 'nope')), 'NOT_FOUND');
      }));

    test('list filters on id, image, runtime.name and labels', () =>
      withFixture(factory, async ({ containers }) => {
        await containers.create('ns1', container('a', { labels: { role: 'web' } }));
        await containers.create('ns1', container('b', { image: 'docker.io/library/busybox:1', labels: { role: 'db' } }));
        await containers.create('ns1', container('c', { runtime: { name: 'io.containerd.runsc.v1' } }));
        const ids = async (fs?: string[]) => (await containers.list('ns1', fs)).map((c) => c.id);
        assert.deepEqual(await ids(), ['a', 'b', 'c']);
        assert.deepEqual(await ids(['id==b']), ['b']);
        assert.deepEqual(await ids(['image==docker.io/library/busybox:1']), ['b']);
        assert.deepEqual(await ids(['runtime.name==io.containerd.runsc.v1']), ['c']);
        assert.deepEqual(await ids(['labels.role==web', 'labels.role==db']), ['a', 'b']);
        assert.deepEqual(await ids(['labels.role']), ['a', 'b']);
        assert.deepEqual(await ids(['id~=^[ab]$,labels.role==db']), ['b']);
      }));

    test('update applies masks for labels, spec, image, snapshotkey and extensions', () =>
      withFixture(factory, async ({ containers }) => {
        const created = await containers.create('ns1', container('c1', {
          labels: { keep: '1', drop: '2' },
          extensions: { e1: any('t', 'one'), e2: any('t', 'two') },
        }));
        await new Promise((r) => setTimeout(r, 5));
        const input = container('c1', {
          labels: { added: '3' },
          spec: any(SPEC_URL, '{"new":true}'),
          image: 'other:1',
          snapshotKey: 'other-key',
          extensions: { e3: any('t', 'three') },
        });
        let u = await containers.update('ns1', input, ['labels.added', 'labels.drop', 'extensions.e3', 'extensions.e1']);
        assert.deepEqual(u.labels, { keep: '1', added: '3' });
        assert.deepEqual(Object.keys(u.extensions).sort(), ['e2', 'e3']);
        assert.equal(u.image, created.image);
        u = await containers.update('ns1', input, ['spec', 'image', 'snapshotkey']);
        assert.equal(Buffer.from(u.spec!.value).toString(), '{"new":true}');
        assert.equal(u.image, 'other:1');
        assert.equal(u.snapshotKey, 'other-key');
        assert.equal(u.createdAt.getTime(), created.createdAt.getTime());
        assert.ok(u.updatedAt.getTime() > created.updatedAt.getTime());
        const got = await containers.get('ns1', 'c1');
        assert.equal(got.snapshotKey, 'other-key');
        assert.deepEqual(got.labels, { keep: '1', added: '3' });
      }));

    test('update without a mask replaces the mutable fields and rejects immutable changes', () =>
      withFixture(factory, async ({ containers }) => {
        await containers.create('ns1', container('c1', { labels: { a: '1' } }));
        const u = await containers.update('ns1', container('c1', { labels: { b: '2' }, image: 'new:1' }));
        assert.deepEqual(u.labels, { b: '2' });
        assert.equal(u.image, 'new:1');
        const e1 = await errorOf(containers.update('ns1', container('c1', { snapshotter: 'native' })));
        assert.match(e1.message, /Snapshotter field is immutable/);
        const e2 = await errorOf(containers.update('ns1', container('c1', { runtime: { name: 'other' } })));
        assert.match(e2.message, /Runtime.Name field is immutable/);
        assert.equal(await errorCode(Promise.reject(e2)), 'INVALID_ARGUMENT');
      }));

    test('update rejects unknown or immutable paths and missing containers', () =>
      withFixture(factory, async ({ containers }) => {
        await containers.create('ns1', container('c1'));
        for (const path of ['snapshotter', 'runtime.name', 'runtime', 'id', 'bogus']) {
          assert.equal(await errorCode(containers.update('ns1', container('c1'), [path])), 'INVALID_ARGUMENT', path);
        }
        assert.equal(await errorCode(containers.update('ns1', container('c1', { spec: undefined }), ['spec'])), 'INVALID_ARGUMENT');
        assert.equal(await errorCode(containers.update('ns1', container('nope'))), 'NOT_FOUND');
        assert.equal(await errorCode(containers.update('ns1', container(''))), 'INVALID_ARGUMENT');
      }));

    test('delete removes only that container', () =>
      withFixture(factory, async ({ containers }) => {
        await containers.create('ns1', container('a'));
        await containers.create('ns1', container('b'));
        await containers.create('ns2', container('a'));
        await containers.delete('ns1', 'a');
        assert.deepEqual((await containers.list('ns1')).map((c) => c.id), ['b']);
        assert.deepEqual((await containers.list('ns2')).map((c) => c.id), ['a']);
      }));
  });
}
