import { closeSync, constants, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { libc } from './libc.js';
import type { Reaper } from './reaper.js';

/** IOConfig names a process's stdio as containerd passes it: fifo paths or `file://`/`binary://` URIs. */
export interface IOConfig {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  /** For `binary://` loggers: CONTAINER_ID and CONTAINER_NAMESPACE. */
  containerId: string;
  namespace: string;
}

type Stdio = number | 'ignore';

/**
 * ProcessIO wires a process's stdio. Without a terminal the fds go straight to runc and on to
 * the container (output fifos are opened read-write so opening never blocks and the container
 * never sees EPIPE); only stdin passes through a pipe the shim holds, so CloseIO or the client
 * closing the fifo can end it. With a
 * terminal, runc hands the pty master over the console socket and the shim copies between it
 * and the fifos.
 */
export class ProcessIO {
  /** stdio to give runc (fds or `'ignore'`). */
  readonly stdio: [Stdio, Stdio, Stdio] = ['ignore', 'ignore', 'ignore'];
  /** consoleSocket is the path to pass as `--console-socket` for a terminal. */
  consoleSocket: string | undefined;
  private readonly fds: number[] = [];
  private stdinWriter: net.Socket | undefined;
  private stdinSource: net.Socket | undefined;
  private consoleServer: net.Server | undefined;
  private consoleDir: string | undefined;
  private pendingConsole: Promise<net.Socket> | undefined;
  private master: number | undefined;
  private masterIn: tty.ReadStream | undefined;
  private outStream: WriteStream | undefined;
  private copyDone: Promise<void> = Promise.resolve();

  private constructor(private readonly cfg: IOConfig) {}

  /** open prepares stdio for `cfg`; `binary://` loggers are started and awaited here. */
  static async open(cfg: IOConfig, reaper: Reaper): Promise<ProcessIO> {
    const io = new ProcessIO(cfg);
    try {
      await io.setup(reaper);
    } catch (err) {
      await io.close();
      throw err;
    }
    return io;
  }

  private async setup(reaper: Reaper): Promise<void> {
    const { stdin, stdout, stderr, terminal } = this.cfg;
    if (terminal) {
      this.consoleDir = await mkdtemp(join(tmpdir(), 'pty'));
      this.consoleSocket = join(this.consoleDir, 'pty.sock');
      const server = net.createServer({ pauseOnConnect: true });
      this.consoleServer = server;
      this.pendingConsole = new Promise((resolve) => server.once('connection', resolve));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.consoleSocket, resolve);
      });
      return;
    }
    if (stdin !== '') {
      const [r, w] = libc().pipe();
      this.fds.push(r);
      this.stdio[0] = r;
      this.stdinWriter = new net.Socket({ fd: w, readable: false, writable: true });
      this.stdinWriter.on('error', () => {});
      this.stdinSource = fifoReader(stdin);
      this.stdinSource.pipe(this.stdinWriter);
    }
    if (stdout.startsWith('binary://')) {
      const [o, e] = await startLogger(reaper, stdout, this.cfg);
      this.fds.push(o, e);
      this.stdio[1] = o;
      this.stdio[2] = e;
      return;
    }
    if (stdout !== '') this.stdio[1] = this.openOutput(stdout);
    if (stderr !== '') this.stdio[2] = stderr === stdout ? this.stdio[1] : this.openOutput(stderr);
  }

  private openOutput(target: string): number {
    let fd: number;
    if (target.startsWith('file://')) {
      fd = openSync(new URL(target).pathname, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
    } else if (/^[a-z]+:\/\//.test(target) && !target.startsWith('fifo://')) {
      throw new InvalidArgumentError(`unsupported STDIO scheme ${target.split(':')[0]}`);
    } else {
      fd = openSync(target.replace(/^fifo:\/\//, ''), constants.O_RDWR);
    }
    this.fds.push(fd);
    return fd;
  }

  /**
   * started is called after runc has returned: it closes the shim's copies of the fds it gave
   * away and, for a terminal, takes the pty master and starts copying.
   */
  async started(): Promise<void> {
    for (const fd of this.fds.splice(0)) closeSync(fd);
    if (this.pendingConsole === undefined) return;
    const conn = await this.pendingConsole;
    this.pendingConsole = undefined;
    const handle = (conn as unknown as { _handle: { fd: number } })._handle;
    this.master = libc().receiveFd(handle.fd);
    conn.destroy();
    this.consoleServer?.close();
    this.startCopy(this.master);
  }

  private startCopy(master: number): void {
    const { stdin, stdout } = this.cfg;
    this.masterIn = new tty.ReadStream(master);
    this.masterIn.on('error', () => {});
    if (stdout !== '') {
      this.outStream = createWriteStream('', { fd: openSync(stdout, constants.O_RDWR) });
      this.outStream.on('error', () => {});
      const out = this.outStream;
      this.copyDone = new Promise((resolve) => {
        this.masterIn?.on('data', (d: Buffer) => out.write(d));
        this.masterIn?.once('end', resolve);
        this.masterIn?.once('close', resolve);
      });
    } else {
      this.masterIn.resume();
    }
    if (stdin !== '') {
      this.stdinSource = fifoReader(stdin);
      const writer = createWriteStream('', { fd: master, autoClose: false });
      writer.on('error', () => {});
      this.stdinSource.pipe(writer);
    }
  }

  /** resize sets the terminal's size; a no-op without one. */
  resize(width: number, height: number): void {
    if (this.master !== undefined) libc().resizePty(this.master, width, height);
  }

  /** closeStdin ends the process's stdin (CloseIO). */
  closeStdin(): void {
    this.stdinSource?.unpipe();
    this.stdinSource?.destroy();
    this.stdinSource = undefined;
    this.stdinWriter?.end();
    this.stdinWriter = undefined;
  }

  /** drained resolves once the terminal output has been copied out (at most `timeoutMs`). */
  async drained(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.copyDone, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** close releases everything the shim still holds. */
  async close(): Promise<void> {
    this.closeStdin();
    for (const fd of this.fds.splice(0)) closeSync(fd);
    this.masterIn?.destroy();
    this.outStream?.end();
    this.consoleServer?.close();
    if (this.consoleDir !== undefined) await rm(this.consoleDir, { recursive: true, force: true });
  }
}

/**
 * fifoReader opens a stdin fifo read-only as a stream that ends when the client closes its
 * write end, which is how a client such as `ctr` signals end of input. Opening never blocks;
 * Linux reports no hang-up on a fifo whose writer has not come yet, so there is no early EOF.
 */
function fifoReader(path: string): net.Socket {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const s = new net.Socket({ fd, readable: true, writable: false });
  s.on('error', () => {});
  return s;
}

/**
 * startLogger runs a `binary://` logging driver as containerd's shim does: fd 3 and 4 are the
 * read ends of the stdout and stderr pipes, fd 5 is closed by the driver once it is ready; the
 * query string becomes `key value` arguments. Returns the write ends for the container.
 */
async function startLogger(reaper: Reaper, uri: string, cfg: IOConfig): Promise<[number, number]> {
  const url = new URL(uri);
  const args: string[] = [];
  for (const [k, v] of url.searchParams) args.push(k, ...(v === '' ? [] : [v]));
  const [outR, outW] = libc().pipe();
  const [errR, errW] = libc().pipe();
  const [readyR, readyW] = libc().pipe();
  const child = reaper.spawn(url.pathname, args, {
    stdio: ['ignore', 'ignore', 'ignore', outR, errR, readyW],
    env: { ...process.env, CONTAINER_ID: cfg.containerId, CONTAINER_NAMESPACE: cfg.namespace },
    detached: true,
  });
  child.unref();
  for (const fd of [outR, errR, readyW]) closeSync(fd);
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    const s = new net.Socket({ fd: readyR, readable: true, writable: false });
    s.on('error', () => resolve());
    s.on('data', () => {});
    s.once('end', () => resolve());
    s.once('close', () => resolve());
  });
  return [outW, errW];
}
