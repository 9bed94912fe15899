import { constants } from 'node:os';
import { koffi } from '@ctrd/mount';

/**
 * Thin libc bindings for what Node's fs lacks: mknod, mkfifo, the l*xattr family and
 * utimensat. Every call throws a Node-style error (`code` = errno name) on failure. The
 * bindings are made on first use, so a daemon that applies no layer never loads the FFI.
 */
function bind() {
  const libc = koffi().load('libc.so.6');
  return {
    mknod: libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    mkfifo: libc.func('int mkfifo(const char *path, uint32_t mode)'),
    lsetxattr: libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    llistxattr: libc.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
    utimensat: libc.func('int utimensat(int dirfd, const char *path, const void *times, int flags)'),
    futimens: libc.func('int futimens(int fd, const void *times)'),
  };
}

let bound: ReturnType<typeof bind> | undefined;
const c = () => (bound ??= bind());

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** S_IFCHR / S_IFBLK / S_IFIFO file type bits for mknod. */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

function fail(call: string, path: string): never {
  const errno = koffi().errno();
  const code = errnoNames.get(errno) ?? `E${errno}`;
  const err = new Error(`${code}: ${call} ${path}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errno;
  err.syscall = call;
  err.path = path;
  throw err;
}

/** makedev packs a device number the way glibc does. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** major and minor split an `rdev` from fs.Stats. */
export function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
export function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
}

/** mknod creates a device node (or fifo) at `path` with `mode` (type and permission bits). */
export function mknod(path: string, mode: number, dev: bigint): void {
  if (c().mknod(path, mode, dev) !== 0) fail('mknod', path);
}

/** mkfifo creates a named pipe. */
export function mkfifo(path: string, mode: number): void {
  if (c().mkfifo(path, mode) !== 0) fail('mkfifo', path);
}

/** lsetxattr sets an extended attribute on `path` itself, never on a symlink's target. */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  if (c().lsetxattr(path, name, value, value.length, 0) !== 0) fail('lsetxattr', path);
}

/** llistxattr lists the extended attribute names of `path` itself. */
export function llistxattr(path: string): string[] {
  for (;;) {
    const size = Number(c().llistxattr(path, null, 0));
    if (size < 0) fail('llistxattr', path);
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const got = Number(c().llistxattr(path, buf, size));
    if (got < 0) {
      if (koffi().errno() === constants.errno.ERANGE) continue;
      fail('llistxattr', path);
    }
    return buf.toString('latin1', 0, got).split('\0').filter((n) => n !== '');
  }
}

/** lgetxattr reads one extended attribute of `path` itself. */
export function lgetxattr(path: string, name: string): Buffer {
  for (;;) {
    const size = Number(c().lgetxattr(path, name, null, 0));
    if (size < 0) fail('lgetxattr', path);
    const buf = Buffer.alloc(size);
    if (size === 0) return buf;
    const got = Number(c().lgetxattr(path, name, buf, size));
    if (got < 0) {
      if (koffi().errno() === constants.errno.ERANGE) continue;
      fail('lgetxattr', path);
    }
    return buf.subarray(0, got);
  }
}

/** Timespec is a time as whole seconds plus nanoseconds. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** lutimens sets atime and mtime with nanosecond precision, without following a symlink. */
export function lutimens(path: string, atime: Timespec, mtime: Timespec): void {
  if (c().utimensat(AT_FDCWD, path, timespecs(atime, mtime), AT_SYMLINK_NOFOLLOW) !== 0) fail('utimensat', path);
}

/** futimens sets atime and mtime of an open file with nanosecond precision. */
export function futimens(fd: number, atime: Timespec, mtime: Timespec): void {
  if (c().futimens(fd, timespecs(atime, mtime)) !== 0) fail('futimens', `fd ${fd}`);
}

const times = Buffer.alloc(32);

/** timespecs fills the shared `struct timespec[2]` buffer; every use is synchronous. */
function timespecs(atime: Timespec, mtime: Timespec): Buffer {
  times.writeBigInt64LE(BigInt(atime.sec), 0);
  times.writeBigInt64LE(BigInt(atime.nsec), 8);
  times.writeBigInt64LE(BigInt(mtime.sec), 16);
  times.writeBigInt64LE(BigInt(mtime.nsec), 24);
  return times;
}
