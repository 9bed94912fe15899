import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as ev from '@ctrd/api/gen/containerd/events/task.js';
import { Metrics as V1Metrics } from '@ctrd/api/gen/containerd/cgroups/v1/metrics.js';
import { Metrics as V2Metrics } from '@ctrd/api/gen/containerd/cgroups/v2/metrics.js';
import { CheckpointOptions, Options, ProcessDetails } from '@ctrd/api/gen/containerd/runtime/v2/runc/options/oci.js';
import type * as api from './gen/containerd/runtime/v2/task/shim.js';
import type { TaskDefinition } from './gen/containerd/runtime/v2/task/shim.js';
import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '@ctrd/errdefs';
import type { MessageFns, ServiceImplementation } from '@ctrd/ttrpc';
import { cgroupOf, type CgroupLocation } from './cgroup-paths.js';
import { cgroupV1Stats } from './cgroup-v1-stats.js';
import { cgroupV2Stats } from './cgroup-v2-stats.js';
import { freeze, freezerOf, thaw } from './freezer.js';
import { OomWatcher } from './oom-watcher.js';
import { Proc } from './proc.js';
import { type IOConfig, ProcessIO } from './process-io.js';
import type { Reaper } from './reaper.js';
import { mountRootfs, unmountAll } from './rootfs.js';
import { PROCESS_FD3, Runc } from './runc.js';
import type { EventSink } from './publisher.js';
import { GO_ZERO_TIMESTAMP, WIRE_TYPE_URLS as TypeUrls, packAny, toTimestamp } from './wire.js';

/** TaskServiceOptions configures a {@link TaskService}. */
/** DEFAULT_RUNC_ROOT is where our shim keeps runc's state, per namespace; containerd's shim uses /run/containerd/runc. */
export const DEFAULT_RUNC_ROOT = '/run/ctrd/runc';

export interface TaskServiceOptions {
  namespace: string;
  reaper: Reaper;
  events: EventSink;
  /** runc binary when the task's options name none (default `runc`). */
  runcBinary?: string;
  /** runc state root when the options name none; the namespace is appended (default `/run/ctrd/runc`, apart from containerd's). */
  runcRoot?: string;
  /** Called when Shutdown finds no task left. */
  onIdle?: () => void;
  /** Called when Create takes over an id `start` handed out. */
  onCreate?: (id: string) => void;
  /** False once the server is exiting: Create then fails with UnavailableError. */
  accepting?: () => boolean;
}

/** BUNDLE_STATE_FILE is the file in the bundle that tells the `delete` subcommand how runc was run. */
export const BUNDLE_STATE_FILE = 'ctrd-shim.json';

interface Task {
  id: string;
  bundle: string;
  runc: Runc;
  init: Proc;
  execs: Map<string, Proc>;
  rootfsMounted: boolean;
  checkpoint: string;
  options: Options;
  cgroup: CgroupLocation | undefined;
}

type Impl = ServiceImplementation<typeof TaskDefinition>;

const now = (d: Date | undefined): api.WaitResponse['exitedAt'] => (d === undefined ? { ...GO_ZERO_TIMESTAMP } : toTimestamp(d));

/**
 * TaskService implements `containerd.task.v2.Task` for every task of one namespace, routing each
 * call by its `id`, and driving runc for them. Events go to `events` in containerd's order:
 * create, start, exit, delete for a task; exec-added, exec-started, exit for an exec.
 */
export class TaskService implements Impl {
  private readonly tasks = new Map<string, Task>();
  private readonly oom: OomWatcher;

  constructor(private readonly opts: TaskServiceOptions) {
    this.oom = new OomWatcher((id) => this.publish('/tasks/oom', TypeUrls.TaskOOM, ev.TaskOOM, { containerId: id }));
  }

  /** taskCount is the number of tasks this server holds. */
  get taskCount(): number {
    return this.tasks.size;
  }

  /** close stops OOM watching. */
  close(): void {
    this.oom.close();
  }

  private publish<T>(topic: string, url: string, codec: MessageFns<T>, event: T): void {
    this.opts.events.publish(topic, url, codec, event);
  }

