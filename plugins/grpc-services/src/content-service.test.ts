import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  ContentClient,
  WriteAction,
  type WriteContentRequest,
  type WriteContentResponse,
} from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { RemoteContentStore } from '@ctrd/client';
import { digestFromBytes, writeBlob } from '@ctrd/content';
import { isNotFound } from '@ctrd/errdefs';
import { startTestServer, type TestServer } from './test-server.js';

type Call = ClientDuplexStream<WriteContentRequest, WriteContentResponse>;

function req(f: Partial<WriteContentRequest>): WriteContentRequest {
  return { action: WriteAction.STAT, ref: '', total: 0, expected: '', offset: 0, data: Buffer.alloc(0), labels: {}, ...f };
}

/** Session drives a raw Write stream one message at a time. */
class Session {
  readonly call: Call;
  readonly #it: AsyncIterator<WriteContentResponse>;
  constructor(srv: TestServer, md?: Metadata) {
    const c = srv.conn.client(ContentClient);
    this.call = c.write(md ?? srv.conn.metadata());
    this.#it = (this.call as AsyncIterable<WriteContentResponse>)[Symbol.asyncIterator]();
  }
  async send(r: Partial<WriteContentRequest>): Promise<WriteContentResponse> {
    this.call.write(req(r));
    const n = await this.#it.next();
    assert.ok(!n.done, 'a response');
    return n.value;
  }
  async end(): Promise<void> {
    this.call.end();
    try {
      while (!(await this.#it.next()).done);
    } catch {
      // already failed
    }
  }
}

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as ServiceError).code;
  }
  return status.OK;
}

function withServer(fn: (srv: TestServer) => Promise<void>) {
  return async () => {
    const srv = await startTestServer({ gc: false });
    try {
      await fn(srv);
    } finally {
      await srv.close();
    }
  };
}

const data = Buffer.from('hello, content service');
const digest = digestFromBytes(data);

test('Write: STAT, WRITE, COMMIT, with offsets and digests on each answer', withServer(async (srv) => {
  const s = new Session(srv);
  const st = await s.send({ action: WriteAction.STAT, ref: 'r1', total: data.length, expected: digest });
  assert.equal(st.offset, 0);
  assert.equal(st.total, data.length);
  assert.ok(st.startedAt, 'started_at is set on STAT');
  const w1 = await s.send({ action: WriteAction.WRITE, offset: 0, data: data.subarray(0, 5) });
  assert.equal(w1.offset, 5);
  assert.equal(w1.digest, digestFromBytes(data.subarray(0, 5)));
  const c = await s.send({ action: WriteAction.COMMIT, offset: 5, data: data.subarray(5), total: data.length, expected: digest, labels: { a: 'b' } });
  assert.equal(c.offset, data.length);
  assert.equal(c.digest, digest);
  await s.end();
  const info = await new RemoteContentStore(srv.conn).info(digest);
  assert.deepEqual(info.labels, { a: 'b' });
}));

test('Write: resume continues at the offset left by an earlier stream', withServer(async (srv) => {
  const s1 = new Session(srv);
  await s1.send({ action: WriteAction.STAT, ref: 'resume', total: data.length });
  await s1.send({ action: WriteAction.WRITE, offset: 0, data: data.subarray(0, 7) });
  await s1.end();
  const s2 = new Session(srv);
  const st = await s2.send({ action: WriteAction.STAT, ref: 'resume', total: data.length });
  assert.equal(st.offset, 7, 'resumed at the offset written before');
  assert.equal(st.digest, digestFromBytes(data.subarray(0, 7)));
  const c = await s2.send({ action: WriteAction.COMMIT, offset: 7, data: data.subarray(7), expected: digest });
  assert.equal(c.digest, digest);
  await s2.end();
}));

test('Write: a wrong offset is OutOfRange; offset 0 starts the ingest again', withServer(async (srv) => {
  const s = new Session(srv);
  await s.send({ action: WriteAction.STAT, ref: 'off' });
  await s.send({ action: WriteAction.WRITE, offset: 0, data: Buffer.from('junk') });
  const restarted = await s.send({ action: WriteAction.WRITE, offset: 0, data: data.subarray(0, 3) });
  assert.equal(restarted.offset, 3, 'offset 0 truncated the junk');
  assert.equal(await code(s.send({ action: WriteAction.WRITE, offset: 10, data })), status.OUT_OF_RANGE);
  await s.end();
  assert.equal((await new RemoteContentStore(srv.conn).status('off')).offset, 3, 'the ingest stays, and its lock is released');
}));

