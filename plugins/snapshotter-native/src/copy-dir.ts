import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UnknownError } from '@ctrd/errdefs';

const run = promisify(execFile);

/**
 * copyDir copies the tree under `src` into the existing directory `dst` with everything a layer
 * needs kept: modes, owners, times, hard links, symlinks, device nodes, xattrs. It uses
 * `cp -a`, which already handles every file type and shares blocks with `--reflink=auto` where
 * the filesystem can, rather than reimplementing device and xattr copying here.
 */
export async function copyDir(src: string, dst: string): Promise<void> {
  try {
    await run('cp', ['-a', '--reflink=auto', '--', `${src}/.`, `${dst}/`], { maxBuffer: 1 << 20 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new UnknownError(`copying of parent failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}
