import { fault } from '@ctrd/fault';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnknownError, isAlreadyExists, isNotFound } from '@ctrd/errdefs';
import { checkLabels, dropsGcReferences, filterBy, requireNamespace } from '@ctrd/metadata';
import type { Mount } from '@ctrd/mount';
import { adaptSnapshot, Kind, kindName, parseKind, type Info, type SnapshotOptions, type Snapshotter, type Usage, type WalkFunc } from '@ctrd/snapshots';
import type { MetaCore } from './core.js';
import type { GarbageCollector } from './garbage-collector.js';
import { KEYS } from './keys.js';
import type { ReadView } from './kv.js';
import { holdInLease, releaseFromLease } from './lease-manager.js';
import type { SnapshotRecord } from './records.js';
import { collectBackend } from './snapshot-collector.js';
import { recoverCommits } from './commit-recovery.js';

/** SNAPSHOT_SEQUENCE_KEY holds the last number used in a backend snapshot name. */
export const SNAPSHOT_SEQUENCE_KEY = 'snapshotseq';

/** INHERITED_LABEL_PREFIX starts the labels passed through to the backend snapshotter. */
export const INHERITED_LABEL_PREFIX = 'containerd.io/snapshot/';
/** SNAPSHOT_REF_LABEL names the committed snapshot a prepare is expected to produce (also passed through). */
export const SNAPSHOT_REF_LABEL = 'containerd.io/snapshot.ref';

/** SnapshotViewOptions scope a namespaced snapshotter: `lease` holds every snapshot it creates. */
export interface SnapshotViewOptions {
  lease?: string;
}

/**
 * NamespacedSnapshotter wraps one backend snapshotter for every namespace: keys are kept per
 * namespace in the metadata database, and the backend sees only names `<ns>/<n>/<key>`.
 */
export interface NamespacedSnapshotter {
  /** name is the snapshotter's plugin ID (`native`, `overlayfs`, …). */
  readonly name: string;
  /** backend is the wrapped, non-namespaced snapshotter. */
  readonly backend: Snapshotter;
  /** forNamespace returns the snapshotter as namespace `ns` sees it, under `opts.lease` when given. */
  forNamespace(ns: string, opts?: SnapshotViewOptions): Snapshotter;
  /**
   * recover finishes commits a crash cut short after the backend had committed (the records still
   * named the Active snapshot); run it once at start, before serving. Resolves to the number finished.
   */
  recover(): Promise<number>;
  /**
   * collect removes every backend snapshot no namespace records (children first), then runs the
   * backend's cleanup; it resolves to the number removed. Garbage collection calls it.
   */
  collect(): Promise<number>;
}

/** inheritedLabels keeps the labels the backend is given: `containerd.io/snapshot/*` and the ref label. */
export function inheritedLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(INHERITED_LABEL_PREFIX) || k === SNAPSHOT_REF_LABEL) out[k] = v;
  }
  return out;
}

/**
 * createNamespacedSnapshotter wraps `backend` under `name` and registers its collector with `gc`;
 * `MetadataDB.addSnapshotter` is the usual way in. The backend is marked dirty so that the first
 * collection also reclaims snapshots an interrupted run left without a record.
 */
export function createNamespacedSnapshotter(core: MetaCore, gc: GarbageCollector, name: string, backend: Snapshotter): NamespacedSnapshotter {
  // Backend names created but not yet recorded: a collection must not take them.
  const pending = new Set<string>();
  const collect = () => collectBackend(core, name, backend, pending);
  gc.registerSnapshotCollector(name, () => collect());
  core.dirtySnapshotters.add(name);
  return {
    name,
    backend,
    forNamespace: (ns, opts) => new NamespaceSnapshotView(core, name, backend, pending, requireNamespace(ns), opts?.lease),
    recover: () => recoverCommits(core, name, backend),
    collect,
  };
}

function infoOf(key: string, r: SnapshotRecord, backend?: Info): Info {
  const info: Info = {
    kind: backend?.kind ?? parseKind(r.kind ?? ''),
    name: key,
    labels: { ...(backend?.labels ?? {}), ...r.labels },
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  };
  if (r.parent) info.parent = r.parent;
  return info;
}

const notExist = (key: string) => new NotFoundError(`snapshot ${key} does not exist`);

/** NamespaceSnapshotView is one namespace's snapshotter, optionally under a lease. */
class NamespaceSnapshotView implements Snapshotter {
  constructor(
    private readonly core: MetaCore,
    private readonly sn: string,
    private readonly backend: Snapshotter,
    private readonly pending: Set<string>,
    private readonly ns: string,
    private readonly lease: string | undefined,
  ) {}

  private key(key: string): string {
    return KEYS.snapshot(this.ns, this.sn, key);
  }

  private async record(view: ReadView, key: string): Promise<SnapshotRecord> {
    const r = await view.get<SnapshotRecord>(this.key(key));
    if (!r) throw notExist(key);
    return r;
  }

