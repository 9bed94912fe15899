import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import { constants } from 'node:os';
import { libc } from './libc.js';
import { forgetPath, lookPath } from './look-path.js';
import { posixSpawnAvailable } from './posix-spawn.js';
import { feed, spawnPiped, type PipedChild, type PlainStdio } from './spawn-piped.js';

/** ExitInfo is how a process ended: shell-style status (128 + signal when killed) and when. */
export interface ExitInfo {
  status: number;
  at: Date;
}

/** RunResult is the outcome of {@link Reaper.run}. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** RunOptions configures {@link Reaper.run}. */
export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Written to a pipe the child gets as fd 3, which is then closed (see `SpawnPipedOptions.fd3`). */
  fd3?: string;
  /** stdio for the child; by default stdin ignored (or piped for `input`), stdout and stderr captured. */
  stdio?: SpawnOptions['stdio'];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** exitStatus converts a raw wait status to an exit code, 128 + signal for a killed process. */
export function exitStatus(raw: number): number {
  const sig = raw & 0x7f;
  return sig === 0 ? (raw >> 8) & 0xff : 128 + sig;
}

const UNCLAIMED_TTL_MS = 60_000;
/** how long {@link Reaper.run} waits for a command's output pipes to close after it exited. */
const PIPE_GRACE_MS = 100;
const KEEPALIVE_SWEEP_MS = 1000;

function isPlainStdio(stdio: SpawnOptions['stdio']): stdio is PlainStdio {
  return Array.isArray(stdio) && stdio.length === 3 && stdio.every((s) => typeof s === 'number' || s === 'ignore' || s === 'pipe');
}

/**
 * Reaper collects the exits of every child of this process, which is a child subreaper.
 *
 * libuv installs its own SIGCHLD handler but only calls `waitpid` on the pids it spawned, so a
 * blanket `waitpid(-1)` here would steal their exits and hang Node's `ChildProcess` objects.
 * Instead, on every SIGCHLD the reaper reaps, one by one, the exited children Node did not
 * spawn: runc, container inits and exec processes re-parented to us after runc exits, and any
 * other orphan (see {@link Reaper.sweep}). Exits of pids nobody watches yet are kept for a
 * minute, because runc may finish, and its process exit, before the shim has read the pid file.
 */
export class Reaper {
  private readonly spawned = new Set<number>();
  private readonly watchers = new Map<number, (exit: ExitInfo) => void>();
  private readonly unclaimed = new Map<number, ExitInfo>();
  private readonly onSignal = (): void => this.sweep();
  private started = false;
  /** children started by {@link Reaper.run} that have not exited yet. */
  private running = 0;
  private keepAlive: NodeJS.Timeout | undefined;

  /** start makes this process a child subreaper and begins reaping. */
  start(): void {
    if (this.started) return;
    this.started = true;
    libc().setChildSubreaper();
    process.on('SIGCHLD', this.onSignal);
  }

  /** stop stops listening for SIGCHLD. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    process.off('SIGCHLD', this.onSignal);
  }

  /** spawn starts a child through Node, keeping its pid out of the reaper's hands while it runs. */
  spawn(command: string, args: readonly string[], opts: SpawnOptions): ChildProcess {
    const child = spawn(command, args, opts);
    const pid = child.pid;
    if (pid !== undefined) {
      this.spawned.add(pid);
      child.once('exit', () => this.spawned.delete(pid));
    }
    return child;
  }

  /**
   * run spawns a command, captures its output and resolves when it exits. Once the reaper has
   * started, plain fd/`'ignore'`/`'pipe'` stdio goes through {@link posixSpawn} and the exit
   * through the reaper itself: starting a child then costs no copy of this process's page tables.
   */
  run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const stdio = opts.stdio ?? [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
    if (this.started && isPlainStdio(stdio) && posixSpawnAvailable()) return this.runDirect(command, args, stdio, opts);
    return this.runWithNode(command, args, stdio, opts);
  }

