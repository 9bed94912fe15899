import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '@ctrd/errdefs';
import { parseAll } from '@ctrd/filters';
import { adaptSnapshot } from '../filter.js';
import type { Overlay } from './overlay.js';
import { type Info, Kind, type SnapshotOptions, type Usage, kindName } from '../snapshotter.js';

/** SnapshotRecord is how a snapshot is kept on disk; times are ISO strings. */
export interface SnapshotRecord {
  id: string;
  kind: Kind;
  parent?: string;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  size?: number;
  inodes?: number;
}

/**
 * StoreState is the whole content of a {@link MetaStore}: records by key and the next ID, with
 * how many records name each key as their parent.
 */
export interface StoreState {
  nextId: number;
  snapshots: Map<string, SnapshotRecord>;
  children: ReadonlyMap<string, number>;
}

/**
 * TxState is what a transaction works on: an {@link Overlay} on the committed records, and the
 * committed records' count of children, which the transaction corrects with its own changes.
 */
export interface TxState extends StoreState {
  snapshots: Overlay;
}

/** countChild adds `delta` to the children of `parent` in `children`, dropping a count that reaches 0. */
export function countChild(children: Map<string, number>, parent: string | undefined, delta: number): void {
  if (!parent) return;
  const n = (children.get(parent) ?? 0) + delta;
  if (n > 0) children.set(parent, n);
  else children.delete(parent);
}

/**
 * StoredSnapshot is what a backend needs to lay a snapshot out: its backend ID, its kind and the
 * IDs of its parents, nearest first.
 */
export interface StoredSnapshot {
  id: string;
  kind: Kind;
  parentIds: string[];
}

// Labels are copied key by key onto a prototype-free object so a key such as "__proto__" stays data.
function copyLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (v !== '') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function toInfo(name: string, r: SnapshotRecord): Info {
  const info: Info = {
    kind: r.kind,
    name,
    labels: copyLabels(r.labels),
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  };
  if (r.parent) info.parent = r.parent;
  return info;
}

/**
 * MetaTransaction is the view of a {@link MetaStore} inside `view` or `update`; it implements
 * containerd's storage rules. Write methods throw FailedPrecondition in a read-only transaction.
 */
export class MetaTransaction {
  constructor(
    private readonly state: TxState,
    readonly writable: boolean,
  ) {}

  private record(key: string): SnapshotRecord {
    const r = this.state.snapshots.get(key);
    if (r === undefined) throw new NotFoundError(`snapshot ${key} does not exist`);
    return r;
  }

  private checkWritable(): void {
    if (!this.writable) throw new FailedPreconditionError('snapshot metadata: transaction is read-only');
  }

  private parentIds(parent: string | undefined): string[] {
    const ids: string[] = [];
    for (let p = parent; p; ) {
      const r = this.state.snapshots.get(p);
      if (r === undefined) throw new NotFoundError(`parent snapshot ${p} does not exist`);
      ids.push(r.id);
      p = r.parent;
    }
    return ids;
  }

  /** getInfo returns a snapshot's backend ID, info and recorded usage. */
  getInfo(key: string): { id: string; info: Info; usage: Usage } {
    const r = this.record(key);
    return { id: r.id, info: toInfo(key, r), usage: { size: r.size ?? 0, inodes: r.inodes ?? 0 } };
  }

  /** getSnapshot returns the layout of an Active or View snapshot; a Committed one is FailedPrecondition. */
  getSnapshot(key: string): StoredSnapshot {
    const r = this.record(key);
    if (r.kind !== Kind.Active && r.kind !== Kind.View) {
      throw new FailedPreconditionError(`requested snapshot ${key} not active or view`);
    }
    return { id: r.id, kind: r.kind, parentIds: this.parentIds(r.parent) };
  }

  /**
   * createSnapshot records a new Active or View snapshot on `parent`, which must exist and be
   * Committed (InvalidArgument otherwise). An existing key is AlreadyExists.
   */
  createSnapshot(kind: Kind, key: string, parent: string | undefined, opts: SnapshotOptions = {}): StoredSnapshot {
    this.checkWritable();
    if (kind !== Kind.Active && kind !== Kind.View) {
      throw new InvalidArgumentError(`snapshot type ${kindName(kind)} invalid; only snapshots of type Active or View can be created`);
    }
    if (key === '') throw new InvalidArgumentError('snapshot key must not be empty');
    if (parent) {
      const p = this.state.snapshots.get(parent);
      if (p === undefined) throw new NotFoundError(`parent snapshot ${parent} does not exist`);
      if (p.kind !== Kind.Committed) throw new InvalidArgumentError(`parent "${parent}" is not committed snapshot`);
    }
    if (this.state.snapshots.has(key)) throw new AlreadyExistsError(`snapshot ${key}`);
    const id = String(this.state.nextId++);
    const now = new Date().toISOString();
    const rec: SnapshotRecord = { id, kind, labels: copyLabels(opts.labels), createdAt: now, updatedAt: now };
    if (parent) rec.parent = parent;
    this.state.snapshots.set(key, rec);
    return { id, kind, parentIds: this.parentIds(parent) };
  }

