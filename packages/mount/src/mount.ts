import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';
import { Errno, errnoOf, syscallError, sysMount, sysUnmount, sysUnmountAsync } from './libc.js';
import { MountFlags, PROPAGATION_FLAGS, compactLowerdir, optionsSize, parseMountOptions } from './options.js';
import type { Mount } from './types.js';

const PAGE_SIZE = 4096;
const MNT_DETACH = 2;

function describe(m: Mount, target: string): string {
  return `mount ${m.type} ${m.source} on ${target}`;
}

// process.chdir moves the whole process, but mount(2) is called synchronously in between, so no
// other JavaScript observes the changed directory.
function mountFrom(chdir: string, source: string, target: string, type: string, flags: number, data: string): number {
  if (chdir === '') return sysMount(source, target, type, flags, data);
  const cwd = process.cwd();
  process.chdir(chdir);
  try {
    return sysMount(source, target, type, flags, data);
  } finally {
    process.chdir(cwd);
  }
}

/**
 * mount attaches one {@link Mount} at `target`, as containerd's `Mount.Mount` does: an overlay
 * whose options do not fit in a page has its `lowerdir` made relative to the layers' common
 * directory; propagation flags are applied in a second call; a read-only bind is remounted
 * read-only because the kernel ignores `ro` on the first bind call.
 */
export function mount(m: Mount, target: string): void {
  let chdir = '';
  let options = m.options;
  if (m.type === 'overlay' && optionsSize(options) >= PAGE_SIZE - 512) {
    ({ chdir, options } = compactLowerdir(options));
  }
  const { flags, data, loop } = parseMountOptions(options);
  if (loop) throw new NotImplementedError(`${describe(m, target)}: option "loop"`);
  if (data.length > PAGE_SIZE) throw new InvalidArgumentError(`${describe(m, target)}: mount options is too long`);
  const oflags = flags & ~PROPAGATION_FLAGS;
  if ((flags & MountFlags.REMOUNT) === 0 || data !== '') {
    const errno = mountFrom(chdir, m.source, target, m.type, oflags, data);
    if (errno !== 0) throw syscallError('mount', errno, describe(m, target));
  }
  try {
    if ((flags & PROPAGATION_FLAGS) !== 0) {
      const pflags = flags & (PROPAGATION_FLAGS | MountFlags.REC | MountFlags.SILENT);
      const errno = sysMount('', target, '', pflags, '');
      if (errno !== 0) throw syscallError('mount', errno, `set propagation of ${target}`);
    }
    const bindRo = MountFlags.BIND | MountFlags.RDONLY;
    if ((oflags & bindRo) === bindRo) {
      const errno = sysMount('', target, '', oflags | MountFlags.REMOUNT, '');
      if (errno !== 0) throw syscallError('mount', errno, `remount ${target} read-only`);
    }
  } catch (err) {
    // A half-configured mount (say, a bind left writable) must not stay behind.
    sysUnmount(target, MNT_DETACH);
    throw err;
  }
}

/**
 * mountAll mounts each of `mounts` at `target` in order. If one fails, the ones already made
 * are unmounted before the error is thrown.
 */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      mount(m, target);
      done++;
    }
  } catch (err) {
    for (; done > 0; done--) sysUnmount(target, MNT_DETACH);
    throw err;
  }
}

/** UnmountOptions tunes {@link unmount}: `detach` is a lazy unmount (MNT_DETACH). */
export interface UnmountOptions {
  detach?: boolean;
}

async function unmountOnce(target: string, flags: number): Promise<number> {
  // A mount that is briefly busy (a closing file, a finishing stat) usually frees up within a
  // couple of seconds, so retry EBUSY before giving up.
  for (let i = 0; i < 50; i++) {
    const errno = await sysUnmountAsync(target, flags);
    if (errno !== Errno.EBUSY) return errno;
    await sleep(50);
  }
  return Errno.EBUSY;
}

/**
 * unmount detaches the top mount at `target`. A `target` that is not a mount point is not an
 * error.
 */
export async function unmount(target: string, opts: UnmountOptions = {}): Promise<void> {
  const errno = await unmountOnce(target, opts.detach ? MNT_DETACH : 0);
  if (errno !== 0 && errno !== Errno.EINVAL) throw syscallError('umount2', errno, `unmount ${target}`);
}

/**
 * unmountAll unmounts every mount stacked at `target` until none is left. A missing `target`
 * or one with nothing mounted is not an error.
 */
export async function unmountAll(target: string, opts: UnmountOptions = {}): Promise<void> {
  if (target === '' || !existsSync(target)) return;
  const flags = opts.detach ? MNT_DETACH : 0;
  for (;;) {
    const errno = await unmountOnce(target, flags);
    if (errno === Errno.EINVAL || errno === Errno.ENOENT) return;
    if (errno !== 0) throw syscallError('umount2', errno, `unmount ${target}`);
  }
}

/** isNotMounted reports an unmount error that only says the target was not a mount point. */
export function isNotMounted(err: unknown): boolean {
  return errnoOf(err) === Errno.EINVAL;
}
