import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountAll, unmountAll } from './mount.js';
import { mountsUnder } from './mountinfo.js';
import type { Mount } from './types.js';

/** TempMountOptions tunes {@link withTempMount}: `dir` is where the temporary mount point is made. */
export interface TempMountOptions {
  dir?: string;
}

/**
 * withTempMount mounts `mounts` on a fresh temporary directory, runs `fn` with its path, and
 * always unmounts and removes the directory afterwards, whether `fn` returned or threw. If the
 * plain unmount fails the mount is detached lazily, so nothing outlives the call; the directory
 * is removed with rmdir, never recursively, so a mount that somehow stayed is never emptied.
 */
export async function withTempMount<T>(
  mounts: readonly Mount[],
  fn: (root: string) => Promise<T> | T,
  opts: TempMountOptions = {},
): Promise<T> {
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), 'ctrd-mount-'));
  let failure: unknown;
  let ok = false;
  let result: T | undefined;
  try {
    await mountAll(mounts, dir);
    try {
      result = await fn(dir);
      ok = true;
    } catch (err) {
      failure = err;
    }
    try {
      await unmountAll(dir);
    } catch (err) {
      await unmountAll(dir, { detach: true });
      if (ok) {
        ok = false;
        failure = err;
      }
    }
  } catch (err) {
    failure = err;
  } finally {
    await rmdir(dir).catch((err: unknown) => {
      if (ok) {
        ok = false;
        failure = err;
      }
    });
  }
  if (!ok) throw failure;
  return result as T;
}

/**
 * cleanupTempMounts undoes what a killed process left of {@link withTempMount} in `dir`: it
 * detaches every mount at or below `dir`, deepest first, then removes the empty `ctrd-mount-*`
 * directories. A daemon runs it at start-up over its own temporary mount directory, before any
 * new temporary mount is made there. It returns the mount points it detached.
 */
export async function cleanupTempMounts(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const detached: string[] = [];
  for (const mp of new Set(mountsUnder(dir))) {
    if (mp === dir) continue;
    await unmountAll(mp, { detach: true });
    detached.push(mp);
  }
  for (const name of await readdir(dir)) {
    if (name.startsWith('ctrd-mount-')) await rmdir(join(dir, name)).catch(() => {});
  }
  return detached;
}
