import { createRequire } from 'node:module';
import { constants } from 'node:os';
import {
  CtrdError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  UnknownError,
  AlreadyExistsError,
} from '@ctrd/errdefs';

type AsyncCall = (...args: unknown[]) => void;

interface Libc {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2: ((target: string, flags: number) => number) & { async: AsyncCall };
  ioctl(fd: number, request: number, arg: Buffer): number;
  strerror(errnum: number): string;
}

type Koffi = typeof import('koffi');

let koffiModule: Koffi | undefined;

/**
 * koffi returns the FFI module, required on first use: loading it (a native addon, and a loader
 * that reads the node binary's ELF header to pick it) costs a daemon ~15 ms of CPU at start,
 * where most starts call nothing through it.
 */
export function koffi(): Koffi {
  return (koffiModule ??= createRequire(import.meta.url)('koffi') as Koffi);
}

let libc: Libc | undefined;

// Loaded on first use so that importing the package never touches the FFI.
function load(): Libc {
  if (libc) return libc;
  const lib = koffi().load('libc.so.6');
  libc = {
    mount: lib.func('int mount(const char *src, const char *tgt, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *tgt, int flags)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    strerror: lib.func('const char *strerror(int errnum)'),
  } as Libc;
  return libc;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** Errno holds the errno values the mount helpers react to. */
export const Errno = constants.errno;

/**
 * SystemErrorCause is the low-level cause attached to an error from a failed system call:
 * the call's name, its errno and the errno's symbolic code (`ENOENT`).
 */
export interface SystemErrorCause extends Error {
  errno: number;
  code: string;
  syscall: string;
}

/**
 * syscallError builds the errdefs error for a failed system call: ENOENT is NotFound, EEXIST
 * AlreadyExists, EINVAL InvalidArgument, EPERM/EACCES PermissionDenied, EBUSY Unavailable,
 * ENOTEMPTY FailedPrecondition, anything else Unknown. The errno is kept on the `cause`.
 */
export function syscallError(syscall: string, errno: number, what: string): CtrdError {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  const text = errno > 0 ? load().strerror(errno) : 'unknown error';
  const cause = Object.assign(new Error(`${syscall}: ${text}`), { errno, code, syscall }) as SystemErrorCause;
  const message = `${what}: ${text}`;
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(message, { cause });
    case 'EEXIST':
      return new AlreadyExistsError(message, { cause });
    case 'EINVAL':
      return new InvalidArgumentError(message, { cause });
    case 'EPERM':
    case 'EACCES':
      return new PermissionDeniedError(message, { cause });
    case 'EBUSY':
      return new UnavailableError(message, { cause });
    case 'ENOTEMPTY':
      return new FailedPreconditionError(message, { cause });
    default:
      return new UnknownError(message, { cause });
  }
}

/** errnoOf returns the errno behind an error made by {@link syscallError}, or 0. */
export function errnoOf(err: unknown): number {
  const cause = (err as { cause?: { errno?: unknown } } | null)?.cause;
  return typeof cause?.errno === 'number' ? cause.errno : 0;
}

/** sysMount calls mount(2) and returns 0 or the errno. */
export function sysMount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number {
  const l = load();
  return l.mount(source, target, fstype, flags, data) === 0 ? 0 : koffi().errno();
}

/** sysUnmount calls umount2(2) and returns 0 or the errno. */
export function sysUnmount(target: string, flags: number): number {
  const l = load();
  return l.umount2(target, flags) === 0 ? 0 : koffi().errno();
}

/**
 * sysUnmountAsync calls umount2(2) on a thread of libuv's pool and resolves to 0 or the errno.
 * An unmount waits for the kernel's RCU grace periods, often tens of milliseconds, which the
 * synchronous call would spend blocking the event loop. The pool thread's errno cannot be read
 * back, so a failed call is repeated synchronously for it: the errors (not mounted, busy,
 * missing) are immediate, and a mount that went away in between reads as success.
 */
export function sysUnmountAsync(target: string, flags: number): Promise<number> {
  const l = load();
  return new Promise((resolve) => {
    l.umount2.async(target, flags, (err: unknown, res: number) => {
      resolve(!err && res === 0 ? 0 : sysUnmount(target, flags));
    });
  });
}

/**
 * ioctl calls ioctl(2) on `fd` with `arg` as the in/out argument buffer; it throws the errdefs
 * error for a failure, naming `what`.
 */
export function ioctl(fd: number, request: number, arg: Buffer, what: string): void {
  const l = load();
  if (l.ioctl(fd, request, arg) !== 0) throw syscallError('ioctl', koffi().errno(), what);
}
