import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import net from 'node:net';
import { libc } from './libc.js';
import { posixSpawn } from './posix-spawn.js';

/** PlainStdio is a child's stdin, stdout and stderr: an fd of ours, `/dev/null`, or a pipe to us. */
export type PlainStdio = [number | 'ignore' | 'pipe', number | 'ignore' | 'pipe', number | 'ignore' | 'pipe'];

/** PipedChild is a child started by {@link spawnPiped}: its pid and the read ends of its piped output. */
export interface PipedChild {
  pid: number;
  /** present when stdout is `'pipe'`. */
  stdout?: net.Socket;
  /** present when stderr is `'pipe'`. */
  stderr?: net.Socket;
}

/** SpawnPipedOptions configures {@link spawnPiped}. */
export interface SpawnPipedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** default: all three piped. */
  stdio?: PlainStdio;
  /** written to a piped stdin, which is then closed (at once when there is no input). */
  input?: Uint8Array | string;
  /**
   * written to a pipe the child gets as fd 3, which is then closed: data a program reads from a
   * path (`/proc/self/fd/3`) without a file being written and removed for it.
   */
  fd3?: Uint8Array | string;
}

let devNullFd: number | undefined;

/** devNull is a descriptor of /dev/null kept open for children given `'ignore'`. */
function devNull(): number {
  devNullFd ??= openSync('/dev/null', fsConstants.O_RDWR);
  return devNullFd;
}

/**
 * spawnPiped starts `file` with {@link posixSpawn} on `stdio`: a piped stdin is fed `input` and
 * closed, piped stdout and stderr are read through the returned sockets. The exit is the caller's
 * to collect (`ChildExits`, or a subreaper's sweep).
 */
export function spawnPiped(file: string, args: readonly string[], opts: SpawnPipedOptions = {}): PipedChild {
  const stdio = opts.stdio ?? ['pipe', 'pipe', 'pipe'];
  const childFds: number[] = [];
  const theirs: number[] = [];
  const mine: (number | undefined)[] = [undefined, undefined, undefined, undefined];
  let pid: number;
  try {
    stdio.forEach((s, i) => {
      if (typeof s === 'number') childFds.push(s);
      else if (s === 'ignore') childFds.push(devNull());
      else {
        const [r, w] = libc().pipe();
        mine[i] = i === 0 ? w : r;
        theirs.push(i === 0 ? r : w);
        childFds.push(i === 0 ? r : w);
      }
    });
    if (opts.fd3 !== undefined) {
      const [r, w] = libc().pipe();
      mine[3] = w;
      theirs.push(r);
      childFds.push(r);
    }
    pid = posixSpawn(file, args, { stdio: childFds as [number, number, number], env: opts.env, cwd: opts.cwd });
  } catch (err) {
    for (const fd of mine) if (fd !== undefined) closeSync(fd);
    throw err;
  } finally {
    for (const fd of theirs) closeSync(fd);
  }
  if (mine[0] !== undefined) feed(mine[0], opts.input);
  if (mine[3] !== undefined) feed(mine[3], opts.fd3);
  const reader = (fd: number | undefined) => (fd === undefined ? undefined : new net.Socket({ fd, readable: true, writable: false }));
  return { pid, stdout: reader(mine[1]), stderr: reader(mine[2]) };
}

/** feed writes `data` to the pipe's write end `fd` through libuv and closes it. */
export function feed(fd: number, data: Uint8Array | string | undefined): void {
  const w = new net.Socket({ fd, readable: false, writable: true });
  // A child that exits without reading closes the pipe: nothing is left to tell.
  w.on('error', () => {});
  w.end(data === undefined ? '' : typeof data === 'string' ? data : Buffer.from(data));
}
