import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { libc } from './libc.js';

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

/**
 * Reaper collects the exits of every child of this process, which is a child subreaper.
 *
 * libuv installs its own SIGCHLD handler but only calls `waitpid` on the pids it spawned, so a
 * blanket `waitpid(-1)` here would steal their exits and hang Node's `ChildProcess` objects.
 * Instead, on every SIGCHLD the reaper lists this process's children
 * (`/proc/self/task/<tid>/children`) and calls `waitpid(pid, WNOHANG)` on each that Node did
 * not spawn: container inits and exec processes re-parented to us after runc exits, and any
 * other orphan. Exits of pids nobody watches yet are kept for a minute, because runc may finish,
 * and its process exit, before the shim has read the pid file.
 */
export class Reaper {
  private readonly spawned = new Set<number>();
  private readonly watchers = new Map<number, (exit: ExitInfo) => void>();
  private readonly unclaimed = new Map<number, ExitInfo>();
  private readonly onSignal = (): void => this.sweep();
  private started = false;

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

  /** run spawns a command, captures its output and resolves when it exits. */
  run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const stdio = opts.stdio ?? [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
      const child = this.spawn(command, args, { stdio, env: opts.env, cwd: opts.cwd });
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

  /** sweep reaps every exited child Node did not spawn. */
  sweep(): void {
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

function childPids(): number[] {
  const pids: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return pids;
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const p of text.split(' ')) if (p.trim() !== '') pids.push(Number(p));
  }
  return pids;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
