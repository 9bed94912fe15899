/**
 * Key encoding. A key is a path of components joined by NUL; inside a component NUL is written
 * `\x01\x01` and `\x01` is written `\x01\x02`, so any string (an image name with `/`, a snapshot key
 * with spaces) is a single component, and the children of `p` are exactly the keys in
 * `[p + "\x00", p + "\x01")`.
 */
const SEP = '\x00';
const ESC = '\x01';

/** encodeComponent escapes one path component. */
export function encodeComponent(component: string): string {
  if (!component.includes(SEP) && !component.includes(ESC)) return component;
  return component.replaceAll(ESC, '\x01\x02').replaceAll(SEP, '\x01\x01');
}

/** decodeComponent reverses {@link encodeComponent}. */
export function decodeComponent(encoded: string): string {
  if (!encoded.includes(ESC)) return encoded;
  return encoded.replace(/\x01([\x01\x02])/g, (_, c: string) => (c === '\x01' ? SEP : ESC));
}

/** pathKey joins components into one key. */
export function pathKey(...components: readonly string[]): string {
  return components.map(encodeComponent).join(SEP);
}

/** childRange is the iterator range holding every key below `parent`. */
export function childRange(parent: string): { gte: string; lt: string } {
  return { gte: parent + SEP, lt: parent + ESC };
}

/** splitChild returns the first component below `parent` of a key in its child range, and whether the key goes deeper. */
export function splitChild(parent: string, key: string): { encoded: string; deeper: boolean } {
  const rest = key.slice(parent.length + 1);
  const i = rest.indexOf(SEP);
  return i < 0 ? { encoded: rest, deeper: false } : { encoded: rest.slice(0, i), deeper: true };
}

/** subtreeEnd is the smallest key after every key at or below `key`. */
export function subtreeEnd(key: string): string {
  return key + ESC;
}

/** splitKey splits a whole key back into its decoded components. */
export function splitKey(key: string): string[] {
  return key.split(SEP).map(decodeComponent);
}

/** SCHEMA is the root component of the current layout. */
export const SCHEMA = 'v1';

/**
 * KEYS builds every key of the layout drawn in the package documentation.
 */
export const KEYS = {
  version: 'version',
  ingestSequence: 'ingestseq',
  root: SCHEMA,
  namespace: (ns: string) => pathKey(SCHEMA, ns),
  images: (ns: string) => pathKey(SCHEMA, ns, 'images'),
  image: (ns: string, name: string) => pathKey(SCHEMA, ns, 'images', name),
  containers: (ns: string) => pathKey(SCHEMA, ns, 'containers'),
  container: (ns: string, id: string) => pathKey(SCHEMA, ns, 'containers', id),
  blobs: (ns: string) => pathKey(SCHEMA, ns, 'content', 'blob'),
  blob: (ns: string, digest: string) => pathKey(SCHEMA, ns, 'content', 'blob', digest),
  ingests: (ns: string) => pathKey(SCHEMA, ns, 'content', 'ingests'),
  ingest: (ns: string, ref: string) => pathKey(SCHEMA, ns, 'content', 'ingests', ref),
  snapshotters: (ns: string) => pathKey(SCHEMA, ns, 'snapshots'),
  snapshots: (ns: string, snapshotter: string) => pathKey(SCHEMA, ns, 'snapshots', snapshotter),
  snapshot: (ns: string, snapshotter: string, key: string) => pathKey(SCHEMA, ns, 'snapshots', snapshotter, key),
  /** the children of snapshot `key`, one entry each: what Remove checks, as containerd's children bucket. */
  snapshotChildren: (ns: string, snapshotter: string, key: string) => pathKey(SCHEMA, ns, 'snapshots', snapshotter, key, 'children'),
  snapshotChild: (ns: string, snapshotter: string, parent: string, child: string) =>
    pathKey(SCHEMA, ns, 'snapshots', snapshotter, parent, 'children', child),
  leases: (ns: string) => pathKey(SCHEMA, ns, 'leases'),
  lease: (ns: string, id: string) => pathKey(SCHEMA, ns, 'leases', id),
  leaseContent: (ns: string, id: string, digest: string) => pathKey(SCHEMA, ns, 'leases', id, 'content', digest),
  leaseIngest: (ns: string, id: string, ref: string) => pathKey(SCHEMA, ns, 'leases', id, 'ingests', ref),
  leaseSnapshot: (ns: string, id: string, snapshotter: string, key: string) =>
    pathKey(SCHEMA, ns, 'leases', id, 'snapshots', snapshotter, key),
} as const;
