import {
  chmodSync, closeSync, constants, fchmodSync, fchownSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, rmSync,
  symlinkSync, writeSync, type Stats,
} from 'node:fs';
import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Header } from 'tar-stream';
import { XATTR_PREFIX } from './pax.js';
import { RootResolver, cleanName } from './resolver.js';
import { S_IFBLK, S_IFCHR, futimens, lsetxattr, lutimens, makedev, mkfifo, mknod, type Timespec } from './sys.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const isRoot = process.getuid?.() === 0;

/** LayerWriterOptions choose the whiteout style and where missing parents take attributes from. */
export interface LayerWriterOptions {
  overlay: boolean;
  parents?: readonly string[];
}

type Entry = AsyncIterable<Uint8Array>;

/** TarHeader is a parsed tar header; `pax` holds the PAX records (xattr values as binary strings). */
export type TarHeader = Omit<Partial<Header>, 'pax' | 'type' | 'name'> & {
  name: string;
  type?: string | null;
  pax?: Record<string, string> | null;
};

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** parseTime reads a PAX time (`sec[.frac]`) exactly, or falls back to the header's seconds. */
function parseTime(pax: string | undefined, fallback: Date | undefined): Timespec {
  if (pax !== undefined && /^-?\d+(\.\d+)?$/.test(pax)) {
    const [s, f = ''] = pax.split('.');
    return { sec: Number(s), nsec: Number((f + '000000000').slice(0, 9)) };
  }
  const ms = fallback ? fallback.getTime() : 0;
  return { sec: Math.floor(ms / 1000), nsec: 0 };
}

function numeric(pax: string | undefined, fallback: number | undefined): number {
  const n = pax !== undefined ? Number(pax) : (fallback ?? 0);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`invalid id ${String(pax ?? fallback)}`);
  return n;
}

/**
 * LayerWriter unpacks tar entries one by one onto a root directory with synchronous fs calls,
 * enforcing the containment rules of `@ctrd/diff` (see its package doc). Directory times are
 * set by {@link finish}, after every entry, so later entries do not disturb them.
 */
export class LayerWriter {
  private readonly resolver: RootResolver;
  private readonly unpacked = new Set<string>();
  private readonly dirTimes = new Map<string, [Timespec, Timespec]>();

  constructor(readonly root: string, private readonly opts: LayerWriterOptions) {
    this.resolver = new RootResolver(root, (abs, rel) => this.makeParent(abs, rel));
  }

