import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { UnavailableError } from '@ctrd/errdefs';
import { KEYS, splitKey, type BlobRecord, type ContainerRecord, type ImageRecord, type IngestRecord, type SnapshotRecord } from '@ctrd/metadata-level';
import { kindName, parseKind } from '@ctrd/snapshots';
import type { ContentState } from './content-check.js';
import type { BackendSnapshot } from './snapshot-check.js';
import { Findings } from './types.js';

interface Records {
  images: Array<{ ns: string; name: string; value: ImageRecord }>;
  containers: Array<{ ns: string; id: string; value: ContainerRecord }>;
  blobs: Map<string, Set<string>>;
  ingests: Array<{ ns: string; ref: string; value: IngestRecord }>;
  snapshots: Map<string, { ns: string; sn: string; key: string; value: SnapshotRecord }>;
}

const snapId = (ns: string, sn: string, key: string) => JSON.stringify([ns, sn, key]);

async function readRecords(path: string): Promise<Records> {
  const db = new Level<string, string>(path, { createIfMissing: false });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new UnavailableError(`metadata database ${path} is locked: is ctrd running?`, { cause: err });
    throw err;
  }
  const r: Records = { images: [], containers: [], blobs: new Map(), ingests: [], snapshots: new Map() };
  try {
    const root = KEYS.root;
    for await (const [key, raw] of db.iterator({ gte: `${root}\x00`, lt: `${root}\x01` })) {
      const c = splitKey(key);
      const ns = c[1]!;
      const value = JSON.parse(raw) as unknown;
      if (c.length === 4 && c[2] === 'images') r.images.push({ ns, name: c[3]!, value: value as ImageRecord });
      else if (c.length === 4 && c[2] === 'containers') r.containers.push({ ns, id: c[3]!, value: value as ContainerRecord });
      else if (c.length === 5 && c[2] === 'content' && c[3] === 'blob') {
        const set = r.blobs.get(ns) ?? new Set<string>();
        set.add(c[4]!);
        r.blobs.set(ns, set);
        void (value as BlobRecord);
      } else if (c.length === 5 && c[2] === 'content' && c[3] === 'ingests') r.ingests.push({ ns, ref: c[4]!, value: value as IngestRecord });
      else if (c.length === 5 && c[2] === 'snapshots') {
        r.snapshots.set(snapId(ns, c[3]!, c[4]!), { ns, sn: c[3]!, key: c[4]!, value: value as SnapshotRecord });
      }
    }
  } finally {
    await db.close();
  }
  return r;
}

/**
 * checkMetadata checks every reference in the LevelDB metadata database at `path` against the
 * stores: each namespace's blob records name a blob in the content store, each image's target
 * is one of its namespace's blobs, each container's snapshot key has a snapshot record, each
 * snapshot record's parent exists and its backend snapshot exists with the same kind (an error
 * otherwise: a dangling reference or a half-committed snapshot). Blobs and backend snapshots no
 * record names are garbage the next collection removes (warnings). A task bundle under `taskRoot`
 * must belong to an existing container (error otherwise). Also returns the backend
 * names the records use, by snapshotter.
 */
