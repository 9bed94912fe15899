import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ctrdEnv } from '@ctrd/daemon/launcher';
import { waitForAnswer } from './daemons.js';

const SERVER = fileURLToPath(new URL('./grpc-floor-server.js', import.meta.url));

/**
 * grpcStartFloor times a bare @grpc/grpc-js server (`grpc-floor-server.js`) from spawn until
 * `ctr version` answers on its socket, polled as the `daemon-start` rows poll: the start-up
 * any daemon written in Node on grpc-js pays before its first answer. It gets the environment
 * ctrd's launcher gives node, as every floor of a Node process here does.
 */
export async function grpcStartFloor(dir: string, n: number): Promise<number> {
  const socket = join(dir, `grpc-floor-${n}.sock`);
  rmSync(socket, { force: true });
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, [SERVER, socket], { stdio: 'ignore', env: ctrdEnv() });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitForAnswer(proc, socket, { what: 'grpc-floor-server', version: true });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    proc.kill('SIGTERM');
    await exited;
    rmSync(socket, { force: true });
  }
}

/**
 * FloorServer is a running `grpc-floor-server.js`: Content.Write without a store and, given a
 * blob, Content.Info and Content.Read of that blob from memory.
 */
export class FloorServer {
  private constructor(
    readonly address: string,
    private readonly proc: ReturnType<typeof spawn>,
    private readonly exited: Promise<void>,
  ) {}

  /**
   * start launches the server (serving `blob` when given) on a socket in `dir` and waits until it
   * accepts connections; `nodeArgs` go to node before the script (e.g. `--cpu-prof`).
   */
  static async start(dir: string, blob?: string, nodeArgs: readonly string[] = []): Promise<FloorServer> {
    const address = join(dir, 'grpc-floor-content.sock');
    rmSync(address, { force: true });
    const proc = spawn(process.execPath, [...nodeArgs, SERVER, address, ...(blob ? ['--blob', blob] : [])], { stdio: 'ignore', env: ctrdEnv() });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const server = new FloorServer(address, proc, exited);
    try {
      await waitForAnswer(proc, address, { what: 'grpc-floor-server', version: false });
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** pid is the server's process id, for reading its CPU time. */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** stop ends the server and removes its socket. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    await this.exited;
    rmSync(this.address, { force: true });
  }
}
