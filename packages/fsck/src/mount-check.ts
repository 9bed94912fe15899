import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { readMountInfo, unmount } from '@ctrd/mount';
import { Findings } from './types.js';

const TASK_DIR = 'io.containerd.runtime.v2.task';

function under(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(d + sep));
}

/**
 * checkMounts looks for mounts ctrd left behind: any mount whose mount point lies under the
 * root or state directory, or whose source or overlay layers lie under the root (a temporary
 * mount of a snapshot made elsewhere). A task's root filesystem on its bundle stays mounted while
 * the task runs, so it is only reported (info) when its bundle exists; every other one is an
 * error, unmounted (lazily) by repair.
 */
export async function checkMounts(root: string, state: string | undefined, opts: { repair?: boolean }, checked: Record<string, number>): Promise<Findings> {
  const f = new Findings('mounts');
  const dirs = [resolve(root), ...(state ? [resolve(state)] : [])];
  const taskDir = state ? resolve(state, TASK_DIR) : undefined;
  const mounts = readMountInfo();
  for (const m of [...mounts].reverse()) {
    const layers = m.superOptions.split(',').filter((o) => /^(lowerdir|upperdir|workdir)=/.test(o)).flatMap((o) => o.slice(o.indexOf('=') + 1).split(':'));
    const fromRoot = [m.source, m.root, ...layers].some((p) => p.startsWith('/') && under(p, [dirs[0]!]));
    if (!under(m.mountpoint, dirs) && !fromRoot) continue;
    checked.mounts = (checked.mounts ?? 0) + 1;
    if (taskDir && m.mountpoint.startsWith(taskDir + sep) && m.mountpoint.endsWith(`${sep}rootfs`)) {
      const bundle = m.mountpoint.slice(0, -`${sep}rootfs`.length);
      if (existsSync(`${bundle}${sep}config.json`)) {
        f.add('info', 'task-rootfs-mounted', m.mountpoint, 'root filesystem of a task bundle (the task may still run)');
        continue;
      }
    }
    let repaired = false;
    if (opts.repair) {
      await unmount(m.mountpoint, { detach: true }).catch(() => undefined);
      repaired = true;
    }
    f.add('error', 'mount-leftover', m.mountpoint, `${m.fstype} mount of ${m.source} left behind`, repaired);
  }
  return f;
}
