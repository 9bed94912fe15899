import { constants } from 'node:os';
import koffi from 'koffi';
import { AlreadyExistsError, NotFoundError, UnknownError } from '@ctrd/errdefs';

let cMkfifo: ((path: string, mode: number) => number) | undefined;
const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/**
 * mkfifo creates the named pipe `path` with mode `mode` (less the umask) through mkfifo(3). The
 * daemon used to run mkfifo(1) for each task's shim log, a fork of the whole daemon process each
 * time. An existing path is AlreadyExists, a missing parent NotFound.
 */
export function mkfifo(path: string, mode: number): void {
  cMkfifo ??= koffi.load('libc.so.6').func('int mkfifo(const char *path, uint32_t mode)') as unknown as (path: string, mode: number) => number;
  if (cMkfifo(path, mode) === 0) return;
  const errno = koffi.errno();
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  const message = `mkfifo ${path}: ${code}`;
  if (code === 'EEXIST') throw new AlreadyExistsError(message);
  if (code === 'ENOENT') throw new NotFoundError(message);
  throw new UnknownError(message);
}