  /** write applies one entry; `data` must be drained by the caller when this returns early. */
  async write(h: TarHeader, data: Entry): Promise<void> {
    const comps = cleanName(h.name);
    if (comps.length === 0) return; // the root itself: never replaced, its attributes are the snapshot's
    const base = comps[comps.length - 1]!;
    const parentRel = this.resolver.dir(comps.slice(0, -1), true)!;
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(parentRel, base, h);
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const abs = this.resolver.abs(rel);
    const linkTarget = h.type === 'link' ? this.hardlinkTarget(h.linkname ?? '', abs) : '';
    const mode = (h.mode ?? 0) & 0o7777;
    let fd: number | undefined;
    try {
      switch (h.type) {
        case 'directory':
          this.create(abs, () => mkdirSync(abs, 0o700), true);
          this.resolver.remember(rel);
          break;
        case 'file':
        case 'contiguous-file':
          fd = this.create(abs, () => openSync(abs, FILE_FLAGS, 0o600));
          await writeAll(fd!, data);
          break;
        case 'symlink': {
          const target = checkedLink(h.linkname);
          this.create(abs, () => symlinkSync(target, abs));
          break;
        }
        case 'link':
          this.create(abs, () => linkSync(linkTarget, abs));
          this.unpacked.add(rel);
          return; // a hardlink shares the inode and so the attributes of its target
        case 'character-device':
        case 'block-device': {
          const type = h.type === 'block-device' ? S_IFBLK : S_IFCHR;
          this.create(abs, () => mknod(abs, type | mode, makedev(h.devmajor ?? 0, h.devminor ?? 0)));
          break;
        }
        case 'fifo':
          this.create(abs, () => mkfifo(abs, mode));
          break;
        default:
          throw new InvalidArgumentError(`unsupported tar entry type ${String(h.type)} for ${JSON.stringify(h.name)}`);
      }
      this.attributes(abs, rel, h, mode, fd);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.unpacked.add(rel);
  }

  /**
   * create makes `abs` with `make`, which fails with EEXIST when something is there already:
   * that is then removed (a directory kept when `keepDir`) and `make` tried once more. Trying
   * first saves an lstat for every new path, the common case.
   */
  private create<T>(abs: string, make: () => T, keepDir = false): T | undefined {
    try {
      return make();
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
    }
    const existing = lstatOrNull(abs);
    if (existing) {
      if (keepDir && existing.isDirectory()) return undefined;
      this.remove(abs, existing);
    }
    return make();
  }

  /** finish sets directory times, re-resolving each one so no path through a later symlink is used. */
  finish(): void {
    for (const [rel, [atime, mtime]] of this.dirTimes) {
      const comps = rel.split('/');
      let real: string | null;
      try {
        real = this.resolver.dir(comps, false);
      } catch {
        continue;
      }
      if (real !== rel) continue; // removed or replaced by a later entry
      lutimens(this.resolver.abs(rel), atime, mtime);
    }
  }

  /** attributes sets owner, xattrs, mode and times; through `fd` when the entry is an open file. */
  private attributes(abs: string, rel: string, h: TarHeader, mode: number, fd?: number): void {
    const pax = h.pax ?? {};
    const uid = numeric(pax.uid, h.uid);
    const gid = numeric(pax.gid, h.gid);
    try {
      if (fd !== undefined) fchownSync(fd, uid, gid);
      else lchownSync(abs, uid, gid);
    } catch (err) {
      if (isRoot) throw err;
    }
    for (const key in pax) {
      if (!key.startsWith(XATTR_PREFIX)) continue;
      const name = key.slice(XATTR_PREFIX.length);
      if (name.startsWith('trusted.overlay.')) continue;
      try {
        lsetxattr(abs, name, Buffer.from(pax[key]!, 'latin1'));
      } catch (err) {
        const c = code(err);
        if (c === 'ENOTSUP' || c === 'EOPNOTSUPP' || (c === 'EPERM' && h.type === 'symlink')) continue;
        throw err;
      }
    }
    // after chown, which clears set-id bits
    if (fd !== undefined) fchmodSync(fd, mode);
    else if (h.type !== 'symlink') chmodSync(abs, mode);
    const mtime = parseTime(pax.mtime, h.mtime);
    const atime = pax.atime !== undefined ? parseTime(pax.atime, undefined) : mtime;
    if (h.type === 'directory') this.dirTimes.set(rel, [atime, mtime]);
    else if (fd !== undefined) futimens(fd, atime, mtime);
    else lutimens(abs, atime, mtime);
  }

  private hardlinkTarget(linkname: string, self: string): string {
    const comps = cleanName(linkname, 'hardlink target');
    if (comps.length === 0) throw new InvalidArgumentError(`hardlink to the root directory`);
    const dir = this.resolver.dir(comps.slice(0, -1), false);
    const target = dir === null ? null : this.resolver.abs(dir === '' ? comps.at(-1)! : `${dir}/${comps.at(-1)!}`);
    const st = target === null ? null : lstatOrNull(target);
    if (!st) throw new InvalidArgumentError(`hardlink target ${JSON.stringify(linkname)} not found in the layer or below`);
    if (st.isDirectory()) throw new InvalidArgumentError(`hardlink target ${JSON.stringify(linkname)} is a directory`);
    if (target === self) throw new InvalidArgumentError(`hardlink ${JSON.stringify(linkname)} points at itself`);
    return target!;
  }

  private whiteout(parentRel: string, base: string, h: TarHeader): void {
    const parentAbs = this.resolver.abs(parentRel);
    if (base === OPAQUE_WHITEOUT) {
      if (this.opts.overlay) lsetxattr(parentAbs, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      else this.clearLower(parentRel);
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new InvalidArgumentError(`invalid whiteout ${JSON.stringify(h.name)}`);
    const rel = parentRel === '' ? name : `${parentRel}/${name}`;
    if (this.unpacked.has(rel)) return; // a whiteout only hides lower layers
    const abs = this.resolver.abs(rel);
    const st = lstatOrNull(abs);
    if (st) this.remove(abs, st);
    if (!this.opts.overlay) return;
    mknod(abs, S_IFCHR, 0n);
    const pax = h.pax ?? {};
    try {
      lchownSync(abs, numeric(pax.uid, h.uid), numeric(pax.gid, h.gid));
    } catch (err) {
      if (isRoot) throw err;
    }
  }

  /** clearLower empties `rel` of everything this layer did not write (native opaque directory). */
  private clearLower(rel: string): void {
    const abs = this.resolver.abs(rel);
    for (const name of readdirSync(abs)) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const childAbs = `${abs}/${name}`;
      const st = lstatSync(childAbs);
      if (!this.unpacked.has(childRel)) this.remove(childAbs, st);
      else if (st.isDirectory()) this.clearLower(childRel);
    }
  }

  private remove(abs: string, st: Stats): void {
    rmSync(abs, { recursive: true, force: true });
    if (st.isDirectory() || st.isSymbolicLink()) this.resolver.invalidate();
  }

  /** makeParent creates a missing parent, copying a lower layer's directory attributes if any. */
  private makeParent(abs: string, rel: string): void {
    mkdirSync(abs, 0o755);
    for (const lower of this.opts.parents ?? []) {
      const st = lstatOrNull(`${lower}/${rel}`);
      if (!st?.isDirectory()) continue;
      try {
        lchownSync(abs, st.uid, st.gid);
      } catch (err) {
        if (isRoot) throw err;
      }
      chmodSync(abs, st.mode & 0o7777);
      return;
    }
  }
}

// throwIfNoEntry avoids building an Error (and its stack) for every new path.
const lstatOrNull = (p: string): Stats | null => lstatSync(p, { throwIfNoEntry: false }) ?? null;

function checkedLink(linkname: string | null | undefined): string {
  if (!linkname) throw new InvalidArgumentError('symlink with an empty target');
  if (linkname.includes('\0') || Buffer.byteLength(linkname) > 4096) throw new InvalidArgumentError('invalid symlink target');
  return linkname;
}

async function writeAll(fd: number, data: Entry): Promise<void> {
  for await (const chunk of data) {
    let off = 0;
    while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
  }
}
