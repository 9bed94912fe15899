import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount } from '@ctrd/mount';
import { type Info, Kind, type SnapshotOptions, type Snapshotter, type Usage, type WalkFunc } from '@ctrd/snapshots';
import { MetaStore, type StoredSnapshot, diskUsage } from '@ctrd/snapshots/storage';
import { copyDir } from './copy-dir.js';
import { fault } from '@ctrd/fault';

/**
 * NativeSnapshotter keeps every snapshot as a full directory: a new Active snapshot starts as a
 * copy of its parent, and mounts are bind mounts. It works on any filesystem and needs no
 * kernel support beyond bind mounts.
 */
export interface NativeSnapshotter extends Snapshotter {
  readonly root: string;
}

class Native implements NativeSnapshotter {
  constructor(
    readonly root: string,
    private readonly ms: MetaStore,
  ) {}

  private dir(id: string): string {
    return join(this.root, 'snapshots', id);
  }

  stat(key: string): Promise<Info> {
    return this.ms.view((tx) => tx.getInfo(key).info);
  }

  update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths?: readonly string[]): Promise<Info> {
    return this.ms.update((tx) => tx.updateInfo(info, fieldpaths));
  }

  async usage(key: string): Promise<Usage> {
    const { id, info, usage } = await this.ms.view((tx) => tx.getInfo(key));
    return info.kind === Kind.Active ? diskUsage(this.dir(id)) : usage;
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
      const usage = await diskUsage(this.dir(id));
      tx.commitActive(key, name, usage, opts);
      fault('snapshot.commit');
    });
  }

  async remove(key: string): Promise<void> {
    let path = '';
    let renamed = '';
    try {
      await this.ms.update(async (tx) => {
        const { id } = tx.remove(key);
        path = this.dir(id);
        const target = join(this.root, 'snapshots', `rm-${id}`);
        try {
          await rename(path, target);
          renamed = target;
          fault('snapshot.remove');
        } catch (err) {
          // A view of a parent has no directory of its own.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      });
    } catch (err) {
      if (renamed !== '') await rename(renamed, path).catch(() => undefined);
      throw err;
    }
    if (renamed !== '') await rm(renamed, { recursive: true, force: true });
  }

  walk(fn: WalkFunc, filters?: readonly string[]): Promise<void> {
    return this.ms.view((tx) => tx.walkInfo(fn, filters));
  }

  async cleanup(): Promise<void> {
    // Under the write lock, so that no snapshot is being created meanwhile.
    await this.ms.update(async (tx) => {
      const ids = tx.idMap();
      for (const name of await readdir(join(this.root, 'snapshots'))) {
        if (!ids.has(name)) await rm(join(this.root, 'snapshots', name), { recursive: true, force: true });
      }
    });
  }

  close(): Promise<void> {
    return this.ms.close();
  }

  private async create(kind: Kind, key: string, parent: string | undefined, opts?: SnapshotOptions): Promise<Mount[]> {
    // Directories are made inside the write transaction so that cleanup, which deletes
    // directories no record owns, never sees one half-made.
    let td = '';
    let path = '';
    try {
      const s = await this.ms.update(async (tx) => {
        const s = tx.createSnapshot(kind, key, parent, opts);
        // A view of a parent mounts the parent itself; everything else gets a directory.
        if (kind === Kind.Active || s.parentIds.length === 0) {
          td = await mkdtemp(join(this.root, 'snapshots', 'new-'));
          await chmod(td, 0o755);
          if (s.parentIds.length > 0) await copyDir(this.dir(s.parentIds[0]!), td);
          path = this.dir(s.id);
          await rename(td, path);
          td = '';
          fault('snapshot.create');
        }
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
    const source = s.parentIds.length === 0 || s.kind === Kind.Active ? this.dir(s.id) : this.dir(s.parentIds[0]!);
    return [{ type: 'bind', source, options: ['rbind', s.kind === Kind.View ? 'ro' : 'rw'] }];
  }
}

/**
 * createNativeSnapshotter opens (creating if needed) a native snapshotter at `root`:
 * `<root>/metadata.json` for the records and `<root>/snapshots/<id>` for the trees.
 */
export async function createNativeSnapshotter(root: string): Promise<NativeSnapshotter> {
  await mkdir(join(root, 'snapshots'), { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
  const ms = await MetaStore.open(join(root, 'metadata.json'), await readdir(join(root, 'snapshots')));
  return new Native(root, ms);
}
