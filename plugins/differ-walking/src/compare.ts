import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { lgetxattr, llistxattr, major, minor } from './sys.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarEntryHeader } from './tar-writer.js';

const READ_CHUNK = 1024 * 1024;
const WHITEOUT_PREFIX = '.wh.';

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p, { bigint: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function xattrsOf(abs: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = llistxattr(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return out;
    throw err;
  }
  for (const n of names.sort()) {
    if (n.startsWith('trusted.overlay.')) continue;
    out.set(n, lgetxattr(abs, n));
  }
  return out;
}

function sameXattrs(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}

function sameContent(a: string, b: string): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.alloc(64 * 1024);
    const bb = Buffer.alloc(64 * 1024);
    for (;;) {
      const na = readSync(fa, ba);
      const nb = readSync(fb, bb);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}


/**
 * unchanged tells whether `upper` holds the same file as `lower`, the way containerd decides:
 * type, mode, owner, device, xattrs; for non-directories size and mtime too, and contents when
 * both mtimes have no sub-second part (they may have been truncated by a copy).
 */
function unchanged(la: string, ls: Stats, ua: string, us: Stats): boolean {
  if (ls.mode !== us.mode || ls.uid !== us.uid || ls.gid !== us.gid || ls.rdev !== us.rdev) return false;
  if (!sameXattrs(xattrsOf(la), xattrsOf(ua))) return false;
  if (us.isDirectory()) return true;
  if (ls.size !== us.size) return false;
  if (us.isSymbolicLink()) return readlinkSync(la) === readlinkSync(ua);
  const lt = lstatSync(la, { bigint: true }).mtimeNs;
  const ut = lstatSync(ua, { bigint: true }).mtimeNs;
  if (lt !== ut) return false;
  if (ut % 1_000_000_000n !== 0n) return true;
  return !us.isFile() || sameContent(la, ua);
}

/**
 * diffTar walks `lower` and `upper` side by side in name order and yields an uncompressed OCI
 * layer: upper's new and changed entries (with whole subtrees of new directories), `.wh.`
 * whiteouts for what upper deleted, and hardlinks for inodes already written. Memory is
 * bounded: file contents are streamed in 1 MiB reads.
 */
export async function* diffTar(lower: string, upper: string): AsyncGenerator<Buffer> {
  const inodes = new Map<string, string>();
  async function* entry(rel: string, abs: string, st: Stats): AsyncGenerator<Buffer> {
    const mtimeNs = lstatSync(abs, { bigint: true }).mtimeNs;
    const h: TarEntryHeader = {
      name: rel, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0,
      mtime: { sec: Number(mtimeNs / 1_000_000_000n), nsec: Number(mtimeNs % 1_000_000_000n) },
      xattrs: xattrsOf(abs),
    };
    if (st.isDirectory()) h.type = 'directory';
    else if (st.isSymbolicLink()) Object.assign(h, { type: 'symlink', linkname: readlinkSync(abs) });
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      Object.assign(h, { type: st.isBlockDevice() ? 'block-device' : 'character-device', devmajor: major(st.rdev), devminor: minor(st.rdev) });
    } else if (st.isFIFO()) h.type = 'fifo';
    else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        yield encodeHeader({ ...h, type: 'link', linkname: first, xattrs: undefined });
        return;
      }
      if (st.nlink > 1) inodes.set(key, rel);
      h.size = st.size;
    } else return; // sockets cannot be archived
    yield encodeHeader(h);
    if (h.type === 'file' && h.size > 0) yield* fileData(abs, h.size);
  }
  async function* added(rel: string, abs: string, st: Stats): AsyncGenerator<Buffer> {
    yield* entry(rel, abs, st);
    if (!st.isDirectory()) return;
    for (const name of readdirSync(abs).sort()) {
      const childAbs = `${abs}/${name}`;
      const cst = lstatOrNull(childAbs);
      if (cst) yield* added(`${rel}/${name}`, childAbs, cst);
    }
  }
  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const uDir = rel === '' ? upper : `${upper}/${rel}`;
    const lDir = rel === '' ? lower : `${lower}/${rel}`;
    const names = new Set([...readdirSync(uDir), ...readdirSync(lDir)]);
    for (const name of [...names].sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const ua = `${uDir}/${name}`;
      const la = `${lDir}/${name}`;
      const us = lstatOrNull(ua);
      const ls = lstatOrNull(la);
      if (!us) {
        if (ls) yield* whiteout(rel, name);
        continue;
      }
      if (!ls) {
        yield* added(childRel, ua, us);
        continue;
      }
      if (us.isDirectory() && ls.isDirectory()) {
        if (!unchanged(la, ls, ua, us)) yield* entry(childRel, ua, us);
        yield* walk(childRel);
      } else if (!unchanged(la, ls, ua, us)) {
        yield* added(childRel, ua, us);
      }
    }
  }
  yield* walk('');
  yield END_OF_ARCHIVE;
}

function* whiteout(dir: string, name: string): Generator<Buffer> {
  yield encodeHeader({
    name: dir === '' ? `${WHITEOUT_PREFIX}${name}` : `${dir}/${WHITEOUT_PREFIX}${name}`,
    type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: { sec: 0, nsec: 0 },
  });
}

async function* fileData(abs: string, size: number): AsyncGenerator<Buffer> {
  const fd = openSync(abs, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) throw new Error(`${abs} shrank while it was archived`);
      left -= n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
  yield padding(size);
}
