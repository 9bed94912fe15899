import type { Mount } from '@ctrd/mount';

/**
 * Kind is a snapshot's kind, numbered as in containerd's proto: a View is read-only and can never
 * be committed, an Active is writable and can be committed once, a Committed is immutable and is
 * the only kind that can be a parent.
 */
export const Kind = {
  Unknown: 0,
  View: 1,
  Active: 2,
  Committed: 3,
} as const;

/** Kind is one of the values of {@link Kind}. */
export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_NAMES: Readonly<Record<Kind, string>> = {
  [Kind.Unknown]: 'unknown',
  [Kind.View]: 'view',
  [Kind.Active]: 'active',
  [Kind.Committed]: 'committed',
};

/** kindName returns the lower-case name filters and messages use: `view`, `active`, `committed`. */
export function kindName(kind: Kind): string {
  return KIND_NAMES[kind] ?? 'unknown';
}

/** parseKind reads a kind name (any case); an unknown name is `Kind.Unknown`. */
export function parseKind(name: string): Kind {
  switch (name.toLowerCase()) {
    case 'view':
      return Kind.View;
    case 'active':
      return Kind.Active;
    case 'committed':
      return Kind.Committed;
    default:
      return Kind.Unknown;
  }
}

/**
 * Info describes a snapshot. `name` is the key of an Active or View, or the name of a Committed
 * snapshot; `parent` is the name of the committed snapshot it was made from, absent when none.
 */
export interface Info {
  kind: Kind;
  name: string;
  parent?: string;
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** SnapshotInfo is {@link Info} under the name other packages read more easily. */
export type SnapshotInfo = Info;

/**
 * Usage is the space a snapshot takes: `size` in bytes (allocated blocks) and `inodes`. For an
 * Active snapshot it is measured on each call; for a Committed one it was recorded at commit.
 * It counts only the snapshot's own layer, not its parents.
 */
export interface Usage {
  size: number;
  inodes: number;
}

/** SnapshotOptions are the options of prepare, view and commit: the new snapshot's labels. */
export interface SnapshotOptions {
  labels?: Record<string, string>;
}

/** WalkFunc is called by {@link Snapshotter.walk} for each matching snapshot. */
export type WalkFunc = (info: Info) => void | Promise<void>;

/**
 * Snapshotter manages snapshots: layered filesystems named by keys (Active, View) or names
 * (Committed), in one flat space where a key and a name may not collide.
 *
 * Errors follow containerd: a missing snapshot is NotFound; an existing key or name is
 * AlreadyExists; a parent that is not Committed is InvalidArgument; committing a View or a
 * Committed snapshot, asking for the mounts of a Committed one, or removing a snapshot that has
 * children is FailedPrecondition; updating a field other than labels is InvalidArgument.
 *
 * Calls carry no context: a namespaced or leased wrapper binds those when it is made.
 */
export interface Snapshotter {
  /** stat returns the snapshot's info by key or name. */
  stat(key: string): Promise<Info>;
  /**
   * update changes a snapshot's labels and returns the new info. With no `fieldpaths` the labels
   * are replaced; `labels` replaces them too; `labels.<key>` sets one key from `info.labels`,
   * where an absent or empty value deletes it. Any other path is InvalidArgument. `updatedAt`
   * is set to now.
   */
  update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths?: readonly string[]): Promise<Info>;
  /** usage returns the space the snapshot's own layer uses. */
  usage(key: string): Promise<Usage>;
  /** mounts returns the mounts of an Active or View snapshot; a Committed one is FailedPrecondition. */
  mounts(key: string): Promise<Mount[]>;
  /** prepare creates an Active snapshot `key` on `parent` (none: empty) and returns its mounts. */
  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /** view creates a read-only View `key` of `parent` and returns its mounts. */
  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /**
   * commit turns the Active `key` into the Committed `name`; `key` is gone afterwards. The new
   * snapshot carries `opts.labels`, not the active one's labels.
   */
  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void>;
  /** remove deletes a snapshot; one with children is FailedPrecondition. */
  remove(key: string): Promise<void>;
  /**
   * walk calls `fn` for every snapshot matching any of `filters` (fields `name`, `parent`,
   * `kind` = view|active|committed, `labels.<key>`; none or `''` match all), in no set order.
   */
  walk(fn: WalkFunc, filters?: readonly string[]): Promise<void>;
  /** cleanup reclaims on-disk space left by removals (only snapshotters that defer it). */
  cleanup?(): Promise<void>;
  /** close releases the snapshotter; a second close does nothing. */
  close(): Promise<void>;
}

/** listSnapshots collects what {@link Snapshotter.walk} visits into an array. */
export async function listSnapshots(sn: Snapshotter, filters?: readonly string[]): Promise<Info[]> {
  const out: Info[] = [];
  await sn.walk((info) => {
    out.push(info);
  }, filters);
  return out;
}
