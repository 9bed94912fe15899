import { readFileSync, realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { NotFoundError } from '@ctrd/errdefs';

/** MountInfo is one line of `/proc/self/mountinfo`. */
export interface MountInfo {
  id: number;
  parent: number;
  major: number;
  minor: number;
  root: string;
  mountpoint: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** readMountInfo parses `/proc/self/mountinfo` into its entries, in kernel order. */
export function readMountInfo(): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash === -1 || f.length < dash + 3) continue;
    const [major, minor] = f[2]!.split(':').map(Number);
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      major: major!,
      minor: minor!,
      root: unescape(f[3]!),
      mountpoint: unescape(f[4]!),
      options: f[5]!,
      fstype: f[dash + 1]!,
      source: unescape(f[dash + 2]!),
      superOptions: f[dash + 3] ?? '',
    });
  }
  return out;
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** isMountPoint reports whether `path` is the mount point of some mount. */
export function isMountPoint(path: string): boolean {
  const p = canonical(path);
  return readMountInfo().some((m) => m.mountpoint === p);
}

/**
 * lookupMount returns the mount that holds `path`: the entry with the longest mount point that
 * is `path` or one of its parents (the last such, when mounts are stacked).
 */
export function lookupMount(path: string): MountInfo {
  const p = canonical(path);
  let best: MountInfo | undefined;
  for (const m of readMountInfo()) {
    const under = m.mountpoint === '/' || p === m.mountpoint || p.startsWith(m.mountpoint + sep);
    if (under && (best === undefined || m.mountpoint.length >= best.mountpoint.length)) best = m;
  }
  if (best === undefined) throw new NotFoundError(`mount holding ${path}`);
  return best;
}

/**
 * mountsUnder lists the mount points at or below `dir`, deepest first, so that unmounting them
 * in order never meets a busy parent. Leak checks use it to assert nothing is left mounted.
 */
export function mountsUnder(dir: string): string[] {
  const p = canonical(dir);
  return readMountInfo()
    .map((m) => m.mountpoint)
    .filter((mp) => mp === p || mp.startsWith(p + sep))
    .sort((a, b) => b.length - a.length);
}