  /**
   * current reads the record of `key` as it is now. One key needs no snapshot (MetaCore.get): a
   * read through one is a round trip to LevelDB's thread pool, Stat and Mounts on every run.
   */
  private async current(key: string): Promise<SnapshotRecord> {
    const r = await this.core.get<SnapshotRecord>(this.key(key));
    if (!r) throw notExist(key);
    return r;
  }

  private async backendName(key: string): Promise<string> {
    return (await this.current(key)).name;
  }

  async stat(key: string): Promise<Info> {
    const r = await this.current(key);
    return infoOf(key, r, await this.backend.stat(r.name));
  }

  async update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths: readonly string[] = []): Promise<Info> {
    if (!info.name) throw new InvalidArgumentError('snapshot name must not be empty');
    return this.core.write(async (tx) => {
      const r = await this.record(tx, info.name);
      let labels = { ...r.labels };
      if (fieldpaths.length === 0) labels = { ...info.labels };
      for (const path of fieldpaths) {
        if (path.startsWith('labels.')) {
          const k = path.slice('labels.'.length);
          labels[k] = info.labels?.[k] ?? '';
        } else if (path === 'labels') {
          labels = { ...info.labels };
        } else {
          throw new InvalidArgumentError(`cannot update ${JSON.stringify(path)} field on snapshot ${JSON.stringify(info.name)}`);
        }
      }
      for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
      checkLabels('info.Labels', labels);
      const next: SnapshotRecord = { ...r, labels, updatedAt: this.core.stamp() };
      tx.put(this.key(info.name), next);
      // Dropped gc labels may leave other resources unreferenced.
      tx.dirty = dropsGcReferences(r.labels, labels);
      const inner = await this.backend.update({ name: r.name, labels: inheritedLabels(labels) }, fieldpaths);
      return infoOf(info.name, next, inner);
    });
  }

  async usage(key: string): Promise<Usage> {
    return this.backend.usage(await this.backendName(key));
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.backend.mounts(await this.backendName(key));
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.Active, key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.View, key, parent, opts);
  }

  private async create(kind: Kind, key: string, parent: string | undefined, opts: SnapshotOptions = {}): Promise<Mount[]> {
    if (!key) throw new InvalidArgumentError('snapshot key must not be empty');
    const labels = { ...opts.labels };
    checkLabels('info.Labels', labels);
    const target = labels[SNAPSHOT_REF_LABEL] ?? '';
    // First step: check names and reserve a backend name.
    const { bkey, bparent } = await this.core.write(async (tx) => {
      if (target && (await tx.get(this.key(target))) !== undefined) throw new AlreadyExistsError(`target snapshot ${JSON.stringify(target)}`);
      if ((await tx.get(this.key(key))) !== undefined) throw new AlreadyExistsError(`snapshot ${JSON.stringify(key)}`);
      let bparent: string | undefined;
      if (parent) {
        const p = await tx.get<SnapshotRecord>(this.key(parent));
        if (!p) throw new NotFoundError(`parent snapshot ${parent} does not exist`);
        bparent = p.name;
      }
      const seq = ((await tx.get<number>(SNAPSHOT_SEQUENCE_KEY)) ?? 0) + 1;
      tx.put(SNAPSHOT_SEQUENCE_KEY, seq);
      const bkey = `${this.ns}/${seq}/${key}`;
      this.pending.add(bkey);
      return { bkey, bparent };
    });
    try {
      let mounts: Mount[];
      let recordKey = key;
      let recordName = bkey;
      let created = '';
      let found: Info | undefined;
      const bopts: SnapshotOptions = { labels: inheritedLabels(labels) };
      try {
        mounts = kind === Kind.View ? await this.backend.view(bkey, bparent, bopts) : await this.backend.prepare(bkey, bparent, bopts);
        created = bkey;
        fault('metadata.snapshot.prepare');
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // A backend that found the target already committed answers AlreadyExists: record that snapshot.
        if (!target) throw new UnknownError(`unexpected error from snapshotter: ${(err as Error).message}`, { cause: err });
        found = await this.findTarget(target, bparent);
        recordKey = target;
        recordName = found.name;
        mounts = [];
      }
      try {
        await this.core.write(async (tx) => {
          if ((await tx.get(this.key(recordKey))) !== undefined) throw new AlreadyExistsError(`snapshot ${JSON.stringify(recordKey)}`);
          if (parent && (await tx.get(this.key(parent))) === undefined) throw new NotFoundError(`parent snapshot ${parent} does not exist`);
          if (this.lease) await holdInLease(tx, this.ns, this.lease, { kind: 'snapshots', snapshotter: this.sn, id: recordKey });
          await this.core.ensureNamespace(tx, this.ns);
          const now = this.core.stamp();
          const rec: SnapshotRecord = {
            name: recordName,
            kind: kindName(found ? Kind.Committed : kind),
            labels: found ? { ...found.labels, ...labels } : labels,
            createdAt: found ? found.createdAt.toISOString() : now,
            updatedAt: found ? found.updatedAt.toISOString() : now,
          };
          if (parent) {
            rec.parent = parent;
            tx.put(KEYS.snapshotChild(this.ns, this.sn, parent, recordKey), 1);
          }
          tx.put(this.key(recordKey), rec);
        });
      } catch (err) {
        // The backend snapshot has no record: free it now rather than at the next collection.
        if (created) await this.backend.remove(created).catch(() => undefined);
        throw err;
      }
      if (found) throw new AlreadyExistsError(`target snapshot ${JSON.stringify(target)} from snapshotter`);
      return mounts;
    } finally {
      this.pending.delete(bkey);
    }
  }

  private async findTarget(target: string, bparent: string | undefined): Promise<Info> {
    let found: Info | undefined;
    await this.backend.walk((i) => {
      if (found || i.kind !== Kind.Committed) return;
      if (i.labels[SNAPSHOT_REF_LABEL] === target && (i.parent ?? '') === (bparent ?? '')) found = i;
    });
    if (!found) throw new NotFoundError(`target snapshot ${JSON.stringify(target)} in backend`);
    return found;
  }

  async commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    if (!name) throw new InvalidArgumentError('snapshot name must not be empty');
    const labels = { ...opts.labels };
    checkLabels('info.Labels', labels);
    const { bkey, nameKey } = await this.core.write(async (tx) => {
      if ((await tx.get(this.key(name))) !== undefined) throw new AlreadyExistsError(`snapshot ${JSON.stringify(name)}`);
      const r = await this.record(tx, key);
      const seq = ((await tx.get<number>(SNAPSHOT_SEQUENCE_KEY)) ?? 0) + 1;
      tx.put(SNAPSHOT_SEQUENCE_KEY, seq);
      const nameKey = `${this.ns}/${seq}/${name}`;
      this.pending.add(nameKey);
      const committing: NonNullable<SnapshotRecord['committing']> = { name, backend: nameKey, labels };
      if (this.lease) committing.lease = this.lease;
      tx.put(this.key(key), { ...r, committing });
      return { bkey: r.name, nameKey };
    });
    let recorded = false;
    try {
      await this.backend.commit(nameKey, bkey, { labels: inheritedLabels(labels) });
      fault('metadata.snapshot.commit');
      await this.core.write(async (tx) => {
        if ((await tx.get(this.key(name))) !== undefined) throw new AlreadyExistsError(`snapshot ${JSON.stringify(name)}`);
        const r = await this.record(tx, key);
        if (r.name !== bkey) throw notExist(key);
        if (this.lease) await holdInLease(tx, this.ns, this.lease, { kind: 'snapshots', snapshotter: this.sn, id: name });
        const now = this.core.stamp();
        const rec: SnapshotRecord = { name: nameKey, kind: kindName(Kind.Committed), labels, createdAt: now, updatedAt: now };
        if (r.parent) {
          rec.parent = r.parent;
          tx.del(KEYS.snapshotChild(this.ns, this.sn, r.parent, key));
          tx.put(KEYS.snapshotChild(this.ns, this.sn, r.parent, name), 1);
        }
        tx.put(this.key(name), rec);
        tx.del(this.key(key));
        releaseFromLease(tx, this.ns, this.lease, { kind: 'snapshots', snapshotter: this.sn, id: key });
      });
      recorded = true;
    } finally {
      this.pending.delete(nameKey);
      // Should the record not be written, the committed backend snapshot goes at the next
      // collection: the mark makes that collection look at this snapshotter.
      if (!recorded) this.core.dirtySnapshotters.add(this.sn);
    }
  }

  async remove(key: string): Promise<void> {
    await this.core.write(async (tx) => {
      const r = await this.record(tx, key);
      if (await tx.hasChildren(KEYS.snapshotChildren(this.ns, this.sn, key))) {
        throw new FailedPreconditionError('cannot remove snapshot with child');
      }
      // Below a snapshot's record there is only its (empty) list of children.
      tx.del(this.key(key));
      if (r.parent) tx.del(KEYS.snapshotChild(this.ns, this.sn, r.parent, key));
      releaseFromLease(tx, this.ns, this.lease, { kind: 'snapshots', snapshotter: this.sn, id: key });
      tx.dirty = true;
    });
    // Marked once the record is gone, not before: a collection cleaning this snapshotter
    // meanwhile may have read the record still there, and must leave the backend snapshot to the
    // next collection, which this mark brings.
    this.core.dirtySnapshotters.add(this.sn);
  }

  async walk(fn: WalkFunc, filters?: readonly string[]): Promise<void> {
    const match = filterBy(filters, adaptSnapshot);
    const records = await this.core.read(async (v) => {
      const out: Array<{ name: string; value: SnapshotRecord }> = [];
      for await (const r of v.records<SnapshotRecord>(KEYS.snapshots(this.ns, this.sn))) out.push(r);
      return out;
    });
    for (const r of records) {
      let inner: Info;
      try {
        inner = await this.backend.stat(r.value.name);
      } catch (err) {
        // A record whose backend snapshot is gone is skipped, as containerd does.
        if (isNotFound(err)) continue;
        throw err;
      }
      const info = infoOf(r.name, r.value, inner);
      if (match(info)) await fn(info);
    }
  }

  async cleanup(): Promise<void> {
    await this.backend.cleanup?.();
  }

  /** close does nothing: the backend is shared by every namespace and closed by its plugin. */
  async close(): Promise<void> {}
}
