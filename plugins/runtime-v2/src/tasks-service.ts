import { rm } from 'node:fs/promises';
import { toTimestamp } from '@ctrd/api';
import { TasksService, type WaitResponse } from '@ctrd/api/gen/containerd/services/tasks/v1/tasks.js';
import type { Process as WireProcess } from '@ctrd/api/gen/containerd/types/task/task.js';
import type { ContentStore } from '@ctrd/content';
import { AlreadyExistsError, InvalidArgumentError, isNotFound, NotFoundError } from '@ctrd/errdefs';
import { objectAdaptor, parseAll } from '@ctrd/filters';
import { bindService, type BoundService, type CallContext } from '@ctrd/grpc';
import type { Container } from '@ctrd/metadata';
import type { Any, Exit, PlatformRuntime, Process, Task } from '@ctrd/runtime';
import { checkpointToContent, restoreFromContent, restoreImagePath } from './checkpoint.js';
import { statusValue, wireAny } from './convert.js';
import { exitTimestamp } from './shim-task.js';

/** TasksServiceDeps is what the Tasks service is built on. */
export interface TasksServiceDeps {
  runtime: PlatformRuntime;
  /** looks containers up: the metadata store's `containers.get`. */
  containers: { get(namespace: string, id: string): Promise<Container> };
  /** the content store of a namespace (checkpoints are written into and restored from it). */
  content?: (namespace: string, lease: string | undefined) => ContentStore;
  /** the runtime for a container that names none. */
  defaultRuntime: string;
}

function anyIn(a: { typeUrl: string; value: Uint8Array } | undefined): Any | undefined {
  return a === undefined ? undefined : { typeUrl: a.typeUrl, value: new Uint8Array(a.value) };
}

function deleteResponse(id: string, exit: Exit) {
  return { id, pid: exit.pid, exitStatus: exit.status, exitedAt: exitTimestamp(exit) };
}

async function processOut(containerId: string, p: Process): Promise<WireProcess> {
  const s = await p.state();
  return {
    containerId,
    id: s.id,
    pid: s.pid,
    status: statusValue(s.status),
    stdin: s.io.stdin,
    stdout: s.io.stdout,
    stderr: s.io.stderr,
    terminal: s.io.terminal,
    exitStatus: s.exitStatus,
    exitedAt: exitTimestamp({ pid: s.pid, status: s.exitStatus, exitedAt: s.exitedAt }),
  };
}

/**
 * tasksService binds `containerd.services.tasks.v1.Tasks` over a {@link PlatformRuntime}. Tasks
 * are named by their container, which must exist in metadata: its spec becomes the bundle's
 * config.json, its runtime picks the shim. Requests naming an `exec_id` act on that exec process.
 */
