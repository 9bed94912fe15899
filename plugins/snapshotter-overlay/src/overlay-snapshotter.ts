import { chmod, lchown, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount } from '@ctrd/mount';
import { type Info, Kind, type SnapshotOptions, type Snapshotter, type Usage, type WalkFunc } from '@ctrd/snapshots';
import { MetaStore, type MetaTransaction, type StoredSnapshot, diskUsage } from '@ctrd/snapshots/storage';
import { supportsIndexOption } from './supported.js';
import { fault } from '@ctrd/fault';

/** UPPERDIR_LABEL is the label that carries a snapshot's upper directory when asked for. */
export const UPPERDIR_LABEL = 'containerd.io/snapshot/overlay.upperdir';

/** OverlayOptions tunes {@link createOverlaySnapshotter}. */
export interface OverlayOptions {
  /** Leave directories of removed snapshots for `cleanup` instead of deleting them in `remove`. */
  asyncRemove?: boolean;
  /** Add {@link UPPERDIR_LABEL} to the info of every snapshot. */
  upperdirLabel?: boolean;
  /** Extra options for every overlay mount (e.g. `volatile`). */
  mountOptions?: string[];
  /**
   * Accepted for config compatibility with containerd's `slow_chown` (chowning trees for
   * ID-mapped containers); ctrd does not remap IDs, so it has no effect yet.
   */
  slowChown?: boolean;
}

/** OverlaySnapshotter stacks snapshots with overlayfs: each layer is an upper directory. */
export interface OverlaySnapshotter extends Snapshotter {
  readonly root: string;
  cleanup(): Promise<void>;
}

// Traversable but not listable: a process inside a user namespace (or running as another user)
// may have to walk these paths to reach its layers, while their names stay private.
const DIR_MODE = 0o711;

class Overlay implements OverlaySnapshotter {
  private readonly indexOff = supportsIndexOption();
  private readonly userxattr = process.getuid?.() !== 0;

  constructor(
    readonly root: string,
    private readonly ms: MetaStore,
    private readonly opts: OverlayOptions,
  ) {}

  private upper(id: string): string {
    return join(this.root, 'snapshots', id, 'fs');
  }

  private work(id: string): string {
    return join(this.root, 'snapshots', id, 'work');
  }

  private label(info: Info, id: string): Info {
    if (this.opts.upperdirLabel) info.labels[UPPERDIR_LABEL] = this.upper(id);
    return info;
  }

  stat(key: string): Promise<Info> {
    return this.ms.view((tx) => {
      const { id, info } = tx.getInfo(key);
      return this.label(info, id);
    });
  }