  /** updateInfo applies a label update (see `Snapshotter.update`) and returns the new info. */
  updateInfo(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths: readonly string[] = []): Info {
    this.checkWritable();
    const r = this.record(info.name);
    let labels = copyLabels(r.labels);
    if (fieldpaths.length === 0) {
      labels = copyLabels(info.labels);
    }
    for (const path of fieldpaths) {
      if (path.startsWith('labels.')) {
        const key = path.slice('labels.'.length);
        const v = info.labels && Object.prototype.hasOwnProperty.call(info.labels, key) ? info.labels[key]! : '';
        labels = copyLabels({ ...labels, [key]: v });
        if (v === '') delete labels[key];
      } else if (path === 'labels') {
        labels = copyLabels(info.labels);
      } else {
        throw new InvalidArgumentError(`cannot update "${path}" field on snapshot "${info.name}"`);
      }
    }
    // A new record, not an edit in place: stored records are shared with readers and frozen.
    const updated: SnapshotRecord = { ...r, labels, updatedAt: new Date().toISOString() };
    this.state.snapshots.set(info.name, updated);
    return toInfo(info.name, updated);
  }

  /** walkInfo calls `fn` for each snapshot matching any of `filters`; a bad filter is InvalidArgument. */
  async walkInfo(fn: (info: Info) => void | Promise<void>, filters: readonly string[] = []): Promise<void> {
    const filter = parseAll(filters);
    for (const [key, r] of [...this.state.snapshots]) {
      const info = toInfo(key, r);
      if (filter.match(adaptSnapshot(info))) await fn(info);
    }
  }

  /** remove deletes a snapshot's record and returns its ID and kind; one with children is FailedPrecondition. */
  remove(key: string): { id: string; kind: Kind } {
    this.checkWritable();
    const r = this.record(key);
    if (this.hasChildren(key)) throw new FailedPreconditionError(`cannot remove snapshot with child`);
    this.state.snapshots.delete(key);
    return { id: r.id, kind: r.kind };
  }

  /**
   * hasChildren reports whether any record names `key` as its parent: the committed count,
   * corrected by this transaction's own changes. It does not read every record, so removing
   * many snapshots from a large store is not quadratic.
   */
  private hasChildren(key: string): boolean {
    let n = this.state.children.get(key) ?? 0;
    for (const [, before, after] of this.state.snapshots.changes()) {
      if (before?.parent === key) n--;
      if (after?.parent === key) n++;
    }
    return n > 0;
  }

  /**
   * commitActive turns the Active `key` into the Committed `name`, keeping its backend ID and
   * recording `usage`; the new record has `opts.labels` and fresh times. An existing `name` is
   * AlreadyExists, a `key` that is not Active FailedPrecondition. Returns the backend ID.
   */
  commitActive(key: string, name: string, usage: Usage, opts: SnapshotOptions = {}): string {
    this.checkWritable();
    if (name === '') throw new InvalidArgumentError('snapshot name must not be empty');
    if (this.state.snapshots.has(name)) throw new AlreadyExistsError(`committed snapshot ${name}`);
    const r = this.record(key);
    if (r.kind !== Kind.Active) throw new FailedPreconditionError(`snapshot "${key}" is not active`);
    const now = new Date().toISOString();
    const rec: SnapshotRecord = {
      id: r.id,
      kind: Kind.Committed,
      labels: copyLabels(opts.labels),
      createdAt: now,
      updatedAt: now,
      size: usage.size,
      inodes: usage.inodes,
    };
    if (r.parent) rec.parent = r.parent;
    this.state.snapshots.delete(key);
    this.state.snapshots.set(name, rec);
    return r.id;
  }

  /** idMap maps every backend ID to its snapshot's key or name. */
  idMap(): Map<string, string> {
    return new Map([...this.state.snapshots].map(([k, r]) => [r.id, k]));
  }
}
