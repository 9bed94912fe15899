import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** CgroupLocation is where a process's cgroup lives: per-controller dirs (v1) or one unified dir (v2). */
export type CgroupLocation =
  | { version: 1; dirs: Readonly<Record<string, string>> }
  | { version: 2; dir: string };

interface MountEntry {
  root: string;
  mountpoint: string;
}

/** parseProcCgroup reads `/proc/<pid>/cgroup`: v1 controller → path, plus the v2 path (`0::`). */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2?: string } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    if (m[1] === '0' && m[2] === '') {
      v2 = m[3];
      continue;
    }
    for (const c of m[2].split(',')) if (c !== '') v1.set(c, m[3]);
  }
  return { v1, v2 };
}

/** parseCgroupMounts reads `/proc/self/mountinfo`: v1 controller → mount, and the cgroup2 mount. */
export function parseCgroupMounts(text: string): { v1: Map<string, MountEntry>; v2?: MountEntry } {
  const v1 = new Map<string, MountEntry>();
  let v2: MountEntry | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const entry = { root: pre[3], mountpoint: pre[4] };
    if (fstype === 'cgroup2') v2 ??= entry;
    else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (opt === 'rw' || opt === 'ro' || opt.startsWith('release_agent') || opt === 'clone_children') continue;
        v1.set(opt, entry);
      }
    }
  }
  return { v1, v2 };
}

function under(mount: MountEntry, path: string): string {
  const rel = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return join(mount.mountpoint, rel);
}

/**
 * resolveCgroup combines the two files: a v1 location when the memory controller (or any
 * controller) is on a v1 hierarchy, else the v2 one; undefined when neither resolves.
 */
export function resolveCgroup(procCgroup: string, mountinfo: string): CgroupLocation | undefined {
  const proc = parseProcCgroup(procCgroup);
  const mounts = parseCgroupMounts(mountinfo);
  const dirs: Record<string, string> = {};
  for (const [controller, path] of proc.v1) {
    const mount = mounts.v1.get(controller);
    if (mount !== undefined) dirs[controller] = under(mount, path);
  }
  if (Object.keys(dirs).length > 0 && proc.v1.has('memory')) return { version: 1, dirs };
  if (proc.v2 !== undefined && mounts.v2 !== undefined) return { version: 2, dir: under(mounts.v2, proc.v2) };
  if (Object.keys(dirs).length > 0) return { version: 1, dirs };
  return undefined;
}

/** cgroupOf finds the cgroup of a live process. */
export async function cgroupOf(pid: number): Promise<CgroupLocation | undefined> {
  const [procCgroup, mountinfo] = await Promise.all([
    readFile(`/proc/${pid}/cgroup`, 'utf8'),
    readFile('/proc/self/mountinfo', 'utf8'),
  ]);
  return resolveCgroup(procCgroup, mountinfo);
}

/** readCgroupFile reads a cgroup file, or `undefined` when it does not exist. */
export async function readCgroupFile(dir: string | undefined, file: string): Promise<string | undefined> {
  if (dir === undefined) return undefined;
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** parseFlatKeyed parses `key value` lines (memory.stat, cpu.stat, memory.events) into decimal strings. */
export function parseFlatKeyed(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, v);
  }
  return out;
}

/** MAX_UINT64 is what a `max` limit reads as in the metrics. */
export const MAX_UINT64 = '18446744073709551615';

/** parseUint reads a single-value file as a decimal string (`max` → {@link MAX_UINT64}, missing → `0`). */
export function parseUint(text: string | undefined): string {
  const v = (text ?? '').trim();
  if (v === 'max') return MAX_UINT64;
  return /^\d+$/.test(v) ? v : '0';
}
