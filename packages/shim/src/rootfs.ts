import type { Mount } from '@ctrd/api/gen/containerd/types/mount.js';
import { UnknownError } from '@ctrd/errdefs';
import { libc } from './libc.js';
import type { Reaper } from './reaper.js';

/** mountArgs builds the `mount(8)` command line for one containerd Mount onto `target`. */
export function mountArgs(m: Mount, target: string): string[] {
  const opts = [...m.options];
  const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
  if (m.type === 'bind' && !opts.includes('bind') && !opts.includes('rbind')) opts.unshift('bind');
  const args = bind || m.type === '' ? [] : ['-t', m.type];
  if (opts.length > 0) args.push('-o', opts.join(','));
  return [...args, m.source, target];
}

/**
 * mountRootfs mounts CreateTaskRequest.rootfs onto the bundle's `rootfs` in order, undoing what
 * it mounted when one fails. A read-only bind needs a remount, which mount(8) does for us.
 */
export async function mountRootfs(reaper: Reaper, mounts: readonly Mount[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      const r = await reaper.run('mount', mountArgs(m, target));
      if (r.code !== 0) throw new UnknownError(`failed to mount rootfs component ${m.source}: ${r.stderr.trim()}`);
      done++;
    }
  } catch (err) {
    for (let i = 0; i < done; i++) libc().unmount(target);
    throw err;
  }
}

/** unmountAll unmounts `target` until nothing is mounted there. */
export function unmountAll(target: string): void {
  for (let i = 0; i < 32 && libc().unmount(target); i++);
}