  private runDirect(command: string, args: readonly string[], stdio: PlainStdio, opts: RunOptions): Promise<RunResult> {
    let child: PipedChild;
    const file = opts.env === undefined ? lookPath(command) : command;
    try {
      child = spawnPiped(file, args, { stdio, env: opts.env, cwd: opts.cwd, input: opts.input, fd3: opts.fd3 });
    } catch (err) {
      if (file === command || (err as NodeJS.ErrnoException).code !== 'ENOENT') return Promise.reject(err);
      // The program moved since it was found: search again.
      forgetPath(command);
      return this.runDirect(lookPath(command), args, stdio, opts);
    }
    const pid = child.pid;
    return new Promise((resolve) => {
      const out = ['', ''];
      let open = 0;
      let code: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const readers: net.Socket[] = [];
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const r of readers) r.destroy();
        resolve({ code: code!, stdout: out[0]!, stderr: out[1]! });
      };
      for (const i of [1, 2]) {
        const r = i === 1 ? child.stdout : child.stderr;
        if (r === undefined) continue;
        readers.push(r);
        open++;
        r.setEncoding('utf8');
        r.on('data', (d: string) => (out[i - 1] += d));
        // 'end' (all output read) comes a loop phase before 'close'; 'close' alone covers a
        // reader that fails instead.
        let counted = false;
        const ended = (): void => {
          if (counted) return;
          counted = true;
          if (--open === 0 && code !== undefined) finish();
        };
        r.on('error', () => {});
        r.once('end', ended);
        r.once('close', ended);
      }
      this.expect(pid, (exit) => {
        this.release();
        code = exit.status;
        if (open === 0) finish();
        // Output still unread once the command is gone is in the pipe already; only another
        // holder of its write end (a process the command left behind) keeps it open longer.
        else timer = setTimeout(finish, PIPE_GRACE_MS);
      });
    });
  }

  private runWithNode(command: string, args: readonly string[], stdio: SpawnOptions['stdio'], opts: RunOptions): Promise<RunResult> {
    // A pipe, not the socket pair Node's 'pipe' would make: a socket cannot be opened by path.
    const fd3 = opts.fd3 === undefined ? undefined : libc().pipe();
    if (fd3 !== undefined) stdio = [...(Array.isArray(stdio) ? stdio : [stdio, stdio, stdio]), fd3[0]];
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.spawn(command, args, { stdio, env: opts.env, cwd: opts.cwd });
      } finally {
        if (fd3 !== undefined) {
          closeSync(fd3[0]);
          feed(fd3[1], opts.fd3);
        }
      }
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', reject);
      // 'close' would wait for every holder of the pipes, which may include the container.
      child.once('exit', (code, signal) => {
        const done = (): void => resolve({ code: code ?? 128 + signalNumber(signal), stdout, stderr });
        if (child.stdout === null && child.stderr === null) done();
        else setImmediate(done);
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  /** expect registers `onExit` for a child this process just started itself, without a sweep. */
  private expect(pid: number, onExit: (exit: ExitInfo) => void): void {
    const seen = this.unclaimed.get(pid);
    if (seen !== undefined) {
      this.unclaimed.delete(pid);
      onExit(seen);
      return;
    }
    // Signal handlers do not keep Node's loop alive: while a child runs, a timer does, and it
    // also sweeps now and then should a SIGCHLD ever go missing.
    if (this.running++ === 0) this.keepAlive = setInterval(() => this.sweep(), KEEPALIVE_SWEEP_MS);
    this.watchers.set(pid, onExit);
  }

  private release(): void {
    if (--this.running === 0) clearInterval(this.keepAlive);
  }

  /**
   * watch calls `onExit` once `pid` (a child of this process) exits; at once when that exit was
   * already reaped.
   */
  watch(pid: number, onExit: (exit: ExitInfo) => void): void {
    const seen = this.unclaimed.get(pid);
    if (seen !== undefined) {
      this.unclaimed.delete(pid);
      onExit(seen);
      return;
    }
    this.watchers.set(pid, onExit);
    this.sweep();
  }

  /**
   * sweep reaps every exited child Node did not spawn. It asks the kernel which child has exited
   * (without reaping it) and reaps that one, until none is left: one call per exit, however many
   * children run. An exited child of Node's own is left to libuv; while it waits there it hides
   * the others from that question, so they are then found by listing every child.
   */
  sweep(): void {
    for (;;) {
      const pid = libc().exitedChild();
      if (pid <= 0) return;
      const raw = this.spawned.has(pid) ? undefined : libc().waitpid(pid);
      if (raw === undefined) {
        this.sweepListed();
        return;
      }
      this.dispatch(pid, { status: exitStatus(raw), at: new Date() });
    }
  }

  /**
   * sweepListed reaps every exited child Node did not spawn, found by listing all children:
   * what {@link Reaper.sweep} falls back to, a read of /proc and a waitpid per child.
   */
  sweepListed(): void {
    for (const pid of childPids()) {
      if (this.spawned.has(pid)) continue;
      const raw = libc().waitpid(pid);
      if (raw === undefined) continue;
      this.dispatch(pid, { status: exitStatus(raw), at: new Date() });
    }
  }

  private dispatch(pid: number, exit: ExitInfo): void {
    const watcher = this.watchers.get(pid);
    if (watcher !== undefined) {
      this.watchers.delete(pid);
      watcher(exit);
      return;
    }
    this.unclaimed.set(pid, exit);
    const cutoff = Date.now() - UNCLAIMED_TTL_MS;
    for (const [p, e] of this.unclaimed) if (e.at.getTime() < cutoff) this.unclaimed.delete(p);
  }
}

/**
 * childPids lists this process's children. The kernel hands orphans to the first live thread of
 * a subreaper, which is the main thread while the process runs, and libuv forks from the main
 * thread too: its `children` file is the whole list, read without walking every thread.
 */
function childPids(): number[] {
  const pids: number[] = [];
  let text: string;
  try {
    text = readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8');
  } catch {
    return pids;
  }
  for (const p of text.split(' ')) if (p.trim() !== '') pids.push(Number(p));
  return pids;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