export async function checkMetadata(
  path: string,
  content: ContentState,
  backends: ReadonlyMap<string, Map<string, BackendSnapshot>>,
  checked: Record<string, number>,
  taskRoot?: string,
): Promise<{ findings: Findings; named?: Map<string, Set<string>> }> {
  const f = new Findings('metadata');
  if (!existsSync(path)) return { findings: f };
  const r = await readRecords(path);
  const referenced = new Set<string>();
  for (const [ns, blobs] of r.blobs) {
    for (const digest of blobs) {
      checked.blobRecords = (checked.blobRecords ?? 0) + 1;
      referenced.add(digest);
      if (!content.blobs.has(digest)) f.add('error', 'blob-missing', `${ns}/content/${digest}`, 'namespace references a blob the content store does not have');
    }
  }
  for (const { ns, name, value } of r.images) {
    checked.images = (checked.images ?? 0) + 1;
    const d = value.target?.digest;
    if (!d) f.add('error', 'image-target-invalid', `${ns}/images/${name}`, 'image has no target digest');
    else if (!content.blobs.has(d)) f.add('error', 'image-target-missing', `${ns}/images/${name}`, `target ${d} is not in the content store`);
    else if (!r.blobs.get(ns)?.has(d)) f.add('error', 'image-target-unreferenced', `${ns}/images/${name}`, `target ${d} is not one of the namespace's blobs`);
  }
  for (const { ns, id, value } of r.containers) {
    checked.containers = (checked.containers ?? 0) + 1;
    if (!value.snapshotKey) continue;
    // A warning, not an error: the API lets a client remove a container's snapshot (containerd's
    // client removes it before the container, in two calls a crash can separate), so this is a
    // state the daemon permits; `ctr containers rm --keep-snapshot` clears it.
    if (!r.snapshots.has(snapId(ns, value.snapshotter, value.snapshotKey))) {
      f.add('warning', 'container-snapshot-missing', `${ns}/containers/${id}`, `snapshot ${JSON.stringify(value.snapshotKey)} (${value.snapshotter}) does not exist`);
    }
  }
  if (taskRoot && existsSync(taskRoot)) {
    const ids = new Set(r.containers.map((c) => JSON.stringify([c.ns, c.id])));
    for (const ns of await readdir(taskRoot)) {
      for (const id of existsSync(join(taskRoot, ns)) ? await readdir(join(taskRoot, ns)) : []) {
        if (id.startsWith('.')) continue;
        checked.taskBundles = (checked.taskBundles ?? 0) + 1;
        if (!ids.has(JSON.stringify([ns, id]))) {
          f.add('error', 'task-bundle-orphan', join(taskRoot, ns, id), `task bundle of container ${JSON.stringify(id)} in namespace ${ns}, which does not exist (the id cannot be reused)`);
        }
      }
    }
  }
  for (const { ns, ref, value } of r.ingests) {
    if (!content.ingests.has(value.ref)) f.add('warning', 'ingest-record-stale', `${ns}/ingests/${ref}`, `backend ingest ${value.ref} is gone (committed or aborted)`);
  }
  const named = new Map<string, Set<string>>();
  for (const { ns, sn, key, value } of r.snapshots.values()) {
    checked.snapshotRecords = (checked.snapshotRecords ?? 0) + 1;
    const subject = `${ns}/snapshots/${sn}/${key}`;
    if (value.parent && !r.snapshots.has(snapId(ns, sn, value.parent))) {
      f.add('error', 'snapshot-record-parent-missing', subject, `parent ${JSON.stringify(value.parent)} has no record`);
    }
    const backend = backends.get(sn);
    if (!backend) continue;
    const names = named.get(sn) ?? new Set<string>();
    names.add(value.name);
    named.set(sn, names);
    const b = backend.get(value.name);
    const c = value.committing;
    if (c) names.add(c.backend);
    if (!b && c && backend.has(c.backend)) {
      f.add('warning', 'snapshot-commit-pending', subject, `commit to ${JSON.stringify(c.name)} was interrupted after the backend committed; ctrd finishes it at start`);
    } else if (!b) f.add('error', 'snapshot-backend-missing', subject, `backend snapshot ${JSON.stringify(value.name)} does not exist`);
    else if (value.kind && parseKind(value.kind) !== b.kind) {
      f.add('error', 'snapshot-kind-mismatch', subject, `record says ${value.kind}, backend snapshot ${JSON.stringify(value.name)} is ${kindName(b.kind)}`);
    }
  }
  for (const digest of content.blobs) {
    if (!referenced.has(digest)) f.add('warning', 'blob-unreferenced', digest, 'no namespace references this blob (garbage)');
  }
  for (const [sn, backend] of backends) {
    for (const name of backend.keys()) {
      if (!named.get(sn)?.has(name)) f.add('warning', 'snapshot-unreferenced', `${sn}/${name}`, 'no record names this backend snapshot (garbage)');
    }
  }
  return { findings: f, named };
}
