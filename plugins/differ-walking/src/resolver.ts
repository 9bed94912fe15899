import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { InvalidArgumentError } from '@ctrd/errdefs';

/** MAX_NAME_LENGTH caps an entry name or link target in bytes (Linux PATH_MAX). */
export const MAX_NAME_LENGTH = 4096;
/** MAX_COMPONENT_LENGTH caps one path component in bytes (Linux NAME_MAX). */
export const MAX_COMPONENT_LENGTH = 255;
/** MAX_LINK_HOPS is how many symlinks one resolution may follow (Linux MAXSYMLINKS). */
export const MAX_LINK_HOPS = 40;

/**
 * cleanName turns a tar entry name (or hardlink target) into its components: `.` and empty
 * components drop out and `..` pops. Absolute names, `..` above the root, NUL bytes and names
 * beyond PATH_MAX/NAME_MAX are InvalidArgument. The root itself is `[]`.
 */
export function cleanName(name: string, what = 'entry'): string[] {
  if (name.includes('\0')) throw new InvalidArgumentError(`${what} name contains a NUL byte`);
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names skip the byte count.
  if (name.length * 3 > MAX_NAME_LENGTH && Buffer.byteLength(name) > MAX_NAME_LENGTH) throw new InvalidArgumentError(`${what} name longer than ${MAX_NAME_LENGTH} bytes`);
  if (name.startsWith('/')) throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} is an absolute path`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} escapes the target`);
      out.pop();
      continue;
    }
    if (c.length * 3 > MAX_COMPONENT_LENGTH && Buffer.byteLength(c) > MAX_COMPONENT_LENGTH) throw new InvalidArgumentError(`${what} name component longer than ${MAX_COMPONENT_LENGTH} bytes`);
    out.push(c);
  }
  return out;
}

/** DirCreator makes a missing parent directory at `rel` (relative to the root). */
export type DirCreator = (abs: string, rel: string) => void;

/**
 * RootResolver resolves directory paths inside `root` the way a chroot would, without ever
 * leaving it: each component is lstat'ed; a symlink is read and its target spliced in (an
 * absolute one restarts at the root); a relative target whose `..` climbs above the root, a
 * loop or more than MAX_LINK_HOPS links, and a non-directory on the way are InvalidArgument.
 * Because every returned path consists of real directories only, writing `<dir>/<base>` can
 * never land outside the root. Resolved directories are cached until {@link invalidate}.
 */
export class RootResolver {
  private readonly cache = new Map<string, string>();

  constructor(
    readonly root: string,
    private readonly mkdir: DirCreator = (abs) => mkdirSync(abs, 0o755),
  ) {}

  /** invalidate forgets every cached resolution; call it after removing a directory or symlink. */
  invalidate(): void {
    this.cache.clear();
  }

  /** remember records `rel`, a real path just made a directory, as resolving to itself. */
  remember(rel: string): void {
    this.cache.set(rel, rel);
  }

  /** abs returns the absolute path of a resolved relative path. */
  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /**
   * dir resolves the directory `comps` and returns its real path relative to the root (`''`
   * for the root). Missing directories are created when `create` is set, else NotFound-like
   * `null` is returned.
   */
  dir(comps: readonly string[], create: boolean): string | null {
    const key = comps.join('/');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const stack: string[] = [];
    const queue = comps.slice().reverse(); // pop() from the end is the next component
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.pop()!;
      if (c === '..') {
        if (stack.length === 0) throw new InvalidArgumentError(`path ${JSON.stringify(key)} escapes the target through a symlink`);
        stack.pop();
        continue;
      }
      stack.push(c);
      const rel = stack.join('/');
      const abs = this.abs(rel);
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st) {
        if (!create) return null;
        this.mkdir(abs, rel);
        continue;
      }
      if (st.isDirectory()) continue;
      if (!st.isSymbolicLink()) throw new InvalidArgumentError(`parent ${JSON.stringify(rel)} is not a directory`);
      if (++hops > MAX_LINK_HOPS) throw new InvalidArgumentError(`too many levels of symbolic links resolving ${JSON.stringify(key)}`);
      const target = readlinkSync(abs);
      stack.pop();
      if (target.startsWith('/')) stack.length = 0;
      const parts = target.split('/').filter((p) => p !== '' && p !== '.');
      for (let i = parts.length - 1; i >= 0; i--) queue.push(parts[i]!);
    }
    const real = stack.join('/');
    this.cache.set(key, real);
    return real;
  }
}
