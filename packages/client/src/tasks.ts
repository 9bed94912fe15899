import { fromTimestamp, SpecTypeUrls, unpackAny, type Any as WireAny } from '@ctrd/api';
import { TasksClient } from '@ctrd/api/gen/containerd/services/tasks/v1/tasks.js';
import { Status, type Process as WireProcess } from '@ctrd/api/gen/containerd/types/task/task.js';
import type { Mount } from '@ctrd/mount';
import type { CallOptions, Connection } from './connection.js';

/** TaskStatus is a process's state as the Tasks service reports it. */
export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';

const STATUS: Record<number, TaskStatus> = {
  [Status.CREATED]: 'CREATED', [Status.RUNNING]: 'RUNNING', [Status.STOPPED]: 'STOPPED',
  [Status.PAUSED]: 'PAUSED', [Status.PAUSING]: 'PAUSING',
};

/** TaskProcess is a task's (or exec process's) state. */
export interface TaskProcess {
  containerId: string;
  id: string;
  pid: number;
  status: TaskStatus;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  exitStatus: number;
  exitedAt?: Date;
}

/** TaskIO names the fifos (or other URIs) a process's stdio is attached to; '' for none. */
export interface TaskIO {
  stdin?: string;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
}

/** ExitStatus is what Wait and Delete report. */
export interface ExitStatus {
  status: number;
  exitedAt?: Date;
}

/** TaskMetric is one task's metrics sample, its data decoded when the type is known. */
export interface TaskMetric {
  id: string;
  timestamp?: Date;
  typeUrl: string;
  data: unknown;
}

function processIn(p: WireProcess | undefined): TaskProcess {
  const out: TaskProcess = {
    containerId: p?.containerId ?? '',
    id: p?.id ?? '',
    pid: p?.pid ?? 0,
    status: STATUS[p?.status ?? 0] ?? 'UNKNOWN',
    stdin: p?.stdin ?? '',
    stdout: p?.stdout ?? '',
    stderr: p?.stderr ?? '',
    terminal: p?.terminal ?? false,
    exitStatus: p?.exitStatus ?? 0,
  };
  const at = fromTimestamp(p?.exitedAt);
  if (at) out.exitedAt = at;
  return out;
}

const jsonAny = (typeUrl: string, v: unknown): WireAny => ({ typeUrl, value: Buffer.from(JSON.stringify(v)) });

/**
 * RemoteTasks is a client of the daemon's Tasks service in the connection's namespace. Process
 * specs and resources travel as JSON Anys, as containerd's client sends them.
 */
export class RemoteTasks {
  readonly #conn: Connection;
  readonly #client: TasksClient;
  readonly #opts: CallOptions;

  constructor(conn: Connection, opts: CallOptions = {}) {
    this.#conn = conn;
    this.#client = conn.client(TasksClient);
    this.#opts = opts;
  }

  /** create creates the task of `containerId` on `rootfs`, returning its init pid. */
  async create(containerId: string, rootfs: readonly Mount[], io: TaskIO = {}): Promise<number> {
    const c = this.#client;
    const req = {
      containerId,
      rootfs: rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target ?? '', options: [...m.options] })),
      stdin: io.stdin ?? '', stdout: io.stdout ?? '', stderr: io.stderr ?? '', terminal: !!io.terminal,
      runtimePath: '',
    };
    return (await this.#conn.unary(c, c.create, req, this.#opts)).pid;
  }

  /** start starts the init process (execId '') or an exec process, returning its pid. */
  async start(containerId: string, execId = ''): Promise<number> {
    const c = this.#client;
    return (await this.#conn.unary(c, c.start, { containerId, execId }, this.#opts)).pid;
  }

  /** get returns the state of the init process or of an exec process. */
  async get(containerId: string, execId = ''): Promise<TaskProcess> {
    const c = this.#client;
    return processIn((await this.#conn.unary(c, c.get, { containerId, execId }, this.#opts)).process);
  }

  /** list returns every task of the namespace. */
  async list(filter = ''): Promise<TaskProcess[]> {
    const c = this.#client;
    return (await this.#conn.unary(c, c.list, { filter }, this.#opts)).tasks.map(processIn);
  }

  /** delete deletes a stopped task (or, with execId, an exec process) and returns its exit. */
  async delete(containerId: string, execId = ''): Promise<ExitStatus> {
    const c = this.#client;
    const res = execId
      ? await this.#conn.unary(c, c.deleteProcess, { containerId, execId }, this.#opts)
      : await this.#conn.unary(c, c.delete, { containerId }, this.#opts);
    return { status: res.exitStatus, exitedAt: fromTimestamp(res.exitedAt) };
  }

  /** kill sends `signal` to the init process, an exec process, or (all) every process. */
  async kill(containerId: string, signal: number, opts: { execId?: string; all?: boolean } = {}): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.kill, { containerId, execId: opts.execId ?? '', signal, all: !!opts.all }, this.#opts);
  }

  /** exec adds an exec process running `processSpec` (an OCI Process object); start it with {@link start}. */
  async exec(containerId: string, execId: string, processSpec: unknown, io: TaskIO = {}): Promise<void> {
    const c = this.#client;
    const req = {
      containerId, execId, spec: jsonAny(SpecTypeUrls.Process, processSpec),
      stdin: io.stdin ?? '', stdout: io.stdout ?? '', stderr: io.stderr ?? '', terminal: !!io.terminal,
    };
    await this.#conn.unary(c, c.exec, req, this.#opts);
  }

  /** pause freezes every process of the task. */
  async pause(containerId: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.pause, { containerId }, this.#opts);
  }

  /** resume thaws a paused task. */
  async resume(containerId: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.resume, { containerId }, this.#opts);
  }

  /** pids lists the processes of the task. */
  async pids(containerId: string): Promise<{ pid: number; info?: unknown }[]> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.listPids, { containerId }, this.#opts);
    return res.processes.map((p) => (p.info ? { pid: p.pid, info: safeUnpack(p.info) } : { pid: p.pid }));
  }

  /** closeIO closes the stdin of the init or an exec process. */
  async closeIO(containerId: string, execId = ''): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.closeIo, { containerId, execId, stdin: true }, this.#opts);
  }

  /** resizePty resizes the terminal of the init or an exec process. */
  async resizePty(containerId: string, width: number, height: number, execId = ''): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.resizePty, { containerId, execId, width, height }, this.#opts);
  }

  /** update replaces the task's resources (an OCI LinuxResources object). */
  async update(containerId: string, resources: unknown): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.update, { containerId, resources: jsonAny(SpecTypeUrls.LinuxResources, resources), annotations: {} }, this.#opts);
  }

  /** metrics returns a sample per task matching `filters`. */
  async metrics(filters: readonly string[] = []): Promise<TaskMetric[]> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.metrics, { filters: [...filters] }, this.#opts);
    return res.metrics.map((m) => ({ id: m.id, timestamp: fromTimestamp(m.timestamp), typeUrl: m.data?.typeUrl ?? '', data: m.data ? safeUnpack(m.data) : undefined }));
  }

  /**
   * wait resolves with the exit of the init or an exec process. Like containerd's client, it
   * waits without the connection's deadline; `signal` cancels it.
   */
  async wait(containerId: string, execId = '', signal?: AbortSignal): Promise<ExitStatus> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.wait, { containerId, execId }, { ...this.#opts, timeoutMs: 0, signal });
    return { status: res.exitStatus, exitedAt: fromTimestamp(res.exitedAt) };
  }
}

function safeUnpack(a: WireAny): unknown {
  try {
    return unpackAny(a);
  } catch {
    return undefined;
  }
}
