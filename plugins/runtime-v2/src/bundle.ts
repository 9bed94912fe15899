import { existsSync, mkdirSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { unmountAll } from '@ctrd/mount';
import { validate } from '@ctrd/identifiers';

/** BUNDLE_FILES names the files of a bundle that the task manager reads or writes. */
export const BUNDLE_FILES = Object.freeze({
  config: 'config.json',
  rootfs: 'rootfs',
  work: 'work',
  address: 'address',
  shimBinaryPath: 'shim-binary-path',
  log: 'log',
});

/**
 * Bundle is a task's OCI bundle: `<state>/<ns>/<id>` holding config.json, the rootfs mount point,
 * the shim's address and log fifo, plus a `work` symlink to `<root>/<ns>/<id>` for data the shim
 * keeps across reboots of the state directory.
 */
export class Bundle {
  constructor(
    readonly namespace: string,
    readonly id: string,
    /** the bundle directory. */
    readonly path: string,
    /** the work directory the `work` symlink points at. */
    readonly workPath: string,
  ) {}

  /**
   * Bundle.create lays out a new bundle and writes `spec` as its config.json; it undoes itself on
   * failure. The steps are a few small file system calls made one after the other on the event
   * loop: as promises each step in a row was a round trip through the thread pool, and they
   * added up on every task's create.
   */
  static async create(stateRoot: string, workRoot: string, namespace: string, id: string, spec: Uint8Array): Promise<Bundle> {
    validate(id);
    const b = Bundle.at(stateRoot, workRoot, namespace, id);
    mkdirSync(dirname(b.path), { recursive: true, mode: 0o711 });
    mkdirSync(dirname(b.workPath), { recursive: true, mode: 0o711 });
    mkdirSync(b.path, { mode: 0o700 });
    try {
      mkdirSync(join(b.path, BUNDLE_FILES.rootfs), { mode: 0o711 });
      // A work directory left by an earlier task of the same id holds nothing of value.
      rmSync(b.workPath, { recursive: true, force: true });
      mkdirSync(b.workPath, { mode: 0o711 });
      symlinkSync(b.workPath, join(b.path, BUNDLE_FILES.work));
      writeFileSync(join(b.path, BUNDLE_FILES.config), spec, { mode: 0o666 });
    } catch (err) {
      rmSync(b.path, { recursive: true, force: true });
      rmSync(b.workPath, { recursive: true, force: true });
      throw err;
    }
    return b;
  }

  /** Bundle.at names the bundle of task `id` without touching the disk. */
  static at(stateRoot: string, workRoot: string, namespace: string, id: string): Bundle {
    return new Bundle(namespace, id, join(stateRoot, namespace, id), join(workRoot, namespace, id));
  }

  /** file returns the path of a file inside the bundle. */
  file(name: string): string {
    return join(this.path, name);
  }

  /** readFile returns a bundle file's content, or undefined when it is absent. */
  async readFile(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** writeFile writes a small bundle file (address, shim-binary-path). */
  async writeFile(name: string, data: string): Promise<void> {
    await writeFile(this.file(name), data, { mode: 0o600 });
  }

  /** isEmpty reports whether the bundle directory has no entries (or is gone). */
  async isEmpty(): Promise<boolean> {
    try {
      return (await readdir(this.path)).length === 0;
    } catch {
      return true;
    }
  }

  /**
   * delete unmounts whatever is still mounted on rootfs, then removes the bundle and its work
   * directory. Each is first renamed to a dot-name, so a crash midway never leaves a bundle that
   * recovery would mistake for a live task. Deleting a bundle that is gone is not an error.
   */
  async delete(): Promise<void> {
    let work: string | undefined;
    try {
      work = readlinkSync(this.file(BUNDLE_FILES.work));
    } catch {
      // no link: the bundle is gone, or was never finished
    }
    await this.removeRootfs();
    atomicDelete(this.path);
    atomicDelete(work ?? this.workPath);
  }

  private async removeRootfs(): Promise<void> {
    const rootfs = this.file(BUNDLE_FILES.rootfs);
    // Shims unmount the rootfs themselves, so first try removing it: only a mount point left
    // behind (EBUSY) needs the unmount pass.
    try {
      rmdirSync(rootfs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
      if (code !== 'ENOENT') {
        await unmountAll(rootfs);
        await rmdir(rootfs).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      }
    }
  }
}

/**
 * removeInterruptedDeletes removes the dot-named directories in `dir`, a namespace's bundle or
 * work directory: what a delete that a kill interrupted after its rename left behind (task ids
 * never start with a dot, so nothing else is named so). A rootfs still mounted there is detached
 * first, so the removal stays on the bundle's own filesystem.
 */
export async function removeInterruptedDeletes(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith('.')) continue;
    const path = join(dir, name);
    await unmountAll(join(path, BUNDLE_FILES.rootfs), { detach: true }).catch(() => undefined);
    await rm(path, { recursive: true, force: true });
  }
}

/**
 * atomicDelete renames `path` to its dot-name, then removes it. A bundle and its work directory
 * hold a few small files, and the rootfs mount point is gone by then: synchronous calls remove
 * them in less time than one round trip through the thread pool.
 */
function atomicDelete(path: string): void {
  if (!existsSync(path)) return;
  const hidden = join(dirname(path), `.${basename(path)}`);
  rmSync(hidden, { recursive: true, force: true });
  renameSync(path, hidden);
  rmSync(hidden, { recursive: true, force: true });
}
