import { execFile } from 'node:child_process';
import { constants, open, promises as fs } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { TaskIO } from './tasks.js';

const run = promisify(execFile);
// The callback open hands back a bare fd the socket then owns; it blocks a pool thread, not the loop.
const openFd = promisify(open) as (path: string, flags: number) => Promise<number>;

/** FifoIOOptions say which streams a FifoIO has. */
export interface FifoIOOptions {
  stdin?: boolean;
  /** terminal: a single output stream (stdout), no stderr fifo. */
  terminal?: boolean;
}

/** AttachStreams are the local streams a process's stdio is copied to and from. */
export interface AttachStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

/**
 * FifoIO is a process's stdio as fifos `<dir>/<id>-stdin|stdout|stderr`, which the shim opens
 * by path. Each open on our side completes when the shim opens the other end, so `attach`
 * must be called before the task is created or started and `wait` after its exit.
 */
export class FifoIO {
  readonly io: TaskIO;
  readonly #paths: string[];
  #copies: Promise<void>[] = [];
  #sockets: Socket[] = [];

  private constructor(io: TaskIO) {
    this.io = io;
    this.#paths = [io.stdin, io.stdout, io.stderr].filter((p): p is string => !!p);
  }

  /** create makes the fifos under `dir` (created if missing). */
  static async create(dir: string, id: string, opts: FifoIOOptions = {}): Promise<FifoIO> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const io: TaskIO = {
      stdin: opts.stdin ? join(dir, `${id}-stdin`) : '',
      stdout: join(dir, `${id}-stdout`),
      stderr: opts.terminal ? '' : join(dir, `${id}-stderr`),
      terminal: !!opts.terminal,
    };
    const f = new FifoIO(io);
    await Promise.all(f.#paths.map((p) => fs.rm(p, { force: true })));
    if (f.#paths.length) await run('mkfifo', ['-m', '0700', ...f.#paths]);
    return f;
  }

  /** existing wraps fifos made by an earlier client (a reattach); {@link detach} leaves them in place. */
  static existing(io: TaskIO): FifoIO {
    return new FifoIO(io);
  }

  /**
   * attach starts copying: the fifos' output to `streams.stdout`/`stderr` and `streams.stdin`
   * into the stdin fifo. `onStdinEnd` runs once stdin is exhausted (to close the process's
   * stdin). Opens are asynchronous and complete when the shim opens the fifos.
   */
  attach(streams: AttachStreams, onStdinEnd?: () => Promise<void> | void): void {
    const out = (path: string | undefined, dst: Writable | undefined) => {
      if (!path) return;
      this.#copies.push(
        openFd(path, constants.O_RDONLY).then(
          (fd) =>
            new Promise<void>((resolve) => {
              const sock = new Socket({ fd, readable: true, writable: false });
              this.#sockets.push(sock);
              sock.on('data', (b: Buffer) => dst?.write(b));
              sock.on('error', () => resolve());
              sock.on('close', () => resolve());
            }),
          () => undefined,
        ),
      );
    };
    out(this.io.stdout, streams.stdout);
    out(this.io.stderr, streams.stderr);
    const stdinPath = this.io.stdin;
    const src = streams.stdin;
    if (stdinPath && src) {
      void openFd(stdinPath, constants.O_WRONLY).then((fd) => {
        const sock = new Socket({ fd, readable: false, writable: true });
        this.#sockets.push(sock);
        sock.on('error', () => undefined);
        src.on('data', (b: Buffer) => sock.write(b));
        // The fd must be closed, not only shut down, for the reader to see EOF.
        src.once('end', () =>
          sock.end(() => {
            sock.destroy();
            void Promise.resolve(onStdinEnd?.()).catch(() => undefined);
          }),
        );
      }, () => undefined);
    }
  }

  /** wait resolves once the process's output has been copied to the end (EOF on every fifo). */
  async wait(timeoutMs = 0): Promise<void> {
    const all = Promise.all(this.#copies).then(() => undefined);
    if (!timeoutMs) return all;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** detach stops copying and leaves the fifos to the process. */
  detach(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets = [];
  }

  /**
   * close stops copying and removes the fifos. Opens still waiting for the shim are released
   * by opening the other end ourselves.
   */
  async close(): Promise<void> {
    for (const p of this.#paths) {
      const h = await fs.open(p, constants.O_RDWR | constants.O_NONBLOCK).catch(() => undefined);
      await h?.close();
    }
    this.detach();
    await Promise.all(this.#paths.map((p) => fs.rm(p, { force: true })));
  }
}
