import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNotFound } from '@ctrd/errdefs';
import { silentLogger, type Logger } from '@ctrd/log';
import type { Container } from '@ctrd/metadata';
import type { PlatformRuntime, ProcessStatus, RootfsMount, Task } from '@ctrd/runtime';
import { desiredStatus, restartIO, STATUS_LABEL } from './labels.js';

const SIGKILL = 9;

/** RestartMonitorDeps is what the monitor reads and drives: metadata, snapshots and a runtime. */
export interface RestartMonitorDeps {
  /** lists every namespace. */
  namespaces: () => Promise<string[]>;
  /** lists a namespace's containers matching any of `filters` (the metadata store's `containers.list`). */
  containers: (namespace: string, filters: readonly string[]) => Promise<Container[]>;
  /** returns the mounts of a container's root filesystem snapshot (none when it has no snapshot key). */
  rootfs: (namespace: string, container: Container) => Promise<RootfsMount[]>;
  runtime: PlatformRuntime;
  /** the runtime of containers that name none. */
  defaultRuntime: string;
  /**
   * how long after its creation a container whose task is absent or only created is left alone
   * (default 5 s): a client such as `ctr run` creates the container, then its task, then starts
   * it, and the monitor must not replace the task in between.
   */
  startGraceMs?: number;
  log?: Logger;
}

/** RestartChange is one action a reconcile took: a task started or stopped, and its error if it failed. */
export interface RestartChange {
  namespace: string;
  id: string;
  action: 'start' | 'stop';
  error?: Error;
}

/**
 * RestartMonitor keeps the tasks of labelled containers in the status their
 * `containerd.io/restart.status` label asks for, as containerd's restart monitor does: on every
 * reconcile each namespace's labelled containers are compared with their tasks; a container that
 * should be `running` and is not has any old task killed and deleted and a new one created from
 * its spec and snapshot and started; one that should be `stopped` has its task killed and deleted.
 * Namespaces, and the containers within one, are handled concurrently.
 */
export class RestartMonitor {
  private readonly log: Logger;
  private readonly closing = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closed = false;

  constructor(private readonly deps: RestartMonitorDeps) {
    this.log = deps.log ?? silentLogger();
  }

  /**
   * start reconciles now and then `intervalMs` after each reconcile ends, until
   * {@link RestartMonitor.close}. A non-positive interval means containerd's default, 10 s.
   */
  start(intervalMs: number): void {
    const every = intervalMs > 0 ? intervalMs : 10_000;
    const tick = (): void => {
      this.timer = undefined;
      if (this.closed) return;
      this.running = this.reconcile()
        .catch((err: unknown) => this.log.error({ err }, 'reconcile'))
        .finally(() => {
          this.running = undefined;
          if (!this.closed) this.timer = setTimeout(tick, every);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** close stops the loop, abandons waits for killed tasks and waits for a reconcile under way. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.closing.abort();
    await this.running;
  }

  /** reconcile runs one pass over every namespace and reports the changes it applied. */
  async reconcile(): Promise<RestartChange[]> {
    const namespaces = await this.deps.namespaces();
    const perNamespace = await Promise.all(
      namespaces.map(async (ns) => {
        try {
          return await this.reconcileNamespace(ns);
        } catch (err) {
          this.log.error({ err, namespace: ns }, 'monitor for changes');
          return [];
        }
      }),
    );
    return perNamespace.flat();
  }

  private async reconcileNamespace(ns: string): Promise<RestartChange[]> {
    const containers = await this.deps.containers(ns, [`labels.${JSON.stringify(STATUS_LABEL)}`]);
    const pending: Array<Promise<RestartChange>> = [];
    const grace = this.deps.startGraceMs ?? 5000;
    for (const c of containers) {
      const desired = desiredStatus(c.labels);
      if (desired === undefined) continue;
      const status = await this.currentStatus(ns, c.id);
      // No task and no status count as stopped.
      if ((status ?? 'stopped') === desired) continue;
      if (desired === 'running' && (status === undefined || status === 'created') && Date.now() - c.createdAt.getTime() < grace) continue;
      const action = desired === 'running' ? 'start' : 'stop';
      pending.push(this.apply(ns, c, action));
    }
    return Promise.all(pending);
  }

  private async apply(ns: string, c: Container, action: 'start' | 'stop'): Promise<RestartChange> {
    try {
      if (action === 'start') await this.startTask(ns, c);
      else await this.killTask(ns, c.id);
      this.log.info({ namespace: ns, id: c.id, action }, 'restart monitor applied change');
      return { namespace: ns, id: c.id, action };
    } catch (err) {
      this.log.error({ err, namespace: ns, id: c.id, action }, 'apply change');
      return { namespace: ns, id: c.id, action, error: err as Error };
    }
  }

  /** currentStatus is the status of a container's task; undefined when it has none or it cannot say. */
  private async currentStatus(ns: string, id: string): Promise<ProcessStatus | undefined> {
    try {
      const task = await this.deps.runtime.get(ns, id);
      return (await task.state()).status;
    } catch {
      return undefined;
    }
  }

  private async startTask(ns: string, c: Container): Promise<void> {
    await this.killTask(ns, c.id);
    const io = restartIO(c.labels);
    if (io.stdout.startsWith('file:')) await mkdir(dirname(fileURLToPath(io.stdout)), { recursive: true });
    const task = await this.deps.runtime.create(ns, c.id, {
      spec: c.spec?.value ?? new Uint8Array(),
      rootfs: await this.deps.rootfs(ns, c),
      io,
      runtime: c.runtime.name || this.deps.defaultRuntime,
      ...(c.runtime.options ? { runtimeOptions: c.runtime.options } : {}),
    });
    try {
      await task.start();
    } catch (err) {
      // A task left created would be found "not running" and replaced next time anyway;
      // removing it now keeps the shim and bundle from lingering until then.
      await this.deps.runtime.delete(ns, c.id).catch(() => {});
      throw err;
    }
  }

  /** killTask SIGKILLs every process of a container's task, waits for it to exit and deletes it. */
  private async killTask(ns: string, id: string): Promise<void> {
    let task: Task;
    try {
      task = await this.deps.runtime.get(ns, id);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const exited = task.wait(this.closing.signal).then(
      () => true,
      () => false,
    );
    try {
      await task.kill(SIGKILL, true);
    } catch (err) {
      // Most often the task has already exited: deleting it is all that is left to do.
      try {
        await this.deps.runtime.delete(ns, id);
        return;
      } catch {
        throw err;
      }
    }
    await exited;
    await this.deps.runtime.delete(ns, id);
  }
}