  update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths?: readonly string[]): Promise<Info> {
    return this.ms.update((tx) => this.label(tx.updateInfo(info, fieldpaths), tx.getInfo(info.name).id));
  }

  async usage(key: string): Promise<Usage> {
    const { id, info, usage } = await this.ms.view((tx) => tx.getInfo(key));
    return info.kind === Kind.Active ? diskUsage(this.upper(id)) : usage;
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.mountsOf(await this.ms.view((tx) => tx.getSnapshot(key)));
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.Active, key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.View, key, parent, opts);
  }

  async commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    await this.ms.update(async (tx) => {
      const { id } = tx.getInfo(key);
      tx.commitActive(key, name, await diskUsage(this.upper(id)), opts);
      fault('snapshot.commit');
    });
  }

  async remove(key: string): Promise<void> {
    const removals = await this.ms.update(async (tx) => {
      tx.remove(key);
      return this.opts.asyncRemove ? [] : this.orphans(tx);
    });
    fault('snapshot.remove');
    for (const dir of removals) await rm(dir, { recursive: true, force: true });
  }

  walk(fn: WalkFunc, filters?: readonly string[]): Promise<void> {
    return this.ms.view((tx) =>
      tx.walkInfo((info) => fn(this.opts.upperdirLabel ? this.label(info, tx.getInfo(info.name).id) : info), filters),
    );
  }

  async cleanup(): Promise<void> {
    // Under the write lock, so that no snapshot is being created meanwhile.
    const dirs = await this.ms.update((tx) => this.orphans(tx));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }

  close(): Promise<void> {
    return this.ms.close();
  }

  // Directories under snapshots/ that no record owns: removed snapshots and failed creations.
  private async orphans(tx: MetaTransaction): Promise<string[]> {
    const ids = tx.idMap();
    const dir = join(this.root, 'snapshots');
    return (await readdir(dir)).filter((n) => !ids.has(n)).map((n) => join(dir, n));
  }

  private async create(kind: Kind, key: string, parent: string | undefined, opts?: SnapshotOptions): Promise<Mount[]> {
    // Directories are made inside the write transaction so that a concurrent remove or cleanup,
    // which deletes directories no record owns, never sees one half-made.
    let td = '';
    let path = '';
    try {
      const s = await this.ms.update(async (tx) => {
        const s = tx.createSnapshot(kind, key, parent, opts);
        td = await mkdtemp(join(this.root, 'snapshots', 'new-'));
        const fs = join(td, 'fs');
        // Independent steps run at once: each is a round trip through the thread pool.
        const makeFs = async (): Promise<void> => {
          const [, below] = await settled([mkdir(fs, { mode: 0o755 }), s.parentIds.length > 0 ? stat(this.upper(s.parentIds[0]!)) : undefined]);
          const chmodding = chmod(fs, 0o755);
          // The new layer's root takes its owner from the layer below, so a container whose
          // image root is not owned by root sees the same owner after any write.
          await settled([chmodding, below ? lchown(fs, below.uid, below.gid) : undefined]);
        };
        await settled([chmod(td, DIR_MODE), makeFs(), kind === Kind.Active ? mkdir(join(td, 'work'), { mode: 0o711 }) : undefined]);
        path = join(this.root, 'snapshots', s.id);
        await rename(td, path);
        td = '';
        fault('snapshot.create');
        return s;
      });
      return this.mountsOf(s);
    } catch (err) {
      if (td !== '') await rm(td, { recursive: true, force: true });
      if (path !== '') await rm(path, { recursive: true, force: true });
      throw err;
    }
  }

  private mountsOf(s: StoredSnapshot): Mount[] {
    if (s.parentIds.length === 0) {
      return [{ type: 'bind', source: this.upper(s.id), options: [s.kind === Kind.View ? 'ro' : 'rw', 'rbind'] }];
    }
    if (s.kind === Kind.View && s.parentIds.length === 1) {
      return [{ type: 'bind', source: this.upper(s.parentIds[0]!), options: ['ro', 'rbind'] }];
    }
    const options: string[] = [];
    if (this.indexOff) options.push('index=off');
    if (this.userxattr) options.push('userxattr');
    if (s.kind === Kind.Active) options.push(`workdir=${this.work(s.id)}`, `upperdir=${this.upper(s.id)}`);
    options.push(`lowerdir=${s.parentIds.map((id) => this.upper(id)).join(':')}`);
    options.push(...(this.opts.mountOptions ?? []));
    return [{ type: 'overlay', source: 'overlay', options }];
  }
}

/**
 * createOverlaySnapshotter opens (creating if needed) an overlay snapshotter at `root`:
 * `<root>/metadata.json` for the records and `<root>/snapshots/<id>/{fs,work}` per snapshot.
 * An Active snapshot with parents mounts as overlay (upper `fs`, `work`, the parents' `fs` as
 * lowerdir, nearest first); one without parents, or a View of one parent, is a bind mount.
 */
export async function createOverlaySnapshotter(root: string, opts: OverlayOptions = {}): Promise<OverlaySnapshotter> {
  await mkdir(join(root, 'snapshots'), { recursive: true });
  await chmod(root, DIR_MODE);
  await chmod(join(root, 'snapshots'), DIR_MODE);
  const ms = await MetaStore.open(join(root, 'metadata.json'), await readdir(join(root, 'snapshots')));
  return new Overlay(root, ms, opts);
}

/**
 * settled waits for every step, so none is still running when a failure is handled (the caller
 * then removes the directory the steps work in), and throws the first failure.
 */
async function settled<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> | T[K] }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