  private task(id: string): Task {
    const t = this.tasks.get(id);
    if (t === undefined) throw new NotFoundError(`task ${id}`);
    return t;
  }

  private proc(id: string, execId: string): Proc {
    const t = this.task(id);
    if (execId === '') return t.init;
    const p = t.execs.get(execId);
    if (p === undefined) throw new NotFoundError(`process ${execId}`);
    return p;
  }

  async create(req: api.CreateTaskRequest): Promise<api.CreateTaskResponse> {
    if (req.id === '') throw new InvalidArgumentError('task id must not be empty');
    if (this.tasks.has(req.id)) throw new AlreadyExistsError(`task ${req.id}`);
    if (this.opts.accepting?.() === false) throw new UnavailableError('shim server is shutting down');
    this.opts.onCreate?.(req.id);
    const options = req.options?.typeUrl === TypeUrls.RuncOptions ? Options.decode(req.options.value) : Options.fromPartial({});
    const root = join(options.root || this.opts.runcRoot || DEFAULT_RUNC_ROOT, this.opts.namespace);
    const binary = options.binaryName || this.opts.runcBinary || 'runc';
    const runc = new Runc({ binary, root, log: join(req.bundle, 'log.json'), systemdCgroup: options.systemdCgroup, criu: options.criuPath }, this.opts.reaper);
    const init = new Proc(req.id, '', req.stdin, req.stdout, req.stderr, req.terminal);
    const task: Task = {
      id: req.id, bundle: req.bundle, runc, init, execs: new Map(), rootfsMounted: false,
      checkpoint: req.checkpoint, options, cgroup: undefined,
    };
    this.tasks.set(req.id, task);
    try {
      await writeFile(join(req.bundle, BUNDLE_STATE_FILE), JSON.stringify({ binary, root, namespace: this.opts.namespace }));
      if (req.rootfs.length > 0) {
        const target = join(req.bundle, 'rootfs');
        await mkdir(target, { recursive: true });
        await mountRootfs(req.rootfs, target);
        task.rootfsMounted = true;
      }
      init.io = await ProcessIO.open(this.ioConfig(init), this.opts.reaper);
      if (req.checkpoint === '') {
        const pidFile = join(req.bundle, 'init.pid');
        await runc.run(runc.create(req.id, {
          bundle: req.bundle, pidFile, consoleSocket: init.io.consoleSocket,
          noPivot: options.noPivotRoot, noNewKeyring: options.noNewKeyring,
        }), { stdio: init.io.stdio });
        await init.io.started();
        await this.adopt(task, init, pidFile);
      }
    } catch (err) {
      await this.discard(task);
      throw err;
    }
    this.publish('/tasks/create', TypeUrls.TaskCreate, ev.TaskCreate, {
      containerId: req.id, bundle: req.bundle, rootfs: req.rootfs,
      io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
      checkpoint: req.checkpoint, pid: init.pid,
    });
    return { pid: init.pid };
  }

  private ioConfig(p: Proc): IOConfig {
    return { stdin: p.stdin, stdout: p.stdout, stderr: p.stderr, terminal: p.terminal, containerId: p.containerId, namespace: this.opts.namespace };
  }

  /**
   * adopt reads a pid file and starts watching that process's exit. The read is synchronous: a
   * few bytes runc just wrote, in the page cache, where a thread-pool round trip cost more.
   */
  private async adopt(task: Task, p: Proc, pidFile: string): Promise<void> {
    p.pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (p === task.init) {
      task.cgroup = await cgroupOf(p.pid).catch(() => undefined);
      await this.watchOom(task).catch(() => {});
    }
    this.opts.reaper.watch(p.pid, (exit) => void this.onExit(task, p, exit));
  }

  private async watchOom(task: Task): Promise<void> {
    const cg = task.cgroup;
    if (cg === undefined) return;
    if (cg.version === 1 && cg.dirs.memory !== undefined) this.oom.addV1(task.id, cg.dirs.memory);
    else if (cg.version === 2) await this.oom.addV2(task.id, cg.dir);
  }

