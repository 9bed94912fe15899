import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountAll, unmountAll } from './mount.js';
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
