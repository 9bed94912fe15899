import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError, isAlreadyExists } from '@ctrd/errdefs';
import { Errno, errnoOf, type Mount, lookupMount } from '@ctrd/mount';
import { type Info, Kind, type SnapshotOptions, type Snapshotter, type Usage, type WalkFunc } from '@ctrd/snapshots';
import { MetaStore, type StoredSnapshot, diskUsage } from '@ctrd/snapshots/storage';
import { subvolCreate, subvolDelete, subvolId, subvolSnapshot } from './btrfs-ioctl.js';

/** BtrfsSnapshotter keeps each snapshot as a btrfs subvolume; layers share blocks by snapshotting. */
export interface BtrfsSnapshotter extends Snapshotter {
  readonly root: string;
  /** the block device the root's filesystem lives on; mounts name it as their source. */
  readonly device: string;
}

const DIRS: Readonly<Record<number, string>> = { [Kind.Active]: 'active', [Kind.View]: 'view', [Kind.Committed]: 'snapshots' };

/**
 * deleteUnowned deletes a subvolume that no record owns any more, after the write lock is let
 * go: a cleanup that took the lock in between may have deleted it already.
 */
async function deleteUnowned(path: string): Promise<void> {
  try {
    await subvolDelete(path);
  } catch (err) {
    if (errnoOf(err) !== Errno.ENOENT) throw err;
  }
}

class Btrfs implements BtrfsSnapshotter {
  constructor(
    readonly root: string,
    readonly device: string,
    private readonly ms: MetaStore,
  ) {}

  private path(kind: Kind, id: string): string {
    return join(this.root, DIRS[kind]!, id);
  }

  stat(key: string): Promise<Info> {
    return this.ms.view((tx) => tx.getInfo(key).info);
  }

  update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths?: readonly string[]): Promise<Info> {
    return this.ms.update((tx) => tx.updateInfo(info, fieldpaths));
  }

  async usage(key: string): Promise<Usage> {
    const { id, info, usage } = await this.ms.view((tx) => tx.getInfo(key));
    return info.kind === Kind.Active ? diskUsage(this.path(Kind.Active, id)) : usage;
  }

  async mounts(key: string): Promise<Mount[]> {
    const s = await this.ms.view((tx) => tx.getSnapshot(key));
    return this.mountsOf(s);
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.Active, key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.View, key, parent, opts);
  }

  async commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    let source = '';
    let target = '';
    try {
      await this.ms.update(async (tx) => {
        const { id, info } = tx.getInfo(key);
        const usage = info.kind === Kind.Active ? await diskUsage(this.path(Kind.Active, id)) : { size: 0, inodes: 0 };
        tx.commitActive(key, name, usage, opts);
        source = this.path(Kind.Active, id);
        const committed = this.path(Kind.Committed, id);
        try {
          await subvolSnapshot(committed, source, true);
        } catch (err) {
          // A commit killed between this snapshot and its record left the snapshot behind. No
          // record owns it (the ID is still the Active one's), so it is made again.
          if (!isAlreadyExists(err)) throw err;
          await subvolDelete(committed);
          await subvolSnapshot(committed, source, true);
        }
        target = committed;
      });
    } catch (err) {
      if (target !== '') await subvolDelete(target).catch(() => undefined);
      throw err;
    }
    await deleteUnowned(source);
  }

  async remove(key: string): Promise<void> {
    let path = '';
    let renamed = '';
    try {
      await this.ms.update(async (tx) => {
        const { id, kind } = tx.remove(key);
        path = this.path(kind, id);
        renamed = join(this.root, DIRS[kind]!, `rm-${id}`);
        try {
          await rename(path, renamed);
        } catch (err) {
          // A remove killed between this rename and the record's removal moved the subvolume
          // already: this one finishes it.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(renamed)) throw err;
        }
      });
    } catch (err) {
      if (renamed !== '') await rename(renamed, path).catch(() => undefined);
      throw err;
    }
    await deleteUnowned(renamed);
  }

  walk(fn: WalkFunc, filters?: readonly string[]): Promise<void> {
    return this.ms.view((tx) => tx.walkInfo(fn, filters));
  }

  /**
   * cleanup deletes the subvolumes no record owns: what a kill left between making a subvolume
   * and writing its record, between a commit's record and the removal of its active subvolume,
   * or between a remove's record and the removal of `rm-<id>`. IDs are never reused, so only a
   * subvolume whose ID is a live snapshot of its directory's kind is kept.
   */
  async cleanup(): Promise<void> {
    // Under the write lock, so that no snapshot is made, committed or removed meanwhile.
    await this.ms.update(async (tx) => {
      const kinds = new Map([...tx.idMap()].map(([id, key]) => [id, tx.getInfo(key).info.kind]));
      for (const [kind, dir] of Object.entries(DIRS)) {
        for (const name of await readdir(join(this.root, dir))) {
          if (kinds.get(name) === Number(kind)) continue;
          const path = join(this.root, dir, name);
          await subvolDelete(path).catch(() => rm(path, { recursive: true, force: true }));
        }
      }
    });
  }

  close(): Promise<void> {
    return this.ms.close();
  }

  private async create(kind: Kind, key: string, parent: string | undefined, opts?: SnapshotOptions): Promise<Mount[]> {
    let made = '';
    try {
      const s = await this.ms.update(async (tx) => {
        const s = tx.createSnapshot(kind, key, parent, opts);
        const target = this.path(kind, s.id);
        if (s.parentIds.length === 0) {
          await subvolCreate(target);
          made = target;
          await chmod(target, 0o755);
        } else {
          await subvolSnapshot(target, this.path(Kind.Committed, s.parentIds[0]!), kind === Kind.View);
          made = target;
        }
        return s;
      });
      return this.mountsOf(s);
    } catch (err) {
      if (made !== '') await subvolDelete(made).catch(() => undefined);
      throw err;
    }
  }

  private async mountsOf(s: StoredSnapshot): Promise<Mount[]> {
    const id = await subvolId(this.path(s.kind, s.id));
    const options = [`subvolid=${id}`];
    if (s.kind !== Kind.Active) options.push('ro');
    return [{ type: 'btrfs', source: this.device, options }];
  }
}

/**
 * btrfsUnsupportedReason returns why `root` cannot hold a btrfs snapshotter (it is not on
 * btrfs), or undefined.
 */
export function btrfsUnsupportedReason(root: string): string | undefined {
  const m = lookupMount(root);
  if (m.fstype !== 'btrfs') return `path ${root} (${m.fstype}) must be a btrfs filesystem to be used with the btrfs snapshotter`;
  return undefined;
}

/**
 * createBtrfsSnapshotter opens (creating if needed) a btrfs snapshotter at `root`, which must be
 * on btrfs (FailedPrecondition otherwise): `<root>/metadata.json` and one subvolume per snapshot
 * under `active/`, `view/` and `snapshots/`.
 */
export async function createBtrfsSnapshotter(root: string): Promise<BtrfsSnapshotter> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
  const reason = btrfsUnsupportedReason(root);
  if (reason !== undefined) throw new FailedPreconditionError(reason);
  for (const d of Object.values(DIRS)) await mkdir(join(root, d), { recursive: true, mode: 0o755 });
  const names = await Promise.all(Object.values(DIRS).map((d) => readdir(join(root, d))));
  const ms = await MetaStore.open(join(root, 'metadata.json'), names.flat());
  return new Btrfs(root, lookupMount(root).source, ms);
}
