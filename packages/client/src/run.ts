import { randomBytes } from 'node:crypto';
import { isNotFound } from '@ctrd/errdefs';
import type { Connection } from './connection.js';
import { RemoteContainerStore } from './containers.js';
import { RemoteLeaseManager } from './leases.js';
import { FifoIO, type AttachStreams } from './fifo-io.js';
import { RemoteSnapshotter } from './snapshots.js';
import { specAny, type RuntimeSpec } from './spec/generate-spec.js';
import { RemoteTasks, type ExitStatus } from './tasks.js';

/** DEFAULT_RUNTIME is the runtime new containers get unless told otherwise: ctrd's own shim. */
export const DEFAULT_RUNTIME = 'io.containerd.ctrd.v1';

/** NewContainerOptions describe a container made from an image's unpacked layers. */
export interface NewContainerOptions {
  id: string;
  /** image is the image name recorded on the container. */
  image?: string;
  snapshotter: string;
  /** parent is the chain ID of the image's top layer; an empty rootfs when absent. */
  parent?: string;
  spec: RuntimeSpec;
  runtime?: string;
  labels?: Record<string, string>;
  /** readonly prepares a view instead of an active snapshot. */
  readonly?: boolean;
}

/** CREATE_LEASE_EXPIRY_MS bounds the life of the lease a container is created under, should the client die. */
const CREATE_LEASE_EXPIRY_MS = 24 * 3600_000;

/**
 * newContainer prepares the container's snapshot (key = container ID) on top of the image and
 * creates the container record, removing the snapshot again if the record cannot be made. As
 * containerd's client does, both happen under a lease (the connection's, else a short one of
 * its own): until the record exists nothing references the snapshot, and a garbage collection
 * in between would remove it.
 */
export async function newContainer(conn: Connection, opts: NewContainerOptions): Promise<void> {
  if (conn.lease) return createContainer(conn, conn.lease, opts);
  const leases = new RemoteLeaseManager(conn);
  const expire = new Date(Date.now() + CREATE_LEASE_EXPIRY_MS).toISOString().replace(/\.\d+Z$/, 'Z');
  const lease = await leases.create(conn.namespace, { id: `ctrctl-create-${randomBytes(8).toString('hex')}`, labels: { 'containerd.io/gc.expire': expire } });
  try {
    await createContainer(conn, lease.id, opts);
  } finally {
    await leases.delete(conn.namespace, lease.id).catch(() => undefined);
  }
}

async function createContainer(conn: Connection, lease: string, opts: NewContainerOptions): Promise<void> {
  const sn = new RemoteSnapshotter(conn, opts.snapshotter, { lease });
  if (opts.readonly) await sn.view(opts.id, opts.parent);
  else await sn.prepare(opts.id, opts.parent);
  try {
    await new RemoteContainerStore(conn).create(conn.namespace, {
      id: opts.id,
      labels: { ...opts.labels },
      image: opts.image ?? '',
      runtime: { name: opts.runtime ?? DEFAULT_RUNTIME },
      spec: specAny(opts.spec),
      snapshotter: opts.snapshotter,
      snapshotKey: opts.id,
    });
  } catch (err) {
    await sn.remove(opts.id).catch(() => undefined);
    throw err;
  }
}

/** StartTaskOptions describe how a container's task is started. */
export interface StartTaskOptions {
  /** fifoDir holds the stdio fifos; no stdio when absent (a detached task). */
  fifoDir?: string;
  terminal?: boolean;
  streams?: AttachStreams;
}

/** StartedTask is a task started by startTask, with its stdio being copied. */
export interface StartedTask {
  pid: number;
  io?: FifoIO;
}

/**
 * startTask creates and starts the task of container `id` on its snapshot's mounts, its stdio
 * on fifos under `fifoDir` copied to and from `streams`.
 */
export async function startTask(conn: Connection, id: string, opts: StartTaskOptions = {}): Promise<StartedTask> {
  const container = await new RemoteContainerStore(conn).get(conn.namespace, id);
  const rootfs = container.snapshotKey ? await new RemoteSnapshotter(conn, container.snapshotter).mounts(container.snapshotKey) : [];
  const tasks = new RemoteTasks(conn);
  const io = opts.fifoDir ? await FifoIO.create(opts.fifoDir, id, { stdin: !!opts.streams?.stdin, terminal: opts.terminal }) : undefined;
  // Stdin can end before Create returns (a short pipe); closing it then would reach no task and
  // the process would wait for input forever, so the close waits for the task to exist.
  let created!: () => void;
  const taskExists = new Promise<void>((resolve) => (created = resolve));
  try {
    io?.attach(opts.streams ?? {}, () => taskExists.then(() => tasks.closeIO(id)).catch(() => undefined));
    await tasks.create(id, rootfs, io?.io ?? {});
    created();
    try {
      return { pid: await tasks.start(id), io };
    } catch (err) {
      await tasks.delete(id).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    await io?.close();
    throw err;
  }
}

/** removeContainer deletes the container's task (killing it first if it runs), record and snapshot; absent parts are skipped. */
export async function removeContainer(conn: Connection, id: string): Promise<void> {
  const tasks = new RemoteTasks(conn);
  const store = new RemoteContainerStore(conn);
  try {
    const t = await tasks.get(id);
    if (t.status !== 'STOPPED' && t.status !== 'CREATED') {
      const exited = tasks.wait(id);
      await tasks.kill(id, 9, { all: true });
      await exited;
    }
    await tasks.delete(id);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  let container;
  try {
    container = await store.get(conn.namespace, id);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  await store.delete(conn.namespace, id);
  if (container.snapshotKey) {
    await new RemoteSnapshotter(conn, container.snapshotter).remove(container.snapshotKey).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

/** RunOptions describe a foreground run of a new container. */
export interface RunOptions extends NewContainerOptions {
  fifoDir: string;
  terminal?: boolean;
  streams: AttachStreams;
  /** rm removes task, container and snapshot after the exit. */
  rm?: boolean;
}

/**
 * runContainer creates the container, starts its task with stdio attached, waits for the exit
 * and the end of its output and, with `rm`, removes everything it made. The exit status is
 * the process's (128 + signal when killed).
 */
export async function runContainer(conn: Connection, opts: RunOptions): Promise<ExitStatus> {
  await newContainer(conn, opts);
  const tasks = new RemoteTasks(conn);
  let started: StartedTask | undefined;
  try {
    started = await startTask(conn, opts.id, { fifoDir: opts.fifoDir, terminal: opts.terminal, streams: opts.streams });
    const exit = await tasks.wait(opts.id);
    await started.io?.wait(2000);
    if (!opts.rm) await tasks.delete(opts.id).catch(() => undefined);
    return exit;
  } finally {
    await started?.io?.close();
    if (opts.rm) await removeContainer(conn, opts.id);
  }
}
