import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrls, unpackAnyAs } from '@ctrd/api';
import { RemoteContainerStore, RemoteContentStore, RemoteEvents, RemoteImageStore, RemoteNamespaceStore } from '@ctrd/client';
import { digestFromBytes, writeBlob } from '@ctrd/content';
import { isInvalidArgument, isNotFound } from '@ctrd/errdefs';
import type { Envelope } from '@ctrd/events';
import { TtrpcClient, TtrpcServer, createClient } from '@ctrd/ttrpc';
import { EventsDefinition as TtrpcEvents } from '@ctrd/api/gen/containerd/services/ttrpc/events/v1/events.js';
import { join } from 'node:path';
import { registerTtrpcEvents } from './events-service.js';
import { startTestServer, type TestServer } from './test-server.js';

function withServer(fn: (srv: TestServer) => Promise<void>) {
  return async () => {
    const srv = await startTestServer();
    try {
      await fn(srv);
    } finally {
      await srv.close();
    }
  };
}

async function take(stream: AsyncIterable<Envelope>, n: number): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for await (const e of stream) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

const SPEC = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new Uint8Array([123, 125]) };

test('services publish containerd topics and payloads, in order', withServer(async (srv) => {
  const events = new RemoteEvents(srv.conn);
  const ac = new AbortController();
  const sub = events.subscribe({ filters: ['namespace==ev'], signal: ac.signal });
  await new Promise((r) => setTimeout(r, 50));
  const ns = new RemoteNamespaceStore(srv.conn);
  await ns.create('ev', { a: '1' });
  const images = new RemoteImageStore(srv.conn);
  const target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestFromBytes(Buffer.from('m')), size: 1 };
  await images.create('ev', { name: 'img', target, labels: { x: 'y' } });
  await images.update('ev', { name: 'img', target, labels: { x: 'z' } }, ['labels.x']);
  const containers = new RemoteContainerStore(srv.conn);
  await containers.create('ev', { id: 'c1', runtime: { name: 'io.containerd.runc.v2' }, spec: SPEC, image: 'img' });
  await containers.delete('ev', 'c1');
  await images.delete('ev', 'img');
  const got = await take(sub, 6);
  ac.abort();
  assert.deepEqual(got.map((e) => [e.topic, e.event.typeUrl]), [
    ['/namespaces/create', TypeUrls.NamespaceCreate],
    ['/images/create', TypeUrls.ImageCreate],
    ['/images/update', TypeUrls.ImageUpdate],
    ['/containers/create', TypeUrls.ContainerCreate],
    ['/containers/delete', TypeUrls.ContainerDelete],
    ['/images/delete', TypeUrls.ImageDelete],
  ]);
  const upd = unpackAnyAs({ typeUrl: got[2]!.event.typeUrl, value: Buffer.from(got[2]!.event.value) }, 'containerd.services.images.v1.ImageUpdate');
  assert.deepEqual(upd, { name: 'img', labels: { x: 'z' } });
  assert.ok(got.every((e) => e.namespace === 'ev'));
}));

test('errors keep their class and containerd message across the wire', withServer(async (srv) => {
  const images = new RemoteImageStore(srv.conn);
  const err = await images.get('default', 'nope').catch((e: Error) => e);
  assert.ok(isNotFound(err));
  assert.equal((err as Error).message, 'image "nope"');
  await assert.rejects(images.create('default', { name: '', target: { mediaType: 'x', digest: 'sha256:bad', size: 1 } }), isInvalidArgument);
  assert.deepEqual(await new RemoteNamespaceStore(srv.conn).get('never-made'), { name: 'never-made', labels: {} }, 'Get of an unknown namespace is not an error');
}));

