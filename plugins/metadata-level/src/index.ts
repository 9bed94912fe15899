/**
 * `@ctrd/metadata-level` is ctrd's metadata store: every namespaced record in one LevelDB
 * database (through `level`), plus the content wrapper that gives each namespace its own view of
 * a shared content store, and the garbage collector.
 *
 * ## Key layout (schema version 2)
 *
 * Components are joined with NUL (drawn `/` here) and escaped, so a component may hold any text
 * (see `keys.ts`). Values are JSON: readable with any LevelDB tool, and tolerant of added fields.
 *
 * ```
 * version                                     {"schema":"v1","version":2}
 * ingestseq                                   last backend ingest sequence number
 * snapshotseq                                 last number used in a backend snapshot name
 * v1/
 * └── <namespace>                             {labels}                          the namespace itself
 *     ├── images/<name>                       {labels, target{mediaType,digest,size,annotations}, createdAt, updatedAt}
 *     ├── containers/<id>                     {labels, image, runtime{name,options}, spec, snapshotter,
 *     │                                        snapshotKey, extensions{<name>: Any}, createdAt, updatedAt}
 *     ├── content/
 *     │   ├── blob/<digest>                   {size, labels, createdAt, updatedAt}   this namespace's reference
 *     │   └── ingests/<ref>                   {ref: "<ns>/<n>/<ref>", startedAt, expireAt?, expected?, size?}
 *     ├── snapshots/<snapshotter>/<key>       {name: backend key, parent?, kind, labels, createdAt, updatedAt,
 *     │   │                                    committing?{name, backend, labels, lease?}}
 *     │   └── children/<child key>            1   each snapshot whose parent this is (version 2)
 *     └── leases/<id>                         {labels, createdAt}
 *         ├── content/<digest>                1
 *         ├── ingests/<ref>                   1
 *         └── snapshots/<snapshotter>/<key>   1
 * ```
 * An `Any` is `{typeUrl, value: base64}`; times are ISO-8601 text.
 *
 * A namespace record is written by the first change in that namespace; listing namespaces lists
 * these records. Deleting a namespace removes its subtree (leases and ingests included) once it
 * holds no images, blobs, containers or snapshots.
 *
 * ## Writes, reads and versions
 *
 * Every change is gathered and committed as one atomic `batch`. Writers hold one async lock across
 * their read-check-write, so creates, field-mask updates and deletes cannot interleave. Reads that
 * take several steps run against one explicit LevelDB snapshot. The `version` key says which
 * layout the data has; `openMetadataDB` runs `migrations` (`{from, to, run(tx)}`) one batch at a
 * time to reach the current one, and refuses a database newer than the code.
 *
 * ## Garbage collection
 *
 * `gc.collect()` marks from the roots (images, containers, unexpired leases, `containerd.io/gc.root`
 * blobs and snapshots, ingests not yet expired), following `containerd.io/gc.ref.*` labels and
 * snapshot parents, then removes unreachable leases, blobs, ingests and snapshot records in one
 * batch. It then deletes the backing store's blobs and ingests that no namespace references, and
 * hands removed snapshots to the collector registered for their snapshotter.
 *
 * ## Snapshots
 *
 * `db.addSnapshotter(name, backend)` wraps a backend snapshotter; `db.snapshotter(name)
 * .forNamespace(ns, { lease })` is that snapshotter as one namespace sees it. Keys live in the
 * records above; the backend only sees names `<ns>/<n>/<key>` (n from `snapshotseq`) and only the
 * `containerd.io/snapshot/*` and `containerd.io/snapshot.ref` labels. Removing a snapshot removes
 * its record; the backend snapshot goes at the next collection, which removes every backend
 * snapshot no record names. A commit marks the Active record `committing` before the backend
 * commits; `recover()`, run by the plugin at start, finishes a commit a crash cut short there.
 *
 * @packageDocumentation
 */
export { openMetadataDB, type MetadataDB, type MetadataDBOptions } from './metadata-db.js';
export { LevelNamespaceStore } from './namespace-store.js';
export { LevelImageStore } from './image-store.js';
export { LevelContainerStore } from './container-store.js';
export { LevelLeaseManager, holdInLease, leaseResourceKey, releaseFromLease } from './lease-manager.js';
export {
  createNamespacedContentStore,
  INGEST_EXPIRY_MS,
  type NamespaceContentOptions,
  type NamespacedContentStore,
} from './namespaced-content.js';
export {
  GarbageCollector,
  type ContentBackend,
  type GcStats,
  type RemovedSnapshot,
  type SnapshotCollector,
} from './garbage-collector.js';
export {
  createNamespacedSnapshotter,
  inheritedLabels,
  INHERITED_LABEL_PREFIX,
  SNAPSHOT_REF_LABEL,
  SNAPSHOT_SEQUENCE_KEY,
  type NamespacedSnapshotter,
  type SnapshotViewOptions,
} from './namespaced-snapshotter.js';
export { collectBackend } from './snapshot-collector.js';
export { MIGRATIONS, SCHEMA_VERSION, type Migration, type VersionRecord } from './schema.js';
export { KEYS, pathKey, splitKey } from './keys.js';
export type { LevelDatabase, ReadView, WriteTxn } from './kv.js';
export type { MetaCore, MutationCallback } from './core.js';
export type {
  AnyRecord,
  BlobRecord,
  ContainerRecord,
  ImageRecord,
  IngestRecord,
  LeaseRecord,
  NamespaceRecord,
  SnapshotRecord,
} from './records.js';
export { levelMetadataPlugin, metadataLevelPlugins, type LevelMetadataConfig, type LevelMetadataStore } from './plugin.js';
