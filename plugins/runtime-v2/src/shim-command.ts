import { spawn } from 'node:child_process';
import { ChildExits, posixSpawnAvailable, spawnPiped } from '@ctrd/shim/spawn';
import { closeOnExec } from './cloexec.js';
import { DeleteResponse } from '@ctrd/api/gen/containerd/runtime/v2/task/shim.js';
import { DeadlineExceededError, UnknownError } from '@ctrd/errdefs';

/** ShimCommand is how to invoke a shim binary for one task. */
export interface ShimCommand {
  binary: string;
  namespace: string;
  id: string;
  /** the bundle directory: the shim's working directory. */
  bundle: string;
  /** ctrd's gRPC socket path (`-address`). */
  address: string;
  /** ctrd's ttrpc socket path (`TTRPC_ADDRESS`), where the shim forwards events. */
  ttrpcAddress: string;
  /** `-publish-binary`: a program that could publish events (the shims use ttrpc instead). */
  publishBinary: string;
  debug?: boolean;
  /**
   * how long ctrd's own shim server stays up without tasks (`CTRD_SHIM_IDLE_EXIT_MS`); other
   * shims ignore it. Undefined leaves the variable as the daemon's environment has it.
   */
  idleExitMs?: number;
  /** gives up after this long (the shim is killed). */
  timeoutMs?: number;
}

interface Output {
  stdout: Buffer;
  stderr: string;
}

let exits: ChildExits | undefined;

const timedOut = (cmd: ShimCommand, args: string[]) => new DeadlineExceededError(`${cmd.binary} ${args.at(-1)}: timed out after ${cmd.timeoutMs}ms`);

/** finished settles a shim command that has exited with `status` and closed its output. */
function finished(cmd: ShimCommand, args: string[], out: Buffer[], stderr: string, status: number | string | null, resolve: (o: Output) => void, reject: (err: Error) => void): void {
  const stdout = Buffer.concat(out);
  if (status === 0) resolve({ stdout, stderr });
  else reject(new UnknownError(`${`${stdout.toString()}${stderr}`.trim()}: ${cmd.binary} ${args.at(-1)}: exit ${status}`));
}

function runShim(cmd: ShimCommand, args: string[], stdin: Uint8Array | undefined): Promise<Output> {
  const argv = ['-namespace', cmd.namespace, '-address', cmd.address, '-publish-binary', cmd.publishBinary, ...args];
  const env: NodeJS.ProcessEnv = { ...process.env, GOMAXPROCS: '2', TTRPC_ADDRESS: cmd.ttrpcAddress };
  if (cmd.idleExitMs !== undefined) env.CTRD_SHIM_IDLE_EXIT_MS = String(Math.round(cmd.idleExitMs));
  if (posixSpawnAvailable()) return runShimDirect(cmd, argv, args, env, stdin);
  closeOnExec();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.binary, argv, { cwd: cmd.bundle, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin === undefined ? undefined : Buffer.from(stdin));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(timedOut(cmd, args));
    }, cmd.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new UnknownError(`${cmd.binary}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      finished(cmd, args, out, stderr, code ?? signal, resolve, reject);
    });
  });
}

/**
 * runShimDirect is runShim through posix_spawn: no fork of the whole daemon per task, and the
 * child inherits no descriptor beyond its stdio, so nothing needs marking close-on-exec first.
 */
function runShimDirect(cmd: ShimCommand, argv: string[], args: string[], env: NodeJS.ProcessEnv, stdin: Uint8Array | undefined): Promise<Output> {
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawnPiped>;
    try {
      child = spawnPiped(cmd.binary, argv, { cwd: cmd.bundle, env, input: stdin });
    } catch (err) {
      reject(new UnknownError(`${cmd.binary}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    // Both piped: spawnPiped pipes all three by default.
    const [outPipe, errPipe] = [child.stdout!, child.stderr!];
    const out: Buffer[] = [];
    let stderr = '';
    let open = 2;
    let status: number | undefined;
    let settled = false;
    outPipe.on('data', (c: Buffer) => out.push(c));
    errPipe.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      settled = true;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      outPipe.destroy();
      errPipe.destroy();
      reject(timedOut(cmd, args));
    }, cmd.timeoutMs ?? 30_000);
    // Like 'close' of a Node child: the exit and both output pipes closed.
    const maybeDone = (): void => {
      if (settled || open > 0 || status === undefined) return;
      settled = true;
      clearTimeout(timer);
      finished(cmd, args, out, stderr, status, resolve, reject);
    };
    for (const s of [outPipe, errPipe]) {
      s.on('error', () => {});
      s.once('close', () => {
        open--;
        maybeDone();
      });
    }
    exits ??= new ChildExits();
    void exits.wait(child.pid).then((exit) => {
      status = exit.status;
      maybeDone();
    });
  });
}

/**
 * shimStart runs `<shim> … -id <id> start` in the bundle with the runtime options on stdin, as
 * containerd does, and returns the ttrpc address the shim printed (`unix:///…` or a bare path).
 */
export async function shimStart(cmd: ShimCommand, options: Uint8Array | undefined): Promise<string> {
  const args = ['-id', cmd.id, ...(cmd.debug ? ['-debug'] : []), 'start'];
  const { stdout } = await runShim(cmd, args, options);
  const address = stdout.toString('utf8').trim();
  if (address === '') throw new UnknownError(`${cmd.binary} start: no address printed`);
  return address;
}

/**
 * shimDelete runs `<shim> … -id <id> -bundle <bundle> delete`, which cleans up after a dead shim
 * (kills and deletes the container) and prints a DeleteResponse.
 */
export async function shimDelete(cmd: ShimCommand): Promise<DeleteResponse> {
  const { stdout } = await runShim(cmd, ['-id', cmd.id, '-bundle', cmd.bundle, 'delete'], undefined);
  return DeleteResponse.decode(stdout);
}

/** socketPath turns a shim address (`unix:///run/…`, or a bare path) into a socket path. */
export function socketPath(address: string): string {
  return address.startsWith('unix://') ? address.slice('unix://'.length) : address;
}
