import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromTimestamp, packAny, toTimestamp, TypeUrls } from '@ctrd/api';
import { TaskDelete, TaskExit } from '@ctrd/api/gen/containerd/events/task.js';
import { Any as AnyMessage } from '@ctrd/api/gen/google/protobuf/any.js';
import { AlreadyExistsError, isNotFound, isUnavailable, NotFoundError } from '@ctrd/errdefs';
import { TOPICS, type Publisher } from '@ctrd/events';
import { silentLogger, type Logger } from '@ctrd/log';
import type { MetricFamily } from '@ctrd/plugin';
import type { Any, CreateOpts, Exit, PlatformRuntime, Task } from '@ctrd/runtime';
import { Bundle, BUNDLE_FILES, removeInterruptedDeletes } from './bundle.js';
import { wireAny } from './convert.js';
import { shimDelete, shimStart, type ShimCommand } from './shim-command.js';
import { ShimConnections, type ShimConnection } from './shim-connections.js';
import { openShimLog, type ShimLog } from './shim-log.js';
import { defaultShimDirs, resolveShimBinary } from './shim-binary-path.js';
import { ShimTask } from './shim-task.js';
import { collectTaskMetrics } from './task-metrics.js';
import { isOwnShim, runningShimServer } from './own-shim.js';
import { fault } from '@ctrd/fault';

/** RuntimeEntry configures one runtime name: its shim binary and default options. */
export interface RuntimeEntry {
  binary?: string;
  /** options passed to the shim when neither the container nor the task gives any. */
  options?: Any;
}

/** TaskManagerOptions configures a {@link TaskManager}. */
export interface TaskManagerOptions {
  /** where bundles live: `<state>/io.containerd.runtime.v2.task`. */
  stateDir: string;
  /** where work directories live: `<root>/io.containerd.runtime.v2.task`. */
  rootDir: string;
  /** ctrd's gRPC socket, passed to shims as `-address`. */
  address: string;
  /** ctrd's ttrpc socket, where shims forward their events. */
  ttrpcAddress: string;
  /** publishes `/tasks/exit` and `/tasks/delete` for tasks whose shim died. */
  publisher?: Publisher;
  /** runtime name → binary and options; other names map as containerd maps them. */
  runtimes?: Readonly<Record<string, RuntimeEntry>>;
  /** extra directories searched for shim binaries after PATH. */
  shimDirs?: readonly string[];
  /** pass `-debug` to shims. */
  shimDebug?: boolean;
  /** oom_score_adj written for each shim process; undefined leaves the shim's own. */
  shimOomScoreAdj?: number;
  /** how long a ctrd shim server with no task stays up (see ShimCommand.idleExitMs). */
  shimIdleExitMs?: number;
  /** the program named by `-publish-binary`. */
  publishBinary?: string;
  /** the runtime used for containers that name none (`io.containerd.ctrd.v1` by default). */
  defaultRuntime?: string;
  /** looks a container's runtime up when a bundle does not record its shim. */
  containerRuntime?: (namespace: string, id: string) => Promise<string | undefined>;
  log?: Logger;
  /** containerd's timeouts: shim.load, shim.cleanup, shim.shutdown (ms). */
  loadTimeoutMs?: number;
  cleanupTimeoutMs?: number;
  shutdownTimeoutMs?: number;
  /** how long a State call to a shim may take (`io.containerd.timeout.task.state`). */
  stateTimeoutMs?: number;
}

interface Entry {
  task: ShimTask;
  conn: ShimConnection<Entry>;
  log: ShimLog | undefined;
}

/** DEFAULT_RUNTIME is ctrd's own shim runtime, used when a container names none. */
export const DEFAULT_RUNTIME = 'io.containerd.ctrd.v1';

const key = (ns: string, id: string): string => `${ns}/${id}`;

/**
 * TaskManager is the runtime v2 task manager (`io.containerd.runtime.v2.task`): it starts one
 * shim per task with containerd's shim protocol (`start`, `delete`, ttrpc `containerd.task.v2.Task`),
 * shares a connection between tasks that a shim serves together, and cleans up after shims
 * that die: their tasks are reported exited (`/tasks/exit`, `/tasks/delete`), `<shim> delete`
 * runs and the bundle goes. Tasks outlive the manager: {@link TaskManager.load} finds them again.
 */
export class TaskManager implements PlatformRuntime {
  readonly id = 'io.containerd.runtime.v2.task';
  /** the runtime for containers that name none. */
  readonly defaultRuntime: string;
  private readonly entries = new Map<string, Entry>();
  private readonly reserved = new Set<string>();
  private readonly conns: ShimConnections<Entry>;
  private readonly cleanups = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly shimDirs: readonly string[];
  private closed = false;

