import { fault } from '@ctrd/fault';
import type { ContentStore } from '@ctrd/content';
import type { MetaCore } from './core.js';
import { namespaceCollectable, namespaceRoots, references } from './gc-graph.js';
import { KEYS } from './keys.js';
import type { ReadView } from './kv.js';
import { namespaceTrees } from './memory-tree.js';
import { Mutex } from './mutex.js';
import type { IngestRecord, SnapshotRecord } from './records.js';
import { nodeId, tricolor } from './tricolor.js';

/** RemovedSnapshot is a snapshot record a collection removed; its backend snapshot may now go. */
export interface RemovedSnapshot {
  namespace: string;
  snapshotter: string;
  key: string;
  /** the backend snapshot name the record pointed at. */
  name: string;
}

/**
 * SnapshotCollector frees a snapshotter's backend after a collection removed some of its records
 * (the snapshot layer registers one per snapshotter). It resolves to the number of backend
 * snapshots it removed.
 */
export type SnapshotCollector = (removed: readonly RemovedSnapshot[]) => Promise<number>;

/** GcStats reports one collection. */
export interface GcStats {
  /** metadata records removed, by kind. */
  removed: { leases: number; content: number; ingests: number; snapshots: number };
  /** backend objects removed: blobs and ingests from the content store, snapshots per snapshotter. */
  backend: { blobs: number; ingests: number; snapshots: Record<string, number> };
  /** time spent marking and sweeping metadata. */
  metaMs: number;
  /** time of the whole collection, backend cleanup included. */
  totalMs: number;
}

/** ContentBackend is the part of the backing content store a collection uses. */
export type ContentBackend = Pick<ContentStore, 'list' | 'delete' | 'listStatuses' | 'abort'>;

/**
 * GarbageCollector runs containerd's tri-color mark-and-sweep over the metadata database, then
 * frees what the sweep orphaned in the backends. Mark, sweep and the content cleanup hold the
 * write lock, so nothing changes in between. The snapshotters' cleanup runs after it is released,
 * as containerd's does: removing layer directories can take milliseconds, and writers need not
 * wait for it. It is safe without the lock because a collector removes only a backend snapshot
 * that was not being created when it looked and that no record named afterwards (see
 * collectBackend).
 */
export class GarbageCollector {
  private content: ContentBackend | undefined;
  private readonly snapshotters = new Map<string, SnapshotCollector>();
  /** one collection at a time, its snapshot cleanup included. */
  private readonly running = new Mutex();

  constructor(private readonly core: MetaCore) {}

  /** setContentBackend names the content store whose blobs the metadata references. */
  setContentBackend(backend: ContentBackend): void {
    this.content = backend;
  }

  /** registerSnapshotCollector installs the cleanup for one snapshotter and returns its remover. */
  registerSnapshotCollector(snapshotter: string, fn: SnapshotCollector): () => void {
    this.snapshotters.set(snapshotter, fn);
    return () => {
      if (this.snapshotters.get(snapshotter) === fn) this.snapshotters.delete(snapshotter);
    };
  }

  /** idle resolves once no collection is running, its cleanup of the backends included. */
  idle(): Promise<void> {
    return this.running.run(async () => {});
  }

  /** collect runs one collection and reports what it removed. */
  collect(): Promise<GcStats> {
    return this.running.run(async () => {
      let t0 = 0;
      const stats: GcStats = {
        removed: { leases: 0, content: 0, ingests: 0, snapshots: 0 },
        backend: { blobs: 0, ingests: 0, snapshots: {} },
        metaMs: 0,
        totalMs: 0,
      };
      const removedSnapshots = await this.core.lock.run(async () => {
        t0 = performance.now();
        const removed = await this.sweep(stats);
        stats.metaMs = performance.now() - t0;
        fault('metadata.gc.after-batch');
        if (this.content && this.core.contentDirty) {
          await this.cleanContent(this.content, stats);
          this.core.contentDirty = false;
        }
        return removed;
      });
      await this.cleanSnapshots(removedSnapshots, stats);
      stats.totalMs = performance.now() - t0;
      return stats;
    });
  }