export function tasksService(deps: TasksServiceDeps): BoundService {
  const { runtime } = deps;

  async function getTask(ctx: CallContext, id: string): Promise<Task> {
    await deps.containers.get(ctx.namespace, id);
    return taskOf(ctx, id);
  }

  async function taskOf(ctx: CallContext, id: string): Promise<Task> {
    try {
      return await runtime.get(ctx.namespace, id);
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`task ${id}`, { cause: err });
      throw err;
    }
  }

  async function getProcess(ctx: CallContext, id: string, execId: string): Promise<Process> {
    const task = await getTask(ctx, id);
    return execId === '' ? task : task.process(execId);
  }

  // Checkpoints unpacked from content for a restore, by namespace and task: the shim restores
  // when the task starts, from this directory, so it is kept until the start has run or the
  // task is deleted.
  const restoreDirs = new Map<string, string>();
  const taskKey = (namespace: string, id: string) => `${namespace}/${id}`;
  async function dropRestoreDir(namespace: string, id: string): Promise<void> {
    const key = taskKey(namespace, id);
    const dir = restoreDirs.get(key);
    if (dir === undefined) return;
    restoreDirs.delete(key);
    await rm(dir, { recursive: true, force: true });
  }

  function contentOf(ctx: CallContext): ContentStore {
    if (deps.content === undefined) throw new NotFoundError('content store');
    return deps.content(ctx.namespace, ctx.lease);
  }

  return bindService(TasksService, {
    async create(req, ctx) {
      const container = await deps.containers.get(ctx.namespace, req.containerId);
      const runtimeName = container.runtime.name || deps.defaultRuntime;
      let checkpoint = restoreImagePath(runtimeName, anyIn(req.options));
      let tempCheckpoint: string | undefined;
      if (checkpoint === '' && req.checkpoint !== undefined) {
        tempCheckpoint = await restoreFromContent(req.checkpoint, contentOf(ctx));
        checkpoint = tempCheckpoint;
      }
      try {
        const existing = await runtime.get(ctx.namespace, req.containerId).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (existing !== undefined) throw new AlreadyExistsError(`task ${req.containerId}`);
        const task = await runtime.create(ctx.namespace, req.containerId, {
          spec: container.spec?.value ?? new Uint8Array(),
          rootfs: req.rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options })),
          io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
          ...(checkpoint !== '' ? { checkpoint } : {}),
          runtime: req.runtimePath || runtimeName,
          ...(container.runtime.options ? { runtimeOptions: anyIn(container.runtime.options)! } : {}),
          ...(req.options ? { taskOptions: anyIn(req.options)! } : {}),
        });
        if (tempCheckpoint !== undefined) {
          restoreDirs.set(taskKey(ctx.namespace, req.containerId), tempCheckpoint);
          tempCheckpoint = undefined;
        }
        return { containerId: req.containerId, pid: await task.pid() };
      } finally {
        if (tempCheckpoint !== undefined) await rm(tempCheckpoint, { recursive: true, force: true });
      }
    },
    async start(req, ctx) {
      const p = await getProcess(ctx, req.containerId, req.execId);
      try {
        return { pid: await p.start() };
      } finally {
        if (req.execId === '') await dropRestoreDir(ctx.namespace, req.containerId);
      }
    },
    async delete(req, ctx) {
      await getTask(ctx, req.containerId);
      const exit = await runtime.delete(ctx.namespace, req.containerId);
      await dropRestoreDir(ctx.namespace, req.containerId);
      return deleteResponse('', exit);
    },
    async deleteProcess(req, ctx) {
      if (req.execId === '') throw new InvalidArgumentError('exec id cannot be empty');
      const p = await getProcess(ctx, req.containerId, req.execId);
      return deleteResponse(req.execId, await p.delete());
    },
    async get(req, ctx) {
      // The container lookup and the shim's State are independent reads: they run side by side,
      // and a missing container still answers first, as in containerd.
      const [container, out] = await Promise.allSettled([
        deps.containers.get(ctx.namespace, req.containerId),
        taskOf(ctx, req.containerId).then(async (task) => {
          const p = req.execId === '' ? task : await task.process(req.execId);
          return processOut(req.containerId, p);
        }),
      ]);
      if (container.status === 'rejected') throw container.reason;
      if (out.status === 'rejected') throw out.reason;
      return { process: out.value };
    },
    async list(_req, ctx) {
      const tasks: WireProcess[] = [];
      for (const t of await runtime.tasks(ctx.namespace)) {
        try {
          tasks.push(await processOut(t.id, t));
        } catch (err) {
          // A task deleted meanwhile is simply not listed.
          if (!isNotFound(err)) throw err;
        }
      }
      return { tasks };
    },
    async kill(req, ctx) {
      const p = await getProcess(ctx, req.containerId, req.execId);
      await p.kill(req.signal, req.all);
      return {};
    },
    async exec(req, ctx) {
      if (req.execId === '') throw new InvalidArgumentError('exec id cannot be empty');
      const task = await getTask(ctx, req.containerId);
      await task.exec(req.execId, {
        spec: anyIn(req.spec),
        io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
      });
      return {};
    },
    async resizePty(req, ctx) {
      const p = await getProcess(ctx, req.containerId, req.execId);
      await p.resize(req.width, req.height);
      return {};
    },
    async closeIo(req, ctx) {
      const p = await getProcess(ctx, req.containerId, req.execId);
      if (req.stdin) await p.closeIO();
      return {};
    },
    async pause(req, ctx) {
      await (await getTask(ctx, req.containerId)).pause();
      return {};
    },
    async resume(req, ctx) {
      await (await getTask(ctx, req.containerId)).resume();
      return {};
    },
    async listPids(req, ctx) {
      const task = await getTask(ctx, req.containerId);
      const processes = (await task.pids()).map((p) => ({ pid: p.pid, info: wireAny(p.info) }));
      return { processes };
    },
    async checkpoint(req, ctx) {
      const container = await deps.containers.get(ctx.namespace, req.containerId);
      const task = await getTask(ctx, req.containerId);
      const runtimeName = container.runtime.name || deps.defaultRuntime;
      const descriptors = await checkpointToContent(task, runtimeName, anyIn(container.spec), anyIn(req.options), () => contentOf(ctx));
      return { descriptors };
    },
    async update(req, ctx) {
      const task = await getTask(ctx, req.containerId);
      await task.update(anyIn(req.resources), req.annotations);
      return {};
    },
    async metrics(req, ctx) {
      const filter = parseAll(req.filters);
      const metrics = [];
      for (const t of await runtime.tasks(ctx.namespace)) {
        if (!filter.match(objectAdaptor({ id: t.id, namespace: t.namespace, runtime: t.runtime }))) continue;
        const collected = new Date();
        try {
          const data = await t.stats();
          metrics.push({ timestamp: toTimestamp(collected), id: t.id, data: wireAny(data) });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return { metrics };
    },
    async wait(req, ctx): Promise<WaitResponse> {
      const p = await getProcess(ctx, req.containerId, req.execId);
      const exit = await p.wait(ctx.signal);
      return { exitStatus: exit.status, exitedAt: exitTimestamp(exit) };
    },
  });
}