  constructor(private readonly opts: TaskManagerOptions) {
    this.log = opts.log ?? silentLogger();
    this.defaultRuntime = opts.defaultRuntime ?? DEFAULT_RUNTIME;
    this.shimDirs = opts.shimDirs ?? defaultShimDirs();
    this.conns = new ShimConnections({ timeoutMs: opts.loadTimeoutMs ?? 5000, onLost: (conn) => this.onConnectionLost(conn) });
  }

  /** resolveBinary returns the shim executable for a runtime name or path. */
  resolveBinary(runtime: string): string {
    return resolveShimBinary(runtime, { runtimes: this.opts.runtimes ?? {}, extraDirs: this.shimDirs });
  }

  async create(namespace: string, id: string, opts: CreateOpts): Promise<Task> {
    const k = key(namespace, id);
    if (this.entries.has(k) || this.reserved.has(k)) throw new AlreadyExistsError(`task ${id}`);
    this.reserved.add(k);
    try {
      const binary = this.resolveBinary(opts.runtime);
      const own = isOwnShim(binary);
      const bundle = await Bundle.create(this.opts.stateDir, this.opts.rootDir, namespace, id, opts.spec);
      let log: ShimLog | undefined;
      try {
        // ctrd's own shim logs to its server's file and never opens the bundle's log fifo.
        if (!own) log = await this.openLog(bundle);
        const options = opts.taskOptions ?? opts.runtimeOptions ?? this.opts.runtimes?.[opts.runtime]?.options;
        const wire = wireAny(options);
        const launch = (): Promise<string> =>
          shimStart(this.command(binary, bundle), wire ? AnyMessage.encode(wire).finish() : undefined);
        const running = own ? runningShimServer(this.opts.address, namespace) : undefined;
        let entry: Entry;
        try {
          entry = await this.createIn(running ?? (await launch()), { bundle, binary, log, opts, wire });
        } catch (err) {
          if (running === undefined || !isUnavailable(err)) throw err;
          // The running server was on its way out: start one through the launcher.
          entry = await this.createIn(await launch(), { bundle, binary, log, opts, wire });
        }
        this.entries.set(k, entry);
        fault('runtime.task.create');
        return entry.task;
      } catch (err) {
        log?.close();
        await bundle.delete().catch((e: unknown) => this.log.warn({ err: e, id }, 'remove bundle after failed create'));
        throw err;
      }
    } finally {
      this.reserved.delete(k);
    }
  }