test('Write: a wrong digest is FailedPrecondition and leaves no blob', withServer(async (srv) => {
  const store = new RemoteContentStore(srv.conn);
  const s = new Session(srv);
  await s.send({ action: WriteAction.STAT, ref: 'bad' });
  const wrong = digestFromBytes(Buffer.from('something else'));
  assert.equal(await code(s.send({ action: WriteAction.COMMIT, offset: 0, data, expected: wrong })), status.FAILED_PRECONDITION);
  await s.end();
  for (const d of [digest, wrong]) await assert.rejects(store.info(d), isNotFound);
  const listed: string[] = [];
  for await (const i of store.list()) listed.push(i.digest);
  assert.deepEqual(listed, [], 'nothing committed');
  const again = new Session(srv);
  assert.equal((await again.send({ action: WriteAction.STAT, ref: 'bad' })).offset, data.length, 'the ref is free to resume or abort');
  await again.end();
}));

test('Write: existing content is AlreadyExists; a missing ref is InvalidArgument; no namespace is FailedPrecondition', withServer(async (srv) => {
  await writeBlob(new RemoteContentStore(srv.conn), 'first', data, { digest, size: data.length });
  const s = new Session(srv);
  assert.equal(await code(s.send({ action: WriteAction.STAT, ref: 'again', expected: digest })), status.ALREADY_EXISTS);
  await s.end();
  const noRef = new Session(srv);
  assert.equal(await code(noRef.send({ action: WriteAction.STAT })), status.INVALID_ARGUMENT);
  await noRef.end();
  const noNs = new Session(srv, new Metadata());
  const err = await noNs.send({ action: WriteAction.STAT, ref: 'x' }).catch((e: ServiceError) => e);
  assert.equal((err as ServiceError).code, status.FAILED_PRECONDITION);
  assert.match((err as ServiceError).details, /namespace is required/);
  await noNs.end();
}));

test('Read streams 1 MiB chunks and List batches of 100', withServer(async (srv) => {
  const store = new RemoteContentStore(srv.conn);
  const big = Buffer.alloc((5 << 19) + 3, 7);
  const bigDigest = digestFromBytes(big);
  await writeBlob(store, 'big', big, { digest: bigDigest, size: big.length }, { labels: { 'containerd.io/gc.root': 'x' } });
  const c = srv.conn.client(ContentClient);
  const sizes: number[] = [];
  for await (const chunk of srv.conn.stream(c.read({ digest: bigDigest, offset: 0, size: 0 }, srv.conn.metadata()))) sizes.push(chunk.data.length);
  assert.deepEqual(sizes, [1 << 20, 1 << 20, (1 << 19) + 3]);
  await assert.rejects(async () => {
    for await (const _ of srv.conn.stream(c.read({ digest: bigDigest, offset: big.length + 1, size: 0 }, srv.conn.metadata())));
  }, /read past object length/);
  // containerd reads a negative offset as 0, and a size past the end up to the end.
  const tail: number[] = [];
  for await (const chunk of srv.conn.stream(c.read({ digest: bigDigest, offset: -5, size: big.length + 100 }, srv.conn.metadata()))) tail.push(chunk.offset, chunk.data.length);
  assert.deepEqual(tail, [0, 1 << 20, 1 << 20, 1 << 20, 2 << 20, (1 << 19) + 3]);

  for (let i = 0; i < 205; i++) {
    const b = Buffer.from(`blob ${i}`);
    await writeBlob(store, `b${i}`, b, { digest: digestFromBytes(b), size: b.length });
  }
  const batches: number[] = [];
  for await (const res of srv.conn.stream(c.list({ filters: [] }, srv.conn.metadata()))) batches.push(res.info.length);
  assert.deepEqual(batches, [100, 100, 6]);
}));

test('the lease header puts new content into that lease', withServer(async (srv) => {
  await srv.metadata.leases.create('default', { id: 'pull-1' });
  const leased = srv.connect('default', 'pull-1');
  await writeBlob(new RemoteContentStore(leased), 'leased', data, { digest, size: data.length });
  const resources = await srv.metadata.leases.listResources('default', 'pull-1');
  assert.deepEqual(resources, [{ id: digest, type: 'content' }]);
  const stats = await srv.metadata.collectGarbage();
  assert.equal(stats.removed.content, 0, 'the lease keeps the blob');
  await srv.metadata.leases.delete('default', 'pull-1');
  await srv.metadata.collectGarbage();
  await assert.rejects(new RemoteContentStore(srv.conn).info(digest), isNotFound);
}));

test('a malformed digest is InvalidArgument even without a namespace, as in containerd', withServer(async (srv) => {
  const c = srv.conn.client(ContentClient);
  const code = await new Promise<number | undefined>((resolve) => {
    c.info({ digest: 'sha256:nothex' }, new Metadata(), (err: ServiceError | null) => resolve(err?.code));
  });
  assert.equal(code, status.INVALID_ARGUMENT);
}));
