import type { ContentStore } from '@ctrd/content';
import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Snapshotter } from '@ctrd/snapshots';
import { Level } from 'level';
import { MetaCore, type MutationCallback } from './core.js';
import { GarbageCollector } from './garbage-collector.js';
import { LevelContainerStore } from './container-store.js';
import { LevelImageStore } from './image-store.js';
import type { LevelDatabase } from './kv.js';
import { LevelLeaseManager } from './lease-manager.js';
import { createNamespacedContentStore, type NamespacedContentStore, type SharingPolicy } from './namespaced-content.js';
import { LevelNamespaceStore } from './namespace-store.js';
import { createNamespacedSnapshotter, type NamespacedSnapshotter } from './namespaced-snapshotter.js';
import { initSchema, MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema.js';

/** MetadataDBOptions tune {@link openMetadataDB}; the defaults suit the daemon. */
export interface MetadataDBOptions {
  /** migrations to apply on open; the built-in list unless given. */
  migrations?: readonly Migration[];
  /** the layout version to bring the database to; {@link SCHEMA_VERSION} unless given. */
  schemaVersion?: number;
  /** the clock, for timestamps, lease expiry and ingest expiry (tests pin it). */
  now?: () => Date;
}

/**
 * MetadataDB is the open metadata database: the namespaced stores, the content wrapper and the
 * garbage collector, all over one LevelDB.
 */
export interface MetadataDB {
  readonly namespaces: LevelNamespaceStore;
  readonly images: LevelImageStore;
  readonly containers: LevelContainerStore;
  readonly leases: LevelLeaseManager;
  readonly gc: GarbageCollector;
  /**
   * core is the shared write lock, clock and transaction machinery, for the other layers kept in
   * this database (the snapshot wrapper writes its records and lease holds through it).
   */
  readonly core: MetaCore;
  /** schemaVersion is the layout version the database is at. */
  readonly schemaVersion: number;
  /** migrated lists the versions the open migrated through (empty when none ran). */
  readonly migrated: readonly number[];
  /**
   * contentStore wraps `backing` so that each namespace sees only the blobs it references, and
   * makes it the store whose orphans collections delete. Call it once per backing store.
   */
  contentStore(backing: ContentStore, policy?: SharingPolicy): NamespacedContentStore;
  /**
   * addSnapshotter wraps the backend snapshotter `backend` under the name `name`, so that each
   * namespace has its own keys, and registers it with garbage collection. Call it once per backend.
   */
  addSnapshotter(name: string, backend: Snapshotter): NamespacedSnapshotter;
  /**
   * snapshotter returns the wrapped snapshotter `name`; an empty name is InvalidArgument
   * `snapshotter argument missing`, an unknown one InvalidArgument `snapshotter not loaded: <name>`.
   */
  snapshotter(name: string): NamespacedSnapshotter;
  /** snapshotterNames lists the wrapped snapshotters. */
  readonly snapshotterNames: readonly string[];
  /** onMutation registers a callback run after every committed change (for a GC scheduler). */
  onMutation(fn: MutationCallback): () => void;
  /** isDirty reports whether anything was dereferenced since the last collection. */
  readonly isDirty: boolean;
  /** close closes the underlying database (also one passed in). */
  close(): Promise<void>;
}

/**
 * openMetadataDB opens (creating if needed) the metadata database at directory `location`
 * through `level`, or wraps an abstract-level database (memory-level in tests), then brings its
 * layout to the current version.
 */
export async function openMetadataDB(location: string | LevelDatabase, opts: MetadataDBOptions = {}): Promise<MetadataDB> {
  const db: LevelDatabase = typeof location === 'string' ? new Level<string, string>(location) : location;
  await db.open();
  const core = new MetaCore(db, opts.now ?? (() => new Date()));
  const schemaVersion = opts.schemaVersion ?? SCHEMA_VERSION;
  let migrated: number[];
  try {
    migrated = await initSchema(core, schemaVersion, opts.migrations ?? MIGRATIONS);
  } catch (err) {
    await db.close();
    throw err;
  }
  const gc = new GarbageCollector(core);
  const snapshotters = new Map<string, NamespacedSnapshotter>();
  return {
    namespaces: new LevelNamespaceStore(core),
    images: new LevelImageStore(core),
    containers: new LevelContainerStore(core),
    leases: new LevelLeaseManager(core),
    gc,
    core,
    schemaVersion,
    migrated,
    contentStore(backing, policy) {
      gc.setContentBackend(backing);
      return createNamespacedContentStore(core, backing, policy);
    },
    addSnapshotter(name, backend) {
      const s = createNamespacedSnapshotter(core, gc, name, backend);
      snapshotters.set(name, s);
      return s;
    },
    snapshotter(name) {
      if (!name) throw new InvalidArgumentError('snapshotter argument missing');
      const s = snapshotters.get(name);
      if (!s) throw new InvalidArgumentError(`snapshotter not loaded: ${name}`);
      return s;
    },
    get snapshotterNames() {
      return [...snapshotters.keys()];
    },
    onMutation: (fn) => core.onMutation(fn),
    get isDirty() {
      return core.isDirty;
    },
    // A collection cleans the backends after it releases the write lock: wait for it too.
    close: async () => {
      await gc.idle();
      await core.lock.run(() => db.close());
    },
  };
}
