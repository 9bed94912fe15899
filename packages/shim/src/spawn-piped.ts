import { closeSync } from 'node:fs';
import net from 'node:net';
import { libc } from './libc.js';
import { posixSpawn } from './posix-spawn.js';

/** PipedChild is a child started by {@link spawnPiped}: its pid and the read ends of its output. */
export interface PipedChild {
  pid: number;
  stdout: net.Socket;
  stderr: net.Socket;
}

/** SpawnPipedOptions configures {@link spawnPiped}. */
export interface SpawnPipedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** written to the child's stdin, which is then closed. */
  input?: Uint8Array;
}

/**
 * spawnPiped starts `file` with {@link posixSpawn}, its stdin fed from `input` and its stdout
 * and stderr on pipes read by the returned sockets. The exit is the caller's to collect
 * (`ChildExits`, or a subreaper's sweep).
 */
export function spawnPiped(file: string, args: readonly string[], opts: SpawnPipedOptions = {}): PipedChild {
  const made: number[] = [];
  let pid: number;
  try {
    const pipe = (): [number, number] => {
      const p = libc().pipe();
      made.push(...p);
      return p;
    };
    const [inR, inW] = pipe();
    const [outR, outW] = pipe();
    const [errR, errW] = pipe();
    pid = posixSpawn(file, args, { stdio: [inR, outW, errW], env: opts.env, cwd: opts.cwd });
    for (const fd of [inR, outW, errW]) closeSync(fd);
    const stdin = new net.Socket({ fd: inW, readable: false, writable: true });
    stdin.on('error', () => {});
    if (opts.input === undefined) stdin.end();
    else stdin.end(Buffer.from(opts.input));
    const stdout = new net.Socket({ fd: outR, readable: true, writable: false });
    const stderr = new net.Socket({ fd: errR, readable: true, writable: false });
    return { pid, stdout, stderr };
  } catch (err) {
    for (const fd of made) {
      try {
        closeSync(fd);
      } catch {
        // already handed over or closed
      }
    }
    throw err;
  }
}
