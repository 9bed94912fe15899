import { readdirSync } from 'node:fs';
import { koffi } from '@ctrd/mount';

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

let fcntl: ((fd: number, cmd: number, arg: number) => number) | undefined;

/**
 * closeOnExec marks every descriptor of this process above stderr close-on-exec. Node's own
 * descriptors already are, but native libraries may open files without the flag (LevelDB does),
 * and a shim started from the daemon would otherwise hold them open for its whole life, even
 * after the daemon's root is gone. Run it right before starting a shim; stdio passed to a child
 * is dup'ed onto fds 0-2, which clears the flag there.
 */
export function closeOnExec(): void {
  fcntl ??= koffi().load('libc.so.6').func('int fcntl(int fd, int cmd, int arg)') as unknown as (fd: number, cmd: number, arg: number) => number;
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  for (const name of names) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    const flags = fcntl!(fd, F_GETFD, 0);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl!(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}
