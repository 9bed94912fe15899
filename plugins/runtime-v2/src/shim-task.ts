import { GO_ZERO_TIMESTAMP, toTimestamp } from '@ctrd/api';
import { TaskDefinition } from '@ctrd/api/gen/containerd/runtime/v2/task/shim.js';
import { isNotFound } from '@ctrd/errdefs';
import type { Any, Exit, ExecOpts, Process, ProcessInfo, ProcessState, Task, TaskIO } from '@ctrd/runtime';
import { createClient, type ServiceClient, type TtrpcClient } from '@ctrd/ttrpc';
import type { Bundle } from './bundle.js';
import { statusName, toExit, wireAny } from './convert.js';

/** NAMESPACE_TTRPC is the ttrpc metadata key carrying the namespace to shims. */
export const NAMESPACE_TTRPC = 'containerd-namespace-ttrpc';

/** ShimTaskOptions ties a task to its shim. */
export interface ShimTaskOptions {
  bundle: Bundle;
  /** the runtime name or path the task was created with. */
  runtime: string;
  /** the shim executable (for `delete` after the shim dies). */
  binary: string;
  client: TtrpcClient;
  /** deadline for short calls such as State (containerd's `task.state` timeout is 2 s). */
  stateTimeoutMs?: number;
}

/**
 * Known is what the daemon learned of one process from its own calls: the pid Create or Start
 * answered, the stdio it was created with, and the exit its Wait answered.
 */
interface Known {
  pid: number;
  io?: TaskIO;
  exit?: Exit;
}

/**
 * ShimTask is a task served by a runtime v2 shim over ttrpc (`containerd.task.v2.Task`). Every
 * call names the task by its container id; exec processes add their exec id.
 *
 * A process that has exited keeps the state it exited with until it is deleted: once this task
 * has seen the exit (its own Wait, or a State saying stopped) and knows the pid and stdio, State
 * is answered here, without the round trip to the shim. Clients ask right after the exit (the
 * containerd client's Delete reads the status first), when both processes have gone idle.
 */
export class ShimTask implements Task {
  readonly id: string;
  readonly namespace: string;
  readonly runtime: string;
  readonly binary: string;
  readonly bundleDir: Bundle;
  readonly client: TtrpcClient;
  /** the typed shim API, calls carrying this task's namespace. */
  readonly shim: ServiceClient<typeof TaskDefinition>;
  private readonly stateTimeoutMs: number;
  /** exec ids this task added and has not deleted: known without asking the shim. */
  private readonly execs = new Set<string>();
  /** what this task learned of its processes (the init's under `''`), until each is deleted. */
  private readonly known = new Map<string, Known>();

  constructor(opts: ShimTaskOptions) {
    this.bundleDir = opts.bundle;
    this.id = opts.bundle.id;
    this.namespace = opts.bundle.namespace;
    this.runtime = opts.runtime;
    this.binary = opts.binary;
    this.client = opts.client;
    this.stateTimeoutMs = opts.stateTimeoutMs ?? 2000;
    this.shim = createClient(TaskDefinition, opts.client, { metadata: { [NAMESPACE_TTRPC]: this.namespace } });
  }

  get bundle(): string {
    return this.bundleDir.path;
  }

  /** connect asks the shim for its own pid and the task's (Connect). */
  async connect(timeoutMs = 5000): Promise<{ shimPid: number; taskPid: number }> {
    const r = await this.shim.connect({ id: this.id }, { timeoutMs });
    return { shimPid: r.shimPid, taskPid: r.taskPid };
  }

  /**
   * created records the init pid Create returned, so {@link ShimTask.pid} need not ask again, and
   * the stdio the task was created with.
   */
  created(pid: number, io: TaskIO): void {
    this.known.set('', { pid, io });
  }

  /** learn merges what a call told about process `execId`. */
  learn(execId: string, what: Partial<Known>): void {
    const k = this.known.get(execId) ?? { pid: 0 };
    if (what.pid !== undefined && what.pid > 0) k.pid = what.pid;
    if (what.io !== undefined) k.io = what.io;
    if (what.exit !== undefined) k.exit = what.exit;
    this.known.set(execId, k);
  }

  /** settled returns the final state of process `execId` when it is known to have exited, else undefined. */
  settled(execId: string): ProcessState | undefined {
    const k = this.known.get(execId);
    if (k?.exit === undefined || k.io === undefined || k.pid <= 0) return undefined;
    return {
      id: execId === '' ? this.id : execId,
      pid: k.pid,
      status: 'stopped',
      io: { ...k.io },
      exitStatus: k.exit.status,
      exitedAt: k.exit.exitedAt,
    };
  }

  async pid(): Promise<number> {
    // A restored task gets its pid at Start (Create answers 0): ask the shim then.
    const known = this.known.get('')?.pid ?? 0;
    if (known > 0) return known;
    return (await this.connect()).taskPid;
  }

  state(): Promise<ProcessState> {
    return processState(this, '');
  }

  start(): Promise<number> {
    return startProcess(this, '');
  }

  kill(signal: number, all = false): Promise<void> {
    return killProcess(this, '', signal, all);
  }

  resize(width: number, height: number): Promise<void> {
    return resizeProcess(this, '', width, height);
  }

  closeIO(): Promise<void> {
    return closeProcessIO(this, '');
  }

  wait(signal?: AbortSignal): Promise<Exit> {
    return waitProcess(this, '', signal);
  }

  /** delete deletes the init process in the shim; the manager's delete also stops the shim and removes the bundle. */
  async delete(): Promise<Exit> {
    const r = await this.shim.delete({ id: this.id, execId: '' });
    this.known.delete('');
    return toExit(r.pid, r.exitStatus, r.exitedAt);
  }

