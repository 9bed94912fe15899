import type { ContentStore } from '@ctrd/content';
import { PluginType, createToken } from '@ctrd/plugin';
import type { Snapshotter } from '@ctrd/snapshots';
import type { ContainerStore } from './containers.js';
import type { ImageStore } from './images.js';
import type { LeaseManager } from './leases.js';
import type { NamespaceStore } from './namespaces.js';

/** GcStats reports one garbage collection: what it removed and how long it took. */
export interface GcStats {
  /** metadata records removed, by kind. */
  removed: { leases: number; content: number; ingests: number; snapshots: number };
  /** backend objects removed: blobs and ingests from the content store, snapshots per snapshotter. */
  backend: { blobs: number; ingests: number; snapshots: Record<string, number> };
  /** time spent marking and sweeping metadata, in milliseconds. */
  metaMs: number;
  /** time of the whole collection, backend cleanup included, in milliseconds. */
  totalMs: number;
}

/** ContentViewOptions scope a namespaced content view: `lease` holds everything written through it. */
export interface ContentViewOptions {
  lease?: string;
}

/**
 * MetadataStore is the daemon's metadata database as plugins see it (`io.containerd.metadata.v1`):
 * the namespaced stores, the content store as each namespace sees it, and the garbage collector
 * with the change feed a scheduler needs.
 */
export interface MetadataStore {
  readonly namespaces: NamespaceStore;
  readonly images: ImageStore;
  readonly containers: ContainerStore;
  readonly leases: LeaseManager;
  /**
   * content returns the content store of namespace `namespace`: blobs are shared by every
   * namespace in the backend but each sees only those it references. With `lease`, what the view
   * writes is held by that lease.
   */
  content(namespace: string, opts?: ContentViewOptions): ContentStore;
  /**
   * snapshotter returns snapshotter `name` as namespace `namespace` sees it (keys, parents and
   * labels kept in metadata); with `lease`, what it creates is held by that lease. An empty name
   * is InvalidArgument `snapshotter argument missing`, an unknown one InvalidArgument
   * `snapshotter not loaded: <name>`. Absent on a store that keeps no snapshots.
   */
  snapshotter?(name: string, namespace: string, opts?: ContentViewOptions): Snapshotter;
  /** snapshotterNames lists the snapshotters {@link MetadataStore.snapshotter} serves. */
  snapshotterNames?(): string[];
  /** collectGarbage runs one mark-and-sweep collection now and reports it. */
  collectGarbage(): Promise<GcStats>;
  /**
   * onMutation registers `fn` to run after every committed change, with whether anything was
   * dereferenced since the last collection; it returns the remover.
   */
  onMutation(fn: (dirty: boolean) => void): () => void;
}

/** MetadataStore is also the token of the `io.containerd.metadata.v1` plugin type. */
export const MetadataStore = createToken<MetadataStore>(PluginType.Metadata);

/**
 * GcScheduler decides when garbage collection runs (`io.containerd.gc.v1`): after deletions,
 * rate-limited so collections take a bounded share of the time, and on demand.
 */
export interface GcScheduler {
  /** schedule asks for a collection soon without waiting for it. */
  schedule(): void;
  /** scheduleAndWait asks for a collection and resolves with its stats once it has run. */
  scheduleAndWait(): Promise<GcStats>;
}

/** GcScheduler is also the token of the `io.containerd.gc.v1` plugin type. */
export const GcScheduler = createToken<GcScheduler>(PluginType.GC);