  /** createIn creates the task in the shim at `address`; on failure it leaves the shim as it found it. */
  private async createIn(
    address: string,
    c: { bundle: Bundle; binary: string; log: ShimLog | undefined; opts: CreateOpts; wire: AnyMessage | undefined },
  ): Promise<Entry> {
    const { bundle, binary, opts } = c;
    const [conn] = await Promise.all([
      this.conns.open(address),
      bundle.writeFile(BUNDLE_FILES.address, address),
      bundle.writeFile(BUNDLE_FILES.shimBinaryPath, binary),
    ]);
    const task = new ShimTask({ bundle, runtime: opts.runtime, binary, client: conn.client, stateTimeoutMs: this.opts.stateTimeoutMs });
    const entry: Entry = { task, conn, log: c.log };
    conn.tasks.add(entry);
    try {
      // A shim serving several tasks is the same process for all of them: ask and adjust once.
      // Connect goes out together with Create rather than a round trip ahead of it.
      const connecting =
        conn.shimPid === undefined
          ? task.connect(this.opts.loadTimeoutMs ?? 5000).then(async ({ shimPid }) => {
              conn.shimPid = shimPid;
              await this.adjustOom(shimPid);
            })
          : undefined;
      const creating = task.shim.create({
        id: bundle.id,
        bundle: bundle.path,
        rootfs: opts.rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target ?? '', options: [...m.options] })),
        terminal: opts.io.terminal,
        stdin: opts.io.stdin,
        stdout: opts.io.stdout,
        stderr: opts.io.stderr,
        checkpoint: opts.checkpoint ?? '',
        parentCheckpoint: '',
        options: c.wire,
      });
      const [r] = await Promise.all([creating, connecting]);
      task.created(r.pid, { ...opts.io });
    } catch (err) {
      this.detach(entry);
      await task.shim.delete({ id: bundle.id, execId: '' }, { timeoutMs: this.opts.cleanupTimeoutMs ?? 5000 }).catch(() => {});
      await task.shutdown(this.opts.shutdownTimeoutMs);
      this.conns.release(conn);
      throw err;
    }
    return entry;
  }

  async get(namespace: string, id: string): Promise<Task> {
    const entry = this.entries.get(key(namespace, id));
    if (entry === undefined) throw new NotFoundError(`task ${id}`);
    return entry.task;
  }

  /** collectMetrics reports task counts and running containers' cgroup usage on each metrics scrape. */
  collectMetrics(): Promise<MetricFamily[]> {
    return collectTaskMetrics(this);
  }

  async tasks(namespace?: string): Promise<Task[]> {
    const out: Task[] = [];
    for (const e of this.entries.values()) {
      if (namespace === undefined || e.task.namespace === namespace) out.push(e.task);
    }
    return out;
  }

  async delete(namespace: string, id: string): Promise<Exit> {
    const k = key(namespace, id);
    const entry = this.entries.get(k);
    if (entry === undefined) throw new NotFoundError(`task ${id}`);
    let exit: Exit | undefined;
    let shimErr: unknown;
    try {
      exit = await entry.task.delete();
    } catch (err) {
      if (!isNotFound(err) && !isUnavailable(err)) throw err;
      shimErr = err;
    }
    this.entries.delete(k);
    this.detach(entry);
    await entry.task.shutdown(this.opts.shutdownTimeoutMs);
    this.conns.release(entry.conn);
    entry.log?.close();
    fault('runtime.task.delete');
    await entry.task.bundleDir.delete().catch((err: unknown) => this.log.error({ err, id }, 'failed to delete bundle'));
    if (shimErr !== undefined) throw shimErr;
    return exit!;
  }

  /**
   * load recovers after a restart: it reconnects to the shim of every bundle under the state
   * directory; bundles whose shim is gone are cleaned up as for a shim that died (`<shim> delete`,
   * `/tasks/exit` and `/tasks/delete`, bundle removed). Work directories without a task go too,
   * as do the remains of deletes a kill interrupted.
   */
  async load(): Promise<void> {
    for (const ns of await listDirs(this.opts.stateDir)) {
      await removeInterruptedDeletes(join(this.opts.stateDir, ns));
      for (const id of await listDirs(join(this.opts.stateDir, ns))) {
        try {
          await this.loadTask(ns, id);
        } catch (err) {
          this.log.error({ err, namespace: ns, id }, 'failed to load task');
        }
      }
    }
    for (const ns of await listDirs(this.opts.rootDir)) {
      await removeInterruptedDeletes(join(this.opts.rootDir, ns));
      for (const id of await listDirs(join(this.opts.rootDir, ns))) {
        if (!this.entries.has(key(ns, id))) await rm(join(this.opts.rootDir, ns, id), { recursive: true, force: true });
      }
    }
  }

  private async loadTask(namespace: string, id: string): Promise<void> {
    const bundle = Bundle.at(this.opts.stateDir, this.opts.rootDir, namespace, id);
    if (await bundle.isEmpty()) {
      await bundle.delete();
      return;
    }
    let binary = (await bundle.readFile(BUNDLE_FILES.shimBinaryPath))?.trim() || undefined;
    let runtime = binary;
    if (binary === undefined) {
      runtime = await this.opts.containerRuntime?.(namespace, id).catch(() => undefined);
      try {
        binary = runtime ? this.resolveBinary(runtime) : undefined;
      } catch {
        binary = undefined;
      }
    }
    if (binary === undefined) {
      this.log.warn({ namespace, id }, 'no shim recorded for bundle; removing it');
      await bundle.delete();
      return;
    }
    const address = (await bundle.readFile(BUNDLE_FILES.address))?.trim();
    let entry: Entry | undefined;
    try {
      if (!address) throw new NotFoundError(`address of shim for ${id}`);
      const conn = await this.conns.open(address);
      const task = new ShimTask({ bundle, runtime: runtime ?? binary, binary, client: conn.client, stateTimeoutMs: this.opts.stateTimeoutMs });
      entry = { task, conn, log: undefined };
      conn.tasks.add(entry);
      await task.connect(this.opts.loadTimeoutMs ?? 5000);
      if (await this.deletedInShim(task)) {
        // The daemon died between the shim's delete and the bundle's removal: the task's end was
        // already reported, only the bundle is left.
        this.log.info({ namespace, id }, 'task already deleted by its shim; removing its bundle');
        this.detach(entry);
        this.conns.release(entry.conn);
        await bundle.delete();
        return;
      }
      if (existsSync(bundle.file(BUNDLE_FILES.log))) entry.log = await this.openLog(bundle);
      this.entries.set(key(namespace, id), entry);
    } catch (err) {
      this.log.warn({ err, namespace, id }, 'shim unreachable; cleaning up after it');
      if (entry !== undefined) {
        this.detach(entry);
        this.conns.release(entry.conn);
      }
      await this.cleanupDeadShim(namespace, id, bundle, binary);
    }
  }

  /** deletedInShim reports whether a live shim no longer knows the task (State answers NotFound). */
  private async deletedInShim(task: ShimTask): Promise<boolean> {
    try {
      await task.state();
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  /** close lets go of every shim without stopping any: their tasks keep running. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.entries.values()) e.log?.close();
    this.conns.closeAll();
    this.entries.clear();
    await Promise.allSettled([...this.cleanups]);
  }

  /** settled resolves once every cleanup after a dead shim has finished (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.cleanups.size > 0) await Promise.allSettled([...this.cleanups]);
  }

  private command(binary: string, bundle: Bundle): ShimCommand {
    return {
      binary,
      namespace: bundle.namespace,
      id: bundle.id,
      bundle: bundle.path,
      address: this.opts.address,
      ttrpcAddress: this.opts.ttrpcAddress,
      publishBinary: this.opts.publishBinary ?? process.execPath,
      debug: this.opts.shimDebug ?? false,
      ...(this.opts.shimIdleExitMs !== undefined ? { idleExitMs: this.opts.shimIdleExitMs } : {}),
      timeoutMs: this.opts.cleanupTimeoutMs ?? 5000,
    };
  }

  private openLog(bundle: Bundle): Promise<ShimLog> {
    const log = this.log.child({ namespace: bundle.namespace, id: bundle.id, shim: true });
    return openShimLog(bundle.file(BUNDLE_FILES.log), (line) => log.debug(line));
  }

  private async adjustOom(shimPid: number): Promise<void> {
    const score = this.opts.shimOomScoreAdj;
    if (score === undefined || shimPid <= 0) return;
    await writeFile(`/proc/${shimPid}/oom_score_adj`, String(score)).catch((err: unknown) =>
      this.log.warn({ err, pid: shimPid }, 'failed to set shim oom_score_adj'),
    );
  }

  private detach(entry: Entry): void {
    entry.conn.tasks.delete(entry);
  }

  /** onConnectionLost cleans up after the tasks of a shim that closed its connection. */
  private onConnectionLost(conn: ShimConnection<Entry>): void {
    if (this.closed) return;
    for (const entry of [...conn.tasks]) {
      conn.tasks.delete(entry);
      const { task } = entry;
      if (this.entries.get(key(task.namespace, task.id)) !== entry) continue;
      this.entries.delete(key(task.namespace, task.id));
      entry.log?.close();
      this.log.warn({ namespace: task.namespace, id: task.id }, 'shim disconnected; cleaning up');
      this.track(this.cleanupDeadShim(task.namespace, task.id, task.bundleDir, task.binary));
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.log.error({ err }, 'cleanup after dead shim failed'));
    this.cleanups.add(tracked);
    void tracked.finally(() => this.cleanups.delete(tracked));
  }

  /**
   * cleanupDeadShim runs `<shim> delete` for a task whose shim is gone, publishes its exit and
   * deletion (status 255 when the shim could not say), and removes the bundle.
   */
  private async cleanupDeadShim(namespace: string, id: string, bundle: Bundle, binary: string): Promise<void> {
    let exit: Exit = { pid: 0, status: 255, exitedAt: new Date() };
    try {
      const r = await shimDelete(this.command(binary, bundle));
      exit = { pid: r.pid, status: r.exitStatus, exitedAt: fromTimestamp(r.exitedAt) ?? new Date() };
    } catch (err) {
      this.log.warn({ err, namespace, id }, 'failed to clean up after shim disconnected');
    }
    await this.publishExit(namespace, id, exit);
    await bundle.delete().catch((err: unknown) => this.log.error({ err, namespace, id }, 'failed to delete bundle'));
  }

  private async publishExit(namespace: string, id: string, exit: Exit): Promise<void> {
    const publisher = this.opts.publisher;
    if (publisher === undefined) return;
    const exitedAt = toTimestamp(exit.exitedAt ?? new Date());
    const ev = packAny(TypeUrls.TaskExit, TaskExit, { containerId: id, id, pid: exit.pid, exitStatus: exit.status, exitedAt });
    const del = packAny(TypeUrls.TaskDelete, TaskDelete, { containerId: id, pid: exit.pid, exitStatus: exit.status, exitedAt, id: '' });
    try {
      await publisher.publish(namespace, TOPICS.taskExit, ev);
      await publisher.publish(namespace, TOPICS.taskDelete, del);
    } catch (err) {
      this.log.warn({ err, namespace, id }, 'failed to publish task exit');
    }
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}
