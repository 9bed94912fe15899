/**
 * Test harness shared by this package's tests: the Snapshots and Diff services over a real
 * grpc-js server on a temporary unix socket, backed by an in-memory metadata database, a local
 * content store and a native snapshotter. Not part of the public API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { connect, type Connection } from '@ctrd/client';
import { createLocalStore } from '@ctrd/content-local';
import { createWalkingDiffer } from '@ctrd/differ-walking';
import type { Envelope, Publisher } from '@ctrd/events';
import type { MetadataStore } from '@ctrd/metadata';
import { openMetadataDB, type MetadataDB } from '@ctrd/metadata-level';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import type { Snapshotter } from '@ctrd/snapshots';
import { MemoryLevel } from 'memory-level';
import { diffService } from './diff-service.js';
import { snapshotsService } from './snapshots-service.js';

/** TestServer is a running server and what it is built on. */
export interface TestServer {
  dir: string;
  socket: string;
  db: MetadataDB;
  metadata: MetadataStore;
  backend: Snapshotter;
  /** every event published, in order. */
  events: Envelope[];
  /** connect opens a client connection (closed with the server). */
  connect(namespace?: string, lease?: string): Connection;
  close(): Promise<void>;
}

/** startTestServer starts the services on a fresh socket; the native backend lives under `root` when given. */
export async function startTestServer(root?: string): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-grpc-snapshots-'));
  const backing = await createLocalStore(join(dir, 'content'));
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  const content = db.contentStore(backing);
  const backend = await createNativeSnapshotter(root ?? join(dir, 'native'));
  db.addSnapshotter('native', backend);
  const metadata: MetadataStore = {
    namespaces: db.namespaces,
    images: db.images,
    containers: db.containers,
    leases: db.leases,
    content: (ns, opts) => content.forNamespace(ns, opts),
    snapshotter: (name, ns, opts) => db.snapshotter(name).forNamespace(ns, opts),
    snapshotterNames: () => [...db.snapshotterNames],
    collectGarbage: () => db.gc.collect(),
    onMutation: (fn) => db.onMutation(fn),
  };
  const events: Envelope[] = [];
  const publisher: Publisher = {
    async publish(namespace, topic, event) {
      events.push({ timestamp: new Date(), namespace, topic, event });
    },
  };
  const server = new Server();
  for (const s of [snapshotsService({ metadata, publisher }), diffService({ metadata, differFor: (store) => createWalkingDiffer(store) })]) {
    server.addService(s.definition, s.implementation);
  }
  const socket = join(dir, 'grpc.sock');
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  const conns: Connection[] = [];
  return {
    dir, socket, db, metadata, backend, events,
    connect(namespace = 'default', lease?: string) {
      const c = connect(socket, { namespace, lease });
      conns.push(c);
      return c;
    },
    async close() {
      for (const c of conns) c.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      await backend.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