  private async sweep(stats: GcStats): Promise<RemovedSnapshot[]> {
    const removed: RemovedSnapshot[] = [];
    await this.core.writeLocked(async (tx) => {
      const now = this.core.now();
      // One scan reads the records, a namespace at a time; marking and sweeping are done in memory.
      for await (const { namespace, tree } of namespaceTrees(tx)) {
        const marked = tricolor(namespaceRoots(tree, namespace, now), (n) => references(tree, n));
        for (const rec of namespaceCollectable(tree, namespace)) {
          if (marked.has(nodeId(rec.node))) continue;
          tx.del(rec.key);
          for (const [k] of tree.descendants(rec.key)) tx.del(k);
          const n = rec.node;
          if (n.type === 'lease') stats.removed.leases++;
          else if (n.type === 'content') stats.removed.content++;
          else if (n.type === 'ingest') stats.removed.ingests++;
          else {
            // A removed snapshot leaves its parent's list of children (a parent removed as well
            // goes with its whole subtree).
            const parent = tree.get<SnapshotRecord>(rec.key)?.parent;
            if (parent !== undefined) tx.del(KEYS.snapshotChild(n.namespace, n.snapshotter!, parent, n.key));
            stats.removed.snapshots++;
            removed.push({ namespace: n.namespace, snapshotter: n.snapshotter!, key: n.key, name: rec.backendName ?? '' });
            this.core.dirtySnapshotters.add(n.snapshotter!);
          }
          if (n.type === 'content' || n.type === 'ingest') this.core.contentDirty = true;
        }
      }
    });
    this.core.resetDirty();
    return removed;
  }

  private async cleanContent(backend: ContentBackend, stats: GcStats): Promise<void> {
    const { blobs, ingests } = await this.core.read(referencedContent);
    const doomed: string[] = [];
    for await (const info of backend.list()) if (!blobs.has(info.digest) && !this.core.isPinned(info.digest)) doomed.push(info.digest);
    for (const digest of doomed) {
      await backend.delete(digest);
      stats.backend.blobs++;
    }
    for (const st of await backend.listStatuses()) {
      if (ingests.has(st.ref)) continue;
      await backend.abort(st.ref);
      stats.backend.ingests++;
    }
  }

  private async cleanSnapshots(removed: readonly RemovedSnapshot[], stats: GcStats): Promise<void> {
    for (const snapshotter of [...this.core.dirtySnapshotters]) {
      const fn = this.snapshotters.get(snapshotter);
      if (!fn) continue;
      // Cleared before the cleanup runs: a removal meanwhile marks the snapshotter dirty again.
      this.core.dirtySnapshotters.delete(snapshotter);
      try {
        stats.backend.snapshots[snapshotter] = await fn(removed.filter((r) => r.snapshotter === snapshotter));
      } catch (err) {
        this.core.dirtySnapshotters.add(snapshotter);
        throw err;
      }
    }
  }
}

/**
 * referencedContent gathers, across every namespace, the digests some namespace still references
 * (blob records and the expected digest of shared ingests) and the backend refs of live ingests.
 */
async function referencedContent(view: ReadView): Promise<{ blobs: Set<string>; ingests: Set<string> }> {
  const blobs = new Set<string>();
  const ingests = new Set<string>();
  for await (const { name: ns } of view.children(KEYS.root)) {
    for await (const b of view.children(KEYS.blobs(ns))) blobs.add(b.name);
    for await (const i of view.records<IngestRecord>(KEYS.ingests(ns))) {
      if (i.value.expected) blobs.add(i.value.expected);
      if (i.value.ref) ingests.add(i.value.ref);
    }
  }
  return { blobs, ingests };
}
