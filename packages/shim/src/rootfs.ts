import type { Mount } from '@ctrd/api/gen/containerd/types/mount.js';
import { UnknownError } from '@ctrd/errdefs';
import { mountAll } from '@ctrd/mount';
import { libc } from './libc.js';

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
 * mountRootfs mounts CreateTaskRequest.rootfs onto the bundle's `rootfs` in order with mount(2)
 * (no mount(8) process per task), undoing what it mounted when one fails.
 */
export async function mountRootfs(mounts: readonly Mount[], target: string): Promise<void> {
  try {
    await mountAll(mounts, target);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new UnknownError(`failed to mount rootfs component: ${detail}`, { cause: err });
  }
}

/** unmountAll unmounts `target` until nothing is mounted there. */
export function unmountAll(target: string): void {
  for (let i = 0; i < 32 && libc().unmount(target); i++);
}
