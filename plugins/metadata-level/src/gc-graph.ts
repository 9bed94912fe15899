import { GC_LABELS, gcLabelRefs } from '@ctrd/metadata';
import { KEYS, splitKey } from './keys.js';
import type { ReadView } from './kv.js';
import type {
  BlobRecord,
  ContainerRecord,
  ImageRecord,
  IngestRecord,
  LeaseRecord,
  SnapshotRecord,
} from './records.js';
import { resourceFromPath } from './lease-manager.js';
import type { GcNode } from './tricolor.js';

/**
 * scanRoots lists what is alive by itself, namespace by namespace: unexpired leases and what
 * they hold, images (target and label references), containers (snapshot and label references),
 * blobs and snapshots labelled `containerd.io/gc.root`, and ingests whose expiry lies ahead.
 */
export async function scanRoots(view: ReadView, now: Date): Promise<GcNode[]> {
  const roots: GcNode[] = [];
  for await (const { name: ns } of view.records(KEYS.root)) {
    await leaseRoots(view, ns, now, roots);
    for await (const img of view.records<ImageRecord>(KEYS.images(ns))) {
      roots.push({ type: 'content', namespace: ns, key: img.value.target.digest });
      roots.push(...labelRefs(ns, img.value.labels));
    }
    for await (const blob of view.records<BlobRecord>(KEYS.blobs(ns))) {
      if (GC_LABELS.root in (blob.value.labels ?? {})) roots.push({ type: 'content', namespace: ns, key: blob.name });
    }
    for await (const ing of view.records<IngestRecord>(KEYS.ingests(ns))) {
      const exp = ing.value.expireAt ? Date.parse(ing.value.expireAt) : NaN;
      if (exp > now.getTime()) roots.push({ type: 'ingest', namespace: ns, key: ing.name });
    }
    for await (const c of view.records<ContainerRecord>(KEYS.containers(ns))) {
      if (c.value.snapshotter) {
        roots.push({ type: 'snapshot', namespace: ns, snapshotter: c.value.snapshotter, key: c.value.snapshotKey });
      }
      roots.push(...labelRefs(ns, c.value.labels));
    }
    for await (const ss of view.children(KEYS.snapshotters(ns))) {
      for await (const s of view.records<SnapshotRecord>(ss.key)) {
        if (GC_LABELS.root in (s.value.labels ?? {})) roots.push({ type: 'snapshot', namespace: ns, snapshotter: ss.name, key: s.name });
      }
    }
  }
  return roots;
}

async function leaseRoots(view: ReadView, ns: string, now: Date, roots: GcNode[]): Promise<void> {
  for await (const lease of view.records<LeaseRecord>(KEYS.leases(ns))) {
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
    for await (const [k] of view.descendants(lease.key)) {
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
export async function references(view: ReadView, node: GcNode): Promise<GcNode[]> {
  const ns = node.namespace;
  switch (node.type) {
    case 'content': {
      if (node.flat) return [];
      const blob = await view.get<BlobRecord>(KEYS.blob(ns, node.key));
      return blob ? labelRefs(ns, blob.labels) : [];
    }
    case 'snapshot': {
      const snap = await view.get<SnapshotRecord>(KEYS.snapshot(ns, node.snapshotter!, node.key));
      if (!snap) return [];
      const out: GcNode[] = [];
      if (snap.parent) out.push({ type: 'snapshot', namespace: ns, snapshotter: node.snapshotter!, key: snap.parent, flat: node.flat });
      if (!node.flat) out.push(...labelRefs(ns, snap.labels ?? {}));
      return out;
    }
    case 'ingest': {
      const ing = await view.get<IngestRecord>(KEYS.ingest(ns, node.key));
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

/** scanCollectable lists every record a collection may remove: leases, snapshots, ingests and blobs. */
export async function scanCollectable(view: ReadView): Promise<CollectableRecord[]> {
  const out: CollectableRecord[] = [];
  for await (const { name: ns } of view.records(KEYS.root)) {
    for await (const l of view.records(KEYS.leases(ns))) out.push({ node: { type: 'lease', namespace: ns, key: l.name }, key: l.key });
    for await (const ss of view.children(KEYS.snapshotters(ns))) {
      for await (const s of view.records<SnapshotRecord>(ss.key)) {
        out.push({
          node: { type: 'snapshot', namespace: ns, snapshotter: ss.name, key: s.name },
          key: s.key,
          backendName: s.value.name,
        });
      }
    }
    for await (const i of view.records(KEYS.ingests(ns))) out.push({ node: { type: 'ingest', namespace: ns, key: i.name }, key: i.key });
    for await (const b of view.records(KEYS.blobs(ns))) out.push({ node: { type: 'content', namespace: ns, key: b.name }, key: b.key });
  }
  return out;
}