test('Images.Delete with sync returns after a collection removed the image content', withServer(async (srv) => {
  const data = Buffer.from('{"manifest":true}');
  const digest = digestFromBytes(data);
  await writeBlob(new RemoteContentStore(srv.conn), 'm', data, { digest, size: data.length });
  const images = new RemoteImageStore(srv.conn);
  await images.create('default', { name: 'keep', target: { mediaType: 'application/json', digest, size: data.length } });
  await srv.gc!.scheduleAndWait();
  assert.equal((await srv.metadata.content('default').info(digest)).size, data.length, 'the image holds its content');
  const before = srv.gc!.collections;
  await images.delete('default', 'keep', { sync: true });
  assert.ok(srv.gc!.collections > before, 'a collection ran before the answer');
  await assert.rejects(srv.metadata.content('default').info(digest), isNotFound);
}));

test('deletions without sync leave collections to the scheduler\'s rate limit', withServer(async (srv) => {
  const data = Buffer.from('{"manifest":2}');
  const digest = digestFromBytes(data);
  await writeBlob(new RemoteContentStore(srv.conn), 'm2', data, { digest, size: data.length });
  const images = new RemoteImageStore(srv.conn);
  const target = { mediaType: 'application/json', digest, size: data.length };
  for (let i = 0; i < 20; i++) await images.create('default', { name: `tag-${i}`, target });
  await srv.gc!.scheduleAndWait();
  const before = srv.gc!.collections;
  // Each deletion schedules a collection, but only one runs per rate-limit window
  // (the last run's time over the pause threshold) has passed; forcing one per delete did 20.
  for (let i = 0; i < 20; i++) await images.delete('default', `tag-${i}`);
  assert.ok(srv.gc!.collections - before <= 5, `collections during 20 deletes: ${srv.gc!.collections - before}`);
  // The deletions are still collected: the content the images held goes.
  await srv.gc!.scheduleAndWait();
  await assert.rejects(srv.metadata.content('default').info(digest), isNotFound);
}));

test('containers list through ListStream with filters', withServer(async (srv) => {
  const containers = new RemoteContainerStore(srv.conn);
  for (const id of ['a', 'b', 'c']) await containers.create('default', { id, runtime: { name: 'rt' }, spec: SPEC, labels: { n: id } });
  assert.deepEqual((await containers.list('default', ['labels.n==b', 'id==c'])).map((c) => c.id), ['b', 'c']);
}));

test('sequenced Subscribe replays after a sequence number, then continues live', withServer(async (srv) => {
  const events = new RemoteEvents(srv.conn);
  const ev = { typeUrl: TypeUrls.ContentDelete, value: new Uint8Array() };
  for (const t of ['/test/a', '/test/b', '/test/c']) await events.publish('default', t, ev);
  const ac = new AbortController();
  const sub = events.subscribe({ after: 1, signal: ac.signal, filters: ['topic~=^/test/'] });
  const first = await take(sub, 2);
  assert.deepEqual(first.map((e) => [e.topic, e.sequence]), [['/test/b', 2], ['/test/c', 3]]);
  ac.abort();
  await assert.rejects(events.publish('default', 'no-slash', ev), isInvalidArgument);
}));

test('ttrpc Forward hands shim envelopes to subscribers', withServer(async (srv) => {
  const ttrpc = new TtrpcServer();
  registerTtrpcEvents(ttrpc, srv.exchange);
  const sock = join(srv.dir, 'ttrpc.sock');
  await ttrpc.listen(sock);
  const conn = await TtrpcClient.connect(sock);
  const client = createClient(TtrpcEvents, conn);
  try {
    const sub = srv.exchange.subscribe({ filters: ['topic=="/tasks/exit"'] });
    const timestamp = { seconds: 1_700_000_000, nanos: 5 };
    await client.forward({ envelope: { timestamp, namespace: 'default', topic: '/tasks/exit', event: { typeUrl: TypeUrls.TaskExit, value: Buffer.alloc(0) } } });
    const [e] = await take(sub, 1);
    assert.equal(e!.namespace, 'default');
    assert.equal(e!.timestamp.getTime(), 1_700_000_000_000);
  } finally {
    await conn.close();
    await ttrpc.close();
  }
}));
