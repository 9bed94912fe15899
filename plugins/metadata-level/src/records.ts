import type { Any, Container, ContainerFields, Descriptor, Image, Lease } from '@ctrd/metadata';

/**
 * Records are stored as JSON: readable with any LevelDB tool, and tolerant of added fields, so most
 * schema changes need no migration. Times are ISO-8601 strings (millisecond precision, like `Date`);
 * bytes (the payload of an `Any`) are base64.
 */

/** AnyRecord is a stored `Any`. */
export interface AnyRecord {
  typeUrl: string;
  value: string;
}

/** NamespaceRecord is stored at `v1/<ns>`. */
export interface NamespaceRecord {
  labels: Record<string, string>;
}

/** ImageRecord is stored at `v1/<ns>/images/<name>`. */
export interface ImageRecord {
  labels: Record<string, string>;
  target: Descriptor;
  createdAt: string;
  updatedAt: string;
}

/** ContainerRecord is stored at `v1/<ns>/containers/<id>`. */
export interface ContainerRecord {
  labels: Record<string, string>;
  image: string;
  runtime: { name: string; options?: AnyRecord };
  spec?: AnyRecord;
  snapshotter: string;
  snapshotKey: string;
  extensions: Record<string, AnyRecord>;
  createdAt: string;
  updatedAt: string;
}

/** LeaseRecord is stored at `v1/<ns>/leases/<id>`. */
export interface LeaseRecord {
  labels: Record<string, string>;
  createdAt: string;
}

/** BlobRecord is a namespace's reference to a blob, stored at `v1/<ns>/content/blob/<digest>`. */
export interface BlobRecord {
  size: number;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

/**
 * IngestRecord is a namespace's ingest, stored at `v1/<ns>/content/ingests/<ref>`: the backend ref,
 * when it stops being a GC root unless a lease holds it, and the digest and size it shares when
 * the blob already exists in the backend (shared policy).
 */
export interface IngestRecord {
  ref: string;
  startedAt: string;
  expireAt?: string;
  expected?: string;
  size?: number;
}

/**
 * SnapshotRecord is a namespace's snapshot, stored at `v1/<ns>/snapshots/<snapshotter>/<key>`:
 * `name` is the backend key (`<ns>/<n>/<key>`). Garbage collection reads `parent` (a key in the
 * same namespace and snapshotter) and `labels`; the rest belongs to the snapshot layer.
 */
export interface SnapshotRecord {
  name: string;
  parent?: string;
  kind?: string;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  children?: string[];
  /**
   * committing is set on an Active record while the backend commits it: the committed record's
   * key, backend name, labels and lease, so that a commit cut short by a crash after the backend
   * finished is completed on restart (see `recoverCommits`).
   */
  committing?: { name: string; backend: string; labels: Record<string, string>; lease?: string };
}

/** encodeAny stores an `Any`. */
export function encodeAny(a: Any): AnyRecord {
  return { typeUrl: a.typeUrl, value: Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength).toString('base64') };
}

/** decodeAny reads a stored `Any`. */
export function decodeAny(a: AnyRecord): Any {
  return { typeUrl: a.typeUrl, value: new Uint8Array(Buffer.from(a.value, 'base64')) };
}

/** imageFromRecord rebuilds an image from its record. */
export function imageFromRecord(name: string, r: ImageRecord): Image {
  return { name, labels: { ...r.labels }, target: r.target, createdAt: new Date(r.createdAt), updatedAt: new Date(r.updatedAt) };
}

/** containerToRecord stores a container's fields with its timestamps. */
export function containerToRecord(c: ContainerFields, createdAt: Date, updatedAt: Date): ContainerRecord {
  const r: ContainerRecord = {
    labels: c.labels,
    image: c.image,
    runtime: { name: c.runtime.name },
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    extensions: Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, encodeAny(v)])),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
  if (c.runtime.options) r.runtime.options = encodeAny(c.runtime.options);
  if (c.spec) r.spec = encodeAny(c.spec);
  return r;
}

/** containerFromRecord rebuilds a container from its record. */
export function containerFromRecord(id: string, r: ContainerRecord): Container {
  const c: Container = {
    id,
    labels: { ...r.labels },
    image: r.image,
    runtime: { name: r.runtime.name },
    snapshotter: r.snapshotter,
    snapshotKey: r.snapshotKey,
    extensions: Object.fromEntries(Object.entries(r.extensions ?? {}).map(([k, v]) => [k, decodeAny(v)])),
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  };
  if (r.runtime.options) c.runtime.options = decodeAny(r.runtime.options);
  if (r.spec) c.spec = decodeAny(r.spec);
  return c;
}

/** leaseFromRecord rebuilds a lease from its record. */
export function leaseFromRecord(id: string, r: LeaseRecord): Lease {
  return { id, labels: { ...r.labels }, createdAt: new Date(r.createdAt) };
}
