import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  diskUsage,
  Kind,
  MetaStore,
  UnknownError,
  type Mount,
  type SnapshotInfo,
  type SnapshotOptions,
  type Snapshotter,
  type StoredSnapshot,
  type Usage,
  type WalkFunc,
} from '@ctrd/plugin-sdk';

const execFileAsync = promisify(execFile);

/** CopySnapshotter is a Snapshotter on plain directories; `root` is where it keeps them. */
export interface CopySnapshotter extends Snapshotter {
  readonly root: string;
}

/**
 * copyTree copies `from` into the existing directory `to` keeping owners, modes, times, links,
 * device nodes and xattrs, which a container layer needs and Node's own copy does not keep.
 */
async function copyTree(from: string, to: string): Promise<void> {
  try {
    await execFileAsync('cp', ['-a', '--', `${from}/.`, `${to}/`], { maxBuffer: 1 << 20 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new UnknownError(`copy ${from}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

class Copy implements CopySnapshotter {
  constructor(
    readonly root: string,
    private readonly store: MetaStore,
  ) {}

  private dir(id: string): string {
    return join(this.root, 'trees', id);
  }

  stat(key: string): Promise<SnapshotInfo> {
    return this.store.view((tx) => tx.getInfo(key).info);
  }

  update(info: Pick<SnapshotInfo, 'name'> & Partial<SnapshotInfo>, fieldpaths?: readonly string[]): Promise<SnapshotInfo> {
    return this.store.update((tx) => tx.updateInfo(info, fieldpaths));
  }

  async usage(key: string): Promise<Usage> {
    const { id, info, usage } = await this.store.view((tx) => tx.getInfo(key));
    // A committed tree no longer changes, so its size was measured once, at commit.
    return info.kind === Kind.Committed ? usage : diskUsage(this.dir(id));
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.mountsOf(await this.store.view((tx) => tx.getSnapshot(key)));
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.Active, key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create(Kind.View, key, parent, opts);
  }

  async commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    await this.store.update(async (tx) => {
      const { id } = tx.getInfo(key);
      tx.commitActive(key, name, await diskUsage(this.dir(id)), opts);
    });
  }

  async remove(key: string): Promise<void> {
    const id = await this.store.update((tx) => tx.remove(key).id);
    // The record is gone; a tree left behind by a crash here is removed by cleanup.
    await rm(this.dir(id), { recursive: true, force: true });
  }

  walk(fn: WalkFunc, filters?: readonly string[]): Promise<void> {
    return this.store.view((tx) => tx.walkInfo(fn, filters));
  }

  async cleanup(): Promise<void> {
    await this.store.update(async (tx) => {
      const live = tx.idMap();
      for (const name of await readdir(join(this.root, 'trees'))) {
        if (!live.has(name)) await rm(join(this.root, 'trees', name), { recursive: true, force: true });
      }
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async create(kind: Kind, key: string, parent: string | undefined, opts?: SnapshotOptions): Promise<Mount[]> {
    let scratch = '';
    try {
      const s = await this.store.update(async (tx) => {
        const s = tx.createSnapshot(kind, key, parent, opts);
        // Built aside and renamed into place, so a tree under its final name is always whole.
        scratch = await mkdtemp(join(this.root, 'trees', 'new-'));
        await chmod(scratch, 0o755);
        if (s.parentIds.length > 0) await copyTree(this.dir(s.parentIds[0]!), scratch);
        await rename(scratch, this.dir(s.id));
        scratch = '';
        return s;
      });
      return this.mountsOf(s);
    } catch (err) {
      if (scratch) await rm(scratch, { recursive: true, force: true });
      throw err;
    }
  }

  private mountsOf(s: StoredSnapshot): Mount[] {
    return [{ type: 'bind', source: this.dir(s.id), options: ['rbind', s.kind === Kind.View ? 'ro' : 'rw'] }];
  }
}

/**
 * createCopySnapshotter opens (creating if needed) a copy snapshotter at `root`: every snapshot,
 * views included, is a full directory tree under `<root>/trees`, made by copying its parent, and
 * is mounted with a bind mount; the records live in `<root>/metadata.json`.
 */
export async function createCopySnapshotter(root: string): Promise<CopySnapshotter> {
  await mkdir(join(root, 'trees'), { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
  return new Copy(root, await MetaStore.open(join(root, 'metadata.json')));
}