  private async onExit(task: Task, p: Proc, exit: { status: number; at: Date }): Promise<void> {
    await p.afterGate();
    await p.io?.drained();
    this.publish('/tasks/exit', TypeUrls.TaskExit, ev.TaskExit, {
      containerId: task.id, id: p.id, pid: p.pid, exitStatus: exit.status, exitedAt: toTimestamp(exit.at),
    });
    p.setExited(exit);
    if (p === task.init) {
      this.oom.remove(task.id);
      // The init's pid namespace takes its execs along; anything left is killed like the Go shim does.
      for (const e of task.execs.values()) if (e.status === Status.RUNNING && e.pid > 0) tryKill(e.pid, 9);
    }
  }

  async start(req: api.StartRequest): Promise<api.StartResponse> {
    const task = this.task(req.id);
    const p = this.proc(req.id, req.execId);
    if (p.status !== Status.CREATED) throw new FailedPreconditionError(`cannot start a process in state ${Status[p.status].toLowerCase()}`);
    const release = p.hold();
    try {
      if (p !== task.init) await this.startExec(task, p);
      else if (task.checkpoint !== '') await this.restore(task, p);
      else await task.runc.run(task.runc.start(task.id));
      p.status = Status.RUNNING;
      if (p === task.init) {
        this.publish('/tasks/start', TypeUrls.TaskStart, ev.TaskStart, { containerId: task.id, pid: p.pid });
      } else {
        this.publish('/tasks/exec-started', TypeUrls.TaskExecStarted, ev.TaskExecStarted, {
          containerId: task.id, execId: p.execId, pid: p.pid,
        });
      }
    } finally {
      release();
    }
    return { pid: p.pid };
  }

  /**
   * startExec runs `runc exec` with the process spec on a pipe (runc's fd 3) rather than in a
   * file: no file is written before runc starts or removed before the answer.
   */
  private async startExec(task: Task, p: Proc): Promise<void> {
    const pidFile = join(task.bundle, `${p.execId}.pid`);
    p.io = await ProcessIO.open(this.ioConfig(p), this.opts.reaper);
    const args = task.runc.exec(task.id, { processFile: PROCESS_FD3, pidFile, consoleSocket: p.io.consoleSocket });
    await task.runc.run(args, { stdio: p.io.stdio, fd3: p.spec ?? '{}' });
    await p.io.started();
    await this.adopt(task, p, pidFile);
  }

  private async restore(task: Task, p: Proc): Promise<void> {
    const pidFile = join(task.bundle, 'init.pid');
    const o = task.options;
    await task.runc.run(task.runc.restore(task.id, {
      bundle: task.bundle, pidFile, consoleSocket: p.io?.consoleSocket, noPivot: o.noPivotRoot,
      imagePath: task.checkpoint, workPath: o.criuWorkPath || undefined, terminal: p.terminal,
    }), { stdio: p.io?.stdio ?? ['ignore', 'ignore', 'ignore'] });
    await p.io?.started();
    await this.adopt(task, p, pidFile);
  }

  async delete(req: api.DeleteRequest): Promise<api.DeleteResponse> {
    const task = this.task(req.id);
    const p = this.proc(req.id, req.execId);
    if (p.status === Status.RUNNING || p.status === Status.PAUSED) {
      throw new FailedPreconditionError(`cannot delete a ${Status[p.status].toLowerCase()} process`);
    }
    if (p !== task.init) {
      task.execs.delete(p.execId);
      await p.io?.close();
      return { pid: p.pid, exitStatus: p.exit?.status ?? 0, exitedAt: now(p.exit?.at) };
    }
    if (task.checkpoint === '' || p.pid > 0) await task.runc.run(task.runc.delete(task.id, p.status === Status.CREATED));
    if (p.status === Status.CREATED && p.pid > 0) {
      await Promise.race([p.wait(), new Promise((r) => setTimeout(r, 2000))]);
    }
    await this.discard(task);
    const exit = p.exit;
    this.publish('/tasks/delete', TypeUrls.TaskDelete, ev.TaskDelete, {
      containerId: task.id, pid: p.pid, exitStatus: exit?.status ?? 0, exitedAt: now(exit?.at), id: task.id,
    });
    return { pid: p.pid, exitStatus: exit?.status ?? 0, exitedAt: now(exit?.at) };
  }

