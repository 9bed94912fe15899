/**
 * Test harness shared by this package's tests: the services over a real grpc-js server on a
 * temporary unix socket, backed by an in-memory metadata database and a local content store.
 * Not part of the public API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { connect, type Connection } from '@ctrd/client';
import { createLocalStore, type LocalContentStore } from '@ctrd/content-local';
import { createExchange, decodeEvent, type EventExchange } from '@ctrd/events-exchange';
import { Scheduler } from '@ctrd/gc-scheduler';
import type { MetadataStore } from '@ctrd/metadata';
import { openMetadataDB, type MetadataDB } from '@ctrd/metadata-level';
import { MemoryLevel } from 'memory-level';
import { containersService } from './containers-service.js';
import { contentService } from './content-service.js';
import { eventsService, sequencedEventsService } from './events-service.js';
import { imagesService } from './images-service.js';
import { leasesService } from './leases-service.js';
import { namespacesService } from './namespaces-service.js';

/** TestServer is a running server and what it is built on. */
export interface TestServer {
  dir: string;
  socket: string;
  db: MetadataDB;
  backing: LocalContentStore;
  metadata: MetadataStore;
  exchange: EventExchange;
  /** the scheduler, unless started with `{ gc: false }`. */
  gc: Scheduler | undefined;
  /** connection in namespace `default`. */
  conn: Connection;
  /** connect opens another client connection. */
  connect(namespace?: string, lease?: string): Connection;
  close(): Promise<void>;
}

/** TestServerOptions: `gc: false` runs without a scheduler, so unreferenced content stays until collected by hand. */
export interface TestServerOptions {
  gc?: boolean;
}

/** startTestServer starts every service of this package on a fresh socket. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-grpc-services-'));
  const backing = await createLocalStore(join(dir, 'content'));
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  const content = db.contentStore(backing);
  const metadata: MetadataStore = {
    namespaces: db.namespaces,
    images: db.images,
    containers: db.containers,
    leases: db.leases,
    content: (ns, opts) => content.forNamespace(ns, opts),
    collectGarbage: () => db.gc.collect(),
    onMutation: (fn) => db.onMutation(fn),
  };
  const exchange = createExchange({ decodeEvent });
  const gc = opts.gc === false ? undefined : new Scheduler(metadata, { pauseThreshold: 0.02, deletionThreshold: 0, mutationThreshold: 100, scheduleDelayMs: 0, startupDelayMs: 0 });
  const deps = { metadata, publisher: exchange, gc };
  const server = new Server();
  for (const s of [
    namespacesService(deps), contentService(deps), imagesService(deps), containersService(deps), leasesService(deps),
    eventsService(exchange), sequencedEventsService(exchange),
  ]) {
    server.addService(s.definition, s.implementation);
  }
  const socket = join(dir, 'grpc.sock');
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  const conns: Connection[] = [];
  const open = (namespace = 'default', lease?: string): Connection => {
    const c = connect(socket, { namespace, lease });
    conns.push(c);
    return c;
  };
  const conn = open();
  return {
    dir, socket, db, backing, metadata, exchange, gc, conn,
    connect: open,
    async close() {
      for (const c of conns) c.close();
      gc?.close();
      exchange.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
