import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LeaseResource } from '../leases.js';
import { errorCode, errorOf, sampleDigest, withFixture, type MetadataFixtureFactory } from './fixture.js';

function sorted(rs: LeaseResource[]): string[] {
  return rs.map((r) => `${r.type} ${r.id}`).sort();
}

/**
 * leaseManagerSuite registers the LeaseManager conformance tests under `name`. `factory` must
 * give a fresh, empty fixture for every test.
 */
export function leaseManagerSuite(name: string, factory: MetadataFixtureFactory): void {
  describe(`${name}: LeaseManager`, () => {
    test('create then list returns the lease with its labels', () =>
      withFixture(factory, async ({ leases }) => {
        const before = Date.now();
        const l = await leases.create('ns1', { id: 'l1', labels: { 'containerd.io/gc.expire': '2999-01-01T00:00:00Z' } });
        assert.equal(l.id, 'l1');
        assert.ok(l.createdAt.getTime() >= before - 1000);
        assert.deepEqual(l.labels, { 'containerd.io/gc.expire': '2999-01-01T00:00:00Z' });
        const all = await leases.list('ns1');
        assert.equal(all.length, 1);
        assert.equal(all[0]!.id, 'l1');
        assert.deepEqual(all[0]!.labels, l.labels);
        assert.equal(all[0]!.createdAt.getTime(), l.createdAt.getTime());
      }));

    test('create rejects a duplicate id and makes up an id when none is given', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'l1' });
        assert.equal(await errorCode(leases.create('ns1', { id: 'l1' })), 'ALREADY_EXISTS');
        const a = await leases.create('ns1', {});
        const b = await leases.create('ns1', {});
        assert.ok(a.id.length > 0);
        assert.notEqual(a.id, b.id);
        assert.equal((await leases.list('ns1')).length, 3);
      }));

    test('list filters on id and labels', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'a', labels: { kind: 'pull' } });
        await leases.create('ns1', { id: 'b', labels: { kind: 'import' } });
        await leases.create('ns1', { id: 'c' });
        const ids = async (fs?: string[]) => (await leases.list('ns1', fs)).map((l) => l.id).sort();
        assert.deepEqual(await ids(), ['a', 'b', 'c']);
        assert.deepEqual(await ids(['id==b']), ['b']);
        assert.deepEqual(await ids(['labels.kind==pull', 'id==c']), ['a', 'c']);
        assert.deepEqual(await ids(['labels.kind']), ['a', 'b']);
      }));

    test('delete removes the lease; a missing lease is NotFound', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'a' });
        await leases.delete('ns1', 'a');
        assert.deepEqual(await leases.list('ns1'), []);
        const err = await errorOf(leases.delete('ns1', 'a'));
        assert.match(err.message, /lease "a"/);
        assert.equal(await errorCode(Promise.reject(err)), 'NOT_FOUND');
      }));

    test('resources of each kind are added, listed and removed', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'l1' });
        const rs: LeaseResource[] = [
          { type: 'content', id: sampleDigest('a') },
          { type: 'content', id: sampleDigest('b') },
          { type: 'ingests', id: 'ref with/slash' },
          { type: 'snapshots/overlayfs', id: 'extract-1 sha256:abc' },
          { type: 'snapshots/native', id: 'k' },
        ];
        for (const r of rs) await leases.addResource('ns1', 'l1', r);
        await leases.addResource('ns1', 'l1', rs[0]!);
        assert.deepEqual(sorted(await leases.listResources('ns1', 'l1')), sorted(rs));
        await leases.deleteResource('ns1', 'l1', rs[1]!);
        await leases.deleteResource('ns1', 'l1', rs[3]!);
        await leases.deleteResource('ns1', 'l1', { type: 'snapshots/btrfs', id: 'never-added' });
        assert.deepEqual(sorted(await leases.listResources('ns1', 'l1')), sorted([rs[0]!, rs[2]!, rs[4]!]));
      }));

    test('resource types are checked', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'l1' });
        assert.equal(await errorCode(leases.addResource('ns1', 'l1', { type: 'containers', id: 'c' })), 'NOT_IMPLEMENTED');
        assert.equal(await errorCode(leases.addResource('ns1', 'l1', { type: 'content', id: 'not-a-digest' })), 'INVALID_ARGUMENT');
        assert.equal(await errorCode(leases.addResource('ns1', 'l1', { type: 'snapshots', id: 'k' })), 'INVALID_ARGUMENT');
        assert.equal(await errorCode(leases.addResource('ns1', 'l1', { type: 'content/x', id: sampleDigest('a') })), 'INVALID_ARGUMENT');
        assert.deepEqual(await leases.listResources('ns1', 'l1'), []);
      }));

    test('resource calls on a missing lease are NotFound', () =>
      withFixture(factory, async ({ leases }) => {
        const r = { type: 'content', id: sampleDigest('a') };
        assert.equal(await errorCode(leases.addResource('ns1', 'nope', r)), 'NOT_FOUND');
        assert.equal(await errorCode(leases.deleteResource('ns1', 'nope', r)), 'NOT_FOUND');
        assert.equal(await errorCode(leases.listResources('ns1', 'nope')), 'NOT_FOUND');
      }));

    test('leases are scoped to their namespace', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'l1' });
        await leases.create('ns2', { id: 'l1', labels: { in: 'ns2' } });
        await leases.addResource('ns1', 'l1', { type: 'ingests', id: 'r1' });
        assert.deepEqual(await leases.listResources('ns2', 'l1'), []);
        await leases.delete('ns1', 'l1');
        assert.deepEqual((await leases.list('ns2')).map((l) => l.labels), [{ in: 'ns2' }]);
        assert.equal(await errorCode(leases.listResources('ns1', 'l1')), 'NOT_FOUND');
      }));

    test('a recreated lease starts with no resources', () =>
      withFixture(factory, async ({ leases }) => {
        await leases.create('ns1', { id: 'l1' });
        await leases.addResource('ns1', 'l1', { type: 'ingests', id: 'r1' });
        await leases.delete('ns1', 'l1');
        await leases.create('ns1', { id: 'l1' });
        assert.deepEqual(await leases.listResources('ns1', 'l1'), []);
      }));
  });
}