  /** discard forgets a task and releases its io, OOM watch and rootfs mount. */
  private async discard(task: Task): Promise<void> {
    this.tasks.delete(task.id);
    this.oom.remove(task.id);
    await task.init.io?.close();
    for (const e of task.execs.values()) await e.io?.close();
    if (task.rootfsMounted) unmountAll(join(task.bundle, 'rootfs'));
  }

  async exec(req: api.ExecProcessRequest): Promise<api.ExecProcessResponse> {
    const task = this.task(req.id);
    if (task.execs.has(req.execId)) throw new AlreadyExistsError(`id ${req.execId}`);
    if (task.init.status === Status.STOPPED) throw new FailedPreconditionError('container is stopped');
    const p = new Proc(req.id, req.execId, req.stdin, req.stdout, req.stderr, req.terminal);
    p.spec = req.spec === undefined ? '{}' : Buffer.from(req.spec.value).toString('utf8');
    task.execs.set(req.execId, p);
    this.publish('/tasks/exec-added', TypeUrls.TaskExecAdded, ev.TaskExecAdded, { containerId: req.id, execId: req.execId });
    return {};
  }

  async resizePty(req: api.ResizePtyRequest): Promise<Record<string, never>> {
    this.proc(req.id, req.execId).io?.resize(req.width, req.height);
    return {};
  }

  async state(req: api.StateRequest): Promise<api.StateResponse> {
    const task = this.task(req.id);
    const p = this.proc(req.id, req.execId);
    return {
      id: p.id, bundle: task.bundle, pid: p.pid, status: p.status, stdin: p.stdin, stdout: p.stdout,
      stderr: p.stderr, terminal: p.terminal, exitStatus: p.exit?.status ?? 0, exitedAt: now(p.exit?.at), execId: p.execId,
    };
  }

  async pause(req: api.PauseRequest): Promise<Record<string, never>> {
    const task = this.task(req.id);
    if (task.init.status !== Status.RUNNING) throw new FailedPreconditionError(`cannot pause task in state ${Status[task.init.status].toLowerCase()}`);
    await this.setFrozen(task, true);
    task.init.status = Status.PAUSED;
    this.publish('/tasks/paused', TypeUrls.TaskPaused, ev.TaskPaused, { containerId: task.id });
    return {};
  }

  async resume(req: api.ResumeRequest): Promise<Record<string, never>> {
    const task = this.task(req.id);
    if (task.init.status !== Status.PAUSED) throw new FailedPreconditionError(`cannot resume task in state ${Status[task.init.status].toLowerCase()}`);
    await this.setFrozen(task, false);
    task.init.status = Status.RUNNING;
    this.publish('/tasks/resumed', TypeUrls.TaskResumed, ev.TaskResumed, { containerId: task.id });
    return {};
  }

  /**
   * setFrozen pauses or resumes a task. With runc the shim writes the task's freezer itself, as
   * `runc pause` and `runc resume` would; runc keeps no other state for a pause. Another runtime
   * binary, a cgroup without a freezer, or a file that cannot be written (the task's cgroup is
   * going away) leaves the call to the runtime, whose answer then stands.
   */
  private async setFrozen(task: Task, frozen: boolean): Promise<void> {
    const f = basename(task.runc.config.binary) === 'runc' ? freezerOf(task.cgroup) : undefined;
    if (f !== undefined) {
      try {
        await (frozen ? freeze(f) : thaw(f));
        return;
      } catch (err) {
        if (typeof (err as NodeJS.ErrnoException).syscall !== 'string') throw err; // a failed write or read, not a failed freeze
      }
    }
    await task.runc.run(frozen ? task.runc.pause(task.id) : task.runc.resume(task.id));
  }

