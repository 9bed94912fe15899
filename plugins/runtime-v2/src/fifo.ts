import { koffi, syscallError } from '@ctrd/mount';

let cMkfifo: ((path: string, mode: number) => number) | undefined;

/**
 * mkfifo creates the named pipe `path` with mode `mode` (less the umask) through mkfifo(3). The
 * daemon used to run mkfifo(1) for each task's shim log, a fork of the whole daemon process each
 * time. Failures are errdefs errors: an existing path AlreadyExists, a missing parent NotFound.
 */
export function mkfifo(path: string, mode: number): void {
  cMkfifo ??= koffi().load('libc.so.6').func('int mkfifo(const char *path, uint32_t mode)') as unknown as (path: string, mode: number) => number;
  if (cMkfifo(path, mode) !== 0) throw syscallError('mkfifo', koffi().errno(), `mkfifo ${path}`);
}
