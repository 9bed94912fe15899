import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listening } from './daemons.js';

const SERVER = fileURLToPath(new URL('./grpc-floor-server.js', import.meta.url));

/**
 * grpcStartFloor times a bare @grpc/grpc-js server (`grpc-floor-server.js`) from spawn until
 * `ctr version` answers on its socket, polled as the `daemon-start` rows poll: the start-up
 * any daemon written in Node on grpc-js pays before its first answer.
 */
export async function grpcStartFloor(dir: string, n: number): Promise<number> {
  const socket = join(dir, `grpc-floor-${n}.sock`);
  rmSync(socket, { force: true });
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, [SERVER, socket], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`grpc-floor-server exited with ${proc.exitCode}`);
      if (await listening(socket)) {
        const r = spawnSync('ctr', ['--address', socket, 'version'], { stdio: 'ignore' });
        if (r.status === 0) return Number(process.hrtime.bigint() - t0) / 1e6;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('grpc-floor-server did not answer within 30 s');
  } finally {
    proc.kill('SIGTERM');
    await exited;
    rmSync(socket, { force: true });
  }
}

/** FloorServer is a running `grpc-floor-server.js --blob`, serving one blob from memory. */
export class FloorServer {
  private constructor(
    readonly address: string,
    private readonly proc: ReturnType<typeof spawn>,
    private readonly exited: Promise<void>,
  ) {}

  /** start launches the server for `blob` on a socket in `dir` and waits until it accepts connections. */
  static async start(dir: string, blob: string): Promise<FloorServer> {
    const address = join(dir, 'grpc-floor-blob.sock');
    rmSync(address, { force: true });
    const proc = spawn(process.execPath, [SERVER, address, '--blob', blob], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const server = new FloorServer(address, proc, exited);
    const deadline = Date.now() + 30_000;
    while (!(await listening(address))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`grpc-floor-server did not start (exit ${proc.exitCode})`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return server;
  }

  /** stop ends the server and removes its socket. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    await this.exited;
    rmSync(this.address, { force: true });
  }
}