  async kill(req: api.KillRequest): Promise<Record<string, never>> {
    const task = this.task(req.id);
    const p = this.proc(req.id, req.execId);
    if (p !== task.init) {
      if (p.status !== Status.RUNNING || p.pid === 0) throw new NotFoundError('process already finished');
      process.kill(p.pid, req.signal);
      return {};
    }
    if (p.status === Status.STOPPED && !req.all) throw new NotFoundError('process already finished');
    await task.runc.run(task.runc.kill(task.id, req.signal, req.all));
    return {};
  }

  async pids(req: api.PidsRequest): Promise<api.PidsResponse> {
    const task = this.task(req.id);
    const r = await task.runc.run(task.runc.ps(task.id), { output: true });
    const pids = (JSON.parse(r.stdout || '[]') ?? []) as number[];
    const byPid = new Map([...task.execs.values()].map((e) => [e.pid, e.execId]));
    return {
      processes: pids.map((pid) => {
        const execId = byPid.get(pid);
        return execId === undefined
          ? { pid, info: undefined }
          : { pid, info: packAny(TypeUrls.RuncProcessDetails, ProcessDetails, { execId }) };
      }),
    };
  }

  async closeIO(req: api.CloseIORequest): Promise<Record<string, never>> {
    const p = this.proc(req.id, req.execId);
    if (req.stdin) p.io?.closeStdin();
    return {};
  }

  async checkpoint(req: api.CheckpointTaskRequest): Promise<Record<string, never>> {
    const task = this.task(req.id);
    const o = req.options?.typeUrl === TypeUrls.RuncCheckpointOptions
      ? CheckpointOptions.decode(req.options.value) : CheckpointOptions.fromPartial({});
    const imagePath = o.imagePath || req.path;
    await task.runc.run(task.runc.checkpoint(task.id, {
      imagePath, workPath: o.workPath || undefined, exit: o.exit, openTcp: o.openTcp,
      externalUnixSockets: o.externalUnixSockets, terminal: o.terminal, fileLocks: o.fileLocks,
      emptyNamespaces: o.emptyNamespaces, cgroupsMode: o.cgroupsMode || undefined,
    }));
    this.publish('/tasks/checkpointed', TypeUrls.TaskCheckpointed, ev.TaskCheckpointed, { containerId: task.id, checkpoint: imagePath });
    return {};
  }

  async update(req: api.UpdateTaskRequest): Promise<Record<string, never>> {
    const task = this.task(req.id);
    if (req.resources === undefined) throw new InvalidArgumentError('resources must be set');
    await task.runc.run(task.runc.update(task.id), { input: Buffer.from(req.resources.value).toString('utf8') });
    return {};
  }

  async wait(req: api.WaitRequest): Promise<api.WaitResponse> {
    const exit = await this.proc(req.id, req.execId).wait();
    return { exitStatus: exit.status, exitedAt: toTimestamp(exit.at) };
  }

  async stats(req: api.StatsRequest): Promise<api.StatsResponse> {
    const task = this.task(req.id);
    const cg = task.cgroup;
    if (cg === undefined) throw new NotFoundError(`cgroup of task ${req.id}`);
    if (cg.version === 1) return { stats: packAny(TypeUrls.CgroupsV1Metrics, V1Metrics, await cgroupV1Stats(cg.dirs)) };
    if (!existsSync(cg.dir)) throw new NotFoundError(`cgroup of task ${req.id}`);
    return { stats: packAny(TypeUrls.CgroupsV2Metrics, V2Metrics, await cgroupV2Stats(cg.dir)) };
  }

  async connect(req: api.ConnectRequest): Promise<api.ConnectResponse> {
    const task = this.tasks.get(req.id);
    return { shimPid: process.pid, taskPid: task?.init.pid ?? 0, version: '' };
  }

  async shutdown(req: api.ShutdownRequest): Promise<Record<string, never>> {
    void req;
    if (this.tasks.size === 0) setImmediate(() => this.opts.onIdle?.());
    return {};
  }
}

function tryKill(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