  async pids(): Promise<ProcessInfo[]> {
    const r = await this.shim.pids({ id: this.id });
    return r.processes.map((p) => (p.info ? { pid: p.pid, info: { typeUrl: p.info.typeUrl, value: p.info.value } } : { pid: p.pid }));
  }

  async pause(): Promise<void> {
    await this.shim.pause({ id: this.id });
  }

  async resume(): Promise<void> {
    await this.shim.resume({ id: this.id });
  }

  async exec(execId: string, opts: ExecOpts): Promise<Process> {
    await this.shim.exec({
      id: this.id,
      execId,
      terminal: opts.io.terminal,
      stdin: opts.io.stdin,
      stdout: opts.io.stdout,
      stderr: opts.io.stderr,
      spec: wireAny(opts.spec),
    });
    this.execs.add(execId);
    this.known.set(execId, { pid: 0, io: { ...opts.io } });
    return new ShimExecProcess(this, execId);
  }

  async process(execId: string): Promise<Process> {
    const p = new ShimExecProcess(this, execId);
    if (this.execs.has(execId)) return p;
    // The shim is the one that knows its processes: ask it, so an unknown exec is NotFound now.
    await p.state();
    return p;
  }

  async checkpoint(path: string, options?: Any): Promise<void> {
    await this.shim.checkpoint({ id: this.id, path, options: wireAny(options) });
  }

  async update(resources: Any | undefined, annotations: Record<string, string> = {}): Promise<void> {
    await this.shim.update({ id: this.id, resources: wireAny(resources), annotations });
  }

  async stats(): Promise<Any | undefined> {
    const r = await this.shim.stats({ id: this.id });
    return r.stats ? { typeUrl: r.stats.typeUrl, value: r.stats.value } : undefined;
  }

  /** shutdown asks the shim to exit once it serves no task; a shim that hangs up first has done so. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    try {
      await this.shim.shutdown({ id: this.id, now: false }, { timeoutMs });
    } catch {
      // An exiting shim often closes the connection before answering; either way it is going.
    }
  }

  /** forgetExec drops a deleted exec id from the ones known without asking the shim. */
  forgetExec(execId: string): void {
    this.execs.delete(execId);
    this.known.delete(execId);
  }

  /** stateTimeout is the deadline used for State calls. */
  get stateTimeout(): number {
    return this.stateTimeoutMs;
  }
}

/** ShimExecProcess is an exec process of a {@link ShimTask}. */
export class ShimExecProcess implements Process {
  constructor(
    private readonly task: ShimTask,
    readonly id: string,
  ) {}

  state(): Promise<ProcessState> {
    return processState(this.task, this.id);
  }

  start(): Promise<number> {
    return startProcess(this.task, this.id);
  }

  kill(signal: number, all = false): Promise<void> {
    return killProcess(this.task, this.id, signal, all);
  }

  resize(width: number, height: number): Promise<void> {
    return resizeProcess(this.task, this.id, width, height);
  }

  closeIO(): Promise<void> {
    return closeProcessIO(this.task, this.id);
  }

  wait(signal?: AbortSignal): Promise<Exit> {
    return waitProcess(this.task, this.id, signal);
  }

  async delete(): Promise<Exit> {
    const r = await this.task.shim.delete({ id: this.task.id, execId: this.id });
    this.task.forgetExec(this.id);
    return toExit(r.pid, r.exitStatus, r.exitedAt);
  }
}

async function processState(task: ShimTask, execId: string): Promise<ProcessState> {
  const settled = task.settled(execId);
  if (settled !== undefined) return settled;
  const r = await task.shim.state({ id: task.id, execId }, { timeoutMs: task.stateTimeout });
  const state: ProcessState = {
    id: execId === '' ? task.id : execId,
    pid: r.pid,
    status: statusName(r.status),
    io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal },
    exitStatus: r.exitStatus,
    exitedAt: toExit(r.pid, r.exitStatus, r.exitedAt).exitedAt,
  };
  task.learn(execId, {
    pid: state.pid,
    io: { ...state.io },
    ...(state.status === 'stopped' ? { exit: { pid: state.pid, status: state.exitStatus, exitedAt: state.exitedAt } } : {}),
  });
  return state;
}

async function startProcess(task: ShimTask, execId: string): Promise<number> {
  const { pid } = await task.shim.start({ id: task.id, execId });
  task.learn(execId, { pid });
  return pid;
}

async function killProcess(task: ShimTask, execId: string, signal: number, all: boolean): Promise<void> {
  await task.shim.kill({ id: task.id, execId, signal, all });
}

async function resizeProcess(task: ShimTask, execId: string, width: number, height: number): Promise<void> {
  await task.shim.resizePty({ id: task.id, execId, width, height });
}

async function closeProcessIO(task: ShimTask, execId: string): Promise<void> {
  await task.shim.closeIO({ id: task.id, execId, stdin: true });
}

async function waitProcess(task: ShimTask, execId: string, signal?: AbortSignal): Promise<Exit> {
  const r = await task.shim.wait({ id: task.id, execId }, { timeoutMs: Infinity, ...(signal ? { signal } : {}) });
  const exit = toExit(0, r.exitStatus, r.exitedAt);
  task.learn(execId, { exit });
  return exit;
}

/** exitTimestamp is the wire time of an exit, Go's zero time when unknown. */
export function exitTimestamp(exit: Exit): { seconds: number; nanos: number } {
  return exit.exitedAt ? toTimestamp(exit.exitedAt) : { ...GO_ZERO_TIMESTAMP };
}

/** isGone reports an error meaning the shim no longer knows the process. */
export function isGone(err: unknown): boolean {
  return isNotFound(err);
}
