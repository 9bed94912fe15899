import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, readdir, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
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
   * failure. Steps that do not depend on each other run side by side: each file operation is a
   * thread-pool round trip, and in a row they added up on every task's create.
   */
  static async create(stateRoot: string, workRoot: string, namespace: string, id: string, spec: Uint8Array): Promise<Bundle> {
    validate(id);
    const b = Bundle.at(stateRoot, workRoot, namespace, id);
    await Promise.all([
      mkdir(dirname(b.path), { recursive: true, mode: 0o711 }),
      mkdir(dirname(b.workPath), { recursive: true, mode: 0o711 }),
    ]);
    await mkdir(b.path, { mode: 0o700 });
    const steps = await Promise.allSettled([
      mkdir(join(b.path, BUNDLE_FILES.rootfs), { mode: 0o711 }),
      // A work directory left by an earlier task of the same id holds nothing of value.
      rm(b.workPath, { recursive: true, force: true }).then(() => mkdir(b.workPath, { mode: 0o711 })),
      symlink(b.workPath, join(b.path, BUNDLE_FILES.work)),
      writeFile(join(b.path, BUNDLE_FILES.config), spec, { mode: 0o666 }),
    ]);
    const failed = steps.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all([rm(b.path, { recursive: true, force: true }), rm(b.workPath, { recursive: true, force: true })]);
      throw failed.reason;
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
    const [work] = await Promise.all([
      readlink(this.file(BUNDLE_FILES.work)).catch(() => undefined),
      this.removeRootfs(),
    ]);
    // The bundle and the work directory are independent: remove them side by side.
    await Promise.all([atomicDelete(this.path), atomicDelete(work ?? this.workPath)]);
  }

  private async removeRootfs(): Promise<void> {
    const rootfs = this.file(BUNDLE_FILES.rootfs);
    // Shims unmount the rootfs themselves, so first try removing it: only a mount point left
    // behind (EBUSY) needs the unmount pass.
    try {
      await rmdir(rootfs);
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

async function atomicDelete(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const hidden = join(dirname(path), `.${basename(path)}`);
  await rm(hidden, { recursive: true, force: true });
  await rename(path, hidden);
  await rm(hidden, { recursive: true, force: true });
}
