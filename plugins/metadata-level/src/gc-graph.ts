import { GC_LABELS, gcLabelRefs } from '@ctrd/metadata';
import { KEYS, splitKey } from './keys.js';
import type {
  BlobRecord,
  ContainerRecord,
  ImageRecord,
  IngestRecord,
  LeaseRecord,
  SnapshotRecord,
} from './records.js';
import { resourceFromPath } from './lease-manager.js';
import type { MemoryTree } from './memory-tree.js';
import type { GcNode } from './tricolor.js';

/**
 * namespaceRoots lists what is alive by itself in namespace `ns`: unexpired leases and what they
 * hold, images (target and label references), containers (snapshot and label references), blobs
 * and snapshots labelled `containerd.io/gc.root`, and ingests whose expiry lies ahead. Nothing in a
 * namespace references another namespace, so each is marked on its own.
 */
export function namespaceRoots(tree: MemoryTree, ns: string, now: Date): GcNode[] {
  const roots: GcNode[] = [];
  leaseRoots(tree, ns, now, roots);
  for (const img of tree.records<ImageRecord>(KEYS.images(ns))) {
    roots.push({ type: 'content', namespace: ns, key: img.value.target.digest });
    roots.push(...labelRefs(ns, img.value.labels));
  }
  // Blobs are most of a namespace's records and few carry a gc label: only those are decoded.
  for (const blob of tree.named(KEYS.blobs(ns))) {
    if (!tree.mentions(blob.key, GC_LABELS.root)) continue;
    if (GC_LABELS.root in (tree.get<BlobRecord>(blob.key)!.labels ?? {})) roots.push({ type: 'content', namespace: ns, key: blob.name });
  }
  for (const ing of tree.records<IngestRecord>(KEYS.ingests(ns))) {
    const exp = ing.value.expireAt ? Date.parse(ing.value.expireAt) : NaN;
    if (exp > now.getTime()) roots.push({ type: 'ingest', namespace: ns, key: ing.name });
  }
  for (const c of tree.records<ContainerRecord>(KEYS.containers(ns))) {
    if (c.value.snapshotter) {
      roots.push({ type: 'snapshot', namespace: ns, snapshotter: c.value.snapshotter, key: c.value.snapshotKey });
    }
    roots.push(...labelRefs(ns, c.value.labels));
  }
  for (const ss of tree.children(KEYS.snapshotters(ns))) {
    for (const s of tree.records<SnapshotRecord>(ss.key)) {
      if (GC_LABELS.root in (s.value.labels ?? {})) roots.push({ type: 'snapshot', namespace: ns, snapshotter: ss.name, key: s.name });
    }
  }
  return roots;
}

function leaseRoots(tree: MemoryTree, ns: string, now: Date, roots: GcNode[]): void {
  for (const lease of tree.records<LeaseRecord>(KEYS.leases(ns))) {
    const labels = lease.value.labels ?? {};
    const expire = labels[GC_LABELS.expire];
    if (expire !== undefined) {
      const at = Date.parse(expire);
      // An unparsable expiry is ignored, as containerd does: the lease stays alive.
      if (!Number.isNaN(at) && at < now.getTime()) continue;
    }
    const flat = GC_LABELS.flat in labels;
    roots.push({ type: 'lease', namespace: ns, key: lease.name });
    const depth = splitKey(lease.key).length;
    for (const [k] of tree.descendants(lease.key)) {
      const r = resourceFromPath(splitKey(k).slice(depth));
      if (r?.kind === 'content') roots.push({ type: 'content', namespace: ns, key: r.id, flat });
      else if (r?.kind === 'ingests') roots.push({ type: 'ingest', namespace: ns, key: r.id });
      else if (r?.kind === 'snapshots') roots.push({ type: 'snapshot', namespace: ns, snapshotter: r.snapshotter, key: r.id, flat });
    }
  }
}

/**
 * references lists what a node keeps alive: a blob's label references, a snapshot's parent
 * (with the same flatness) and label references, an ingest's expected blob.
 */
export function references(tree: MemoryTree, node: GcNode): GcNode[] {
  const ns = node.namespace;
  switch (node.type) {
    case 'content': {
      const key = KEYS.blob(ns, node.key);
      if (node.flat || !tree.mentions(key, GC_LABELS.refPrefix)) return [];
      return labelRefs(ns, tree.get<BlobRecord>(key)!.labels);
    }
    case 'snapshot': {
      const snap = tree.get<SnapshotRecord>(KEYS.snapshot(ns, node.snapshotter!, node.key));
      if (!snap) return [];
      const out: GcNode[] = [];
      if (snap.parent) out.push({ type: 'snapshot', namespace: ns, snapshotter: node.snapshotter!, key: snap.parent, flat: node.flat });
      if (!node.flat) out.push(...labelRefs(ns, snap.labels ?? {}));
      return out;
    }
    case 'ingest': {
      const ing = tree.get<IngestRecord>(KEYS.ingest(ns, node.key));
      return ing?.expected ? [{ type: 'content', namespace: ns, key: ing.expected }] : [];
    }
    default:
      return [];
  }
}

/** labelRefs turns `containerd.io/gc.ref.*` labels into nodes in `ns`. */
export function labelRefs(ns: string, labels: Readonly<Record<string, string>>): GcNode[] {
  return gcLabelRefs(labels).map((r) =>
    r.kind === 'content'
      ? { type: 'content', namespace: ns, key: r.digest }
      : { type: 'snapshot', namespace: ns, snapshotter: r.snapshotter, key: r.key },
  );
}

/** CollectableRecord is a record the sweep may remove, with the node it stands for. */
export interface CollectableRecord {
  node: GcNode;
  key: string;
  /** the backend snapshot name, for snapshots. */
  backendName?: string;
}

/** namespaceCollectable lists every record of namespace `ns` a collection may remove: leases, snapshots, ingests and blobs. */
export function namespaceCollectable(tree: MemoryTree, ns: string): CollectableRecord[] {
  const out: CollectableRecord[] = [];
  for (const l of tree.records(KEYS.leases(ns))) out.push({ node: { type: 'lease', namespace: ns, key: l.name }, key: l.key });
  for (const ss of tree.children(KEYS.snapshotters(ns))) {
    for (const s of tree.records<SnapshotRecord>(ss.key)) {
      out.push({
        node: { type: 'snapshot', namespace: ns, snapshotter: ss.name, key: s.name },
        key: s.key,
        backendName: s.value.name,
      });
    }
  }
  for (const i of tree.records(KEYS.ingests(ns))) out.push({ node: { type: 'ingest', namespace: ns, key: i.name }, key: i.key });
  for (const b of tree.named(KEYS.blobs(ns))) out.push({ node: { type: 'content', namespace: ns, key: b.name }, key: b.key });
  return out;
}
