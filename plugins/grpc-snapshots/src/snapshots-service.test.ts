import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SnapshotCommit, SnapshotPrepare, SnapshotRemove } from '@ctrd/api/gen/containerd/events/snapshot.js';
import { DiffClient } from '@ctrd/api/gen/containerd/services/diff/v1/diff.js';
import { SnapshotsClient } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import { RemoteSnapshotter, type Connection } from '@ctrd/client';
import { codeOf } from '@ctrd/errdefs';
import { mountOut } from './convert.js';
import { Kind, listSnapshots } from '@ctrd/snapshots';
import { startTestServer, type TestServer } from './test-server.js';

const GC_ROOT = { labels: { 'containerd.io/gc.root': 'now' } };

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(codeOf(err), code, String(err));
    assert.match((err as Error).message, message);
    return true;
  });
}

describe('snapshots service', () => {
  let srv: TestServer;
  let conn: Connection;
  before(async () => {
    srv = await startTestServer();
    conn = srv.connect();
  });
  after(() => srv.close());

  test('the snapshotter must be named and loaded', async () => {
    await rejectsWith(new RemoteSnapshotter(conn, '').stat('x'), 'INVALID_ARGUMENT', /snapshotter argument missing/);
    await rejectsWith(new RemoteSnapshotter(conn, 'zfs').prepare('x'), 'INVALID_ARGUMENT', /snapshotter not loaded: zfs/);
    await rejectsWith(new RemoteSnapshotter(srv.connect(''), 'native').stat('x'), 'FAILED_PRECONDITION', /namespace is required/);
  });

  test('prepare, commit and remove publish containerd events; view does not', async () => {
    const sn = new RemoteSnapshotter(srv.connect('events'), 'native');
    srv.events.length = 0;
    await sn.prepare('ev-a', undefined, GC_ROOT);
    await sn.commit('ev-c', 'ev-a', GC_ROOT);
    await sn.view('ev-v', 'ev-c', GC_ROOT);
    await sn.remove('ev-v');
    assert.deepEqual(srv.events.map((e) => [e.namespace, e.topic, e.event.typeUrl]), [
      ['events', '/snapshot/prepare', 'containerd.events.SnapshotPrepare'],
      ['events', '/snapshot/commit', 'containerd.events.SnapshotCommit'],
      ['events', '/snapshot/remove', 'containerd.events.SnapshotRemove'],
    ]);
    assert.deepEqual(SnapshotPrepare.decode(srv.events[0]!.event.value), { key: 'ev-a', parent: '' });
    assert.deepEqual(SnapshotCommit.decode(srv.events[1]!.event.value), { key: 'ev-a', name: 'ev-c' });
    assert.deepEqual(SnapshotRemove.decode(srv.events[2]!.event.value), { key: 'ev-v' });
  });

  test('keys are per namespace and children block removal', async () => {
    const a = new RemoteSnapshotter(srv.connect('ns-a'), 'native');
    const b = new RemoteSnapshotter(srv.connect('ns-b'), 'native');
    await a.prepare('k', undefined, GC_ROOT);
    await a.commit('base', 'k', GC_ROOT);
    await a.prepare('child', 'base', GC_ROOT);
    await b.prepare('k', undefined, GC_ROOT);
    assert.deepEqual((await listSnapshots(a)).map((i) => [i.name, i.parent, i.kind]).sort(), [
      ['base', undefined, Kind.Committed],
      ['child', 'base', Kind.Active],
    ]);
    assert.deepEqual((await listSnapshots(b)).map((i) => i.name), ['k']);
    await rejectsWith(a.remove('base'), 'FAILED_PRECONDITION', /cannot remove snapshot with child/);
    await rejectsWith(b.stat('base'), 'NOT_FOUND', /snapshot base does not exist/);
    await rejectsWith(a.prepare('child', 'base'), 'ALREADY_EXISTS', /snapshot "child"/);
    const up = await a.update({ name: 'child', labels: { x: 'y' } }, ['labels.x']);
    assert.equal(up.labels.x, 'y');
    assert.equal(up.labels['containerd.io/gc.root'], 'now');
  });

  test('List streams batches of 100', async () => {
    const ns = srv.connect('many');
    const sn = new RemoteSnapshotter(ns, 'native');
    for (let i = 0; i < 130; i++) await sn.view(`v${i}`, undefined, GC_ROOT);
    const client = ns.client(SnapshotsClient);
    const sizes: number[] = [];
    for await (const res of ns.stream(client.list({ snapshotter: 'native', filters: [] }, ns.metadata()))) sizes.push(res.info.length);
    assert.deepEqual(sizes, [100, 30]);
    assert.equal((await listSnapshots(sn, ['name~=^v1[0-9]$'])).length, 10);
  });

  test('a removal reaches the backend at the next collection', async () => {
    const sn = new RemoteSnapshotter(srv.connect('gc'), 'native');
    await sn.prepare('gone', undefined, GC_ROOT);
    const count = async () => (await listSnapshots(srv.backend)).filter((i) => i.name.startsWith('gc/')).length;
    assert.equal(await count(), 1);
    await sn.remove('gone');
    assert.equal(await count(), 1);
    await srv.db.gc.collect();
    assert.equal(await count(), 0);
  });
});

describe('diff service', { skip: process.getuid?.() === 0 ? false : 'mounting needs root' }, () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  test('Diff writes a layer into the namespace and Apply unpacks it onto a new snapshot', async () => {
    const conn = srv.connect('diff');
    const sn = new RemoteSnapshotter(conn, 'native');
    const diff = conn.client(DiffClient);
    await sn.prepare('base-a', undefined, GC_ROOT);
    await sn.commit('base', 'base-a', GC_ROOT);
    const lower = await sn.view('lower', 'base', GC_ROOT);
    const upper = await sn.prepare('upper', 'base', GC_ROOT);
    // A native snapshot's mount is a bind of its directory, so the file can be written directly.
    await writeFile(join(upper[0]!.source, 'hello.txt'), 'hello\n');
    const d = await conn.unary(diff, diff.diff, { left: lower.map(mountOut), right: upper.map(mountOut), mediaType: '', ref: '', labels: { 'containerd.io/gc.root': 'now' } });
    assert.equal(d.diff?.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const info = await srv.metadata.content('diff').info(d.diff!.digest);
    assert.match(info.labels['containerd.io/uncompressed'] ?? '', /^sha256:/);
    await assert.rejects(srv.metadata.content('other').info(d.diff!.digest), (e) => codeOf(e) === 'NOT_FOUND');

    const target = await sn.prepare('target', 'base', GC_ROOT);
    const applied = await conn.unary(diff, diff.apply, { diff: d.diff, mounts: target.map(mountOut), payloads: {} });
    assert.equal(applied.applied?.digest, info.labels['containerd.io/uncompressed']);
    assert.equal(await readFile(join(target[0]!.source, 'hello.txt'), 'utf8'), 'hello\n');

    const other = srv.connect('other');
    const od = other.client(DiffClient);
    await assert.rejects(other.unary(od, od.apply, { diff: d.diff, mounts: target.map(mountOut), payloads: {} }), (e) => codeOf(e) === 'NOT_FOUND');
  });
});
