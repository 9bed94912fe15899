import { SnapshotsClient } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import { TasksClient } from '@ctrd/api/gen/containerd/services/tasks/v1/tasks.js';
import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import { RemoteContainerStore, type Connection } from '@ctrd/client';
import { FailedPreconditionError, isNotFound, isNotImplemented } from '@ctrd/errdefs';
import type { Any, Container } from '@ctrd/metadata';
import type { GlobalArgs } from '../global.js';
import { formatLabels, parseLabelArgs } from '../format.js';
import { print, printJSON, table } from '../output.js';
import { eachItem, warn, withConnection } from './common.js';

/** ContainerArgs are the arguments of the `containers` subcommands. */
export interface ContainerArgs extends GlobalArgs {
  id?: string;
  ids?: string[];
  filters?: string[];
  labels?: string[];
  quiet?: boolean;
  spec?: boolean;
  keepSnapshot?: boolean;
}

/** decodeAny shows an Any as JSON when its payload is JSON (OCI specs are), else as base64. */
function decodeAny(a: Any | undefined): unknown {
  if (!a) return undefined;
  const text = Buffer.from(a.value).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return { typeUrl: a.typeUrl, value: Buffer.from(a.value).toString('base64') };
  }
}

/** goContainer shapes a container as Go's containers.Container marshals, as `ctr containers info` prints it. */
function goContainer(c: Container): Record<string, unknown> {
  const extensions = Object.fromEntries(Object.entries(c.extensions ?? {}).map(([k, v]) => [k, decodeAny(v)]));
  return {
    ID: c.id,
    Labels: Object.keys(c.labels).length ? c.labels : null,
    Image: c.image,
    Runtime: { Name: c.runtime.name, Options: decodeAny(c.runtime.options) ?? null },
    SnapshotKey: c.snapshotKey,
    Snapshotter: c.snapshotter,
    CreatedAt: c.createdAt.toISOString(),
    UpdatedAt: c.updatedAt.toISOString(),
    Extensions: Object.keys(extensions).length ? extensions : null,
    ...(c.spec ? { Spec: decodeAny(c.spec) } : {}),
  };
}

/** containersLs lists containers (CONTAINER IMAGE RUNTIME). */
export async function containersLs(argv: ContainerArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const list = await new RemoteContainerStore(conn).list(conn.namespace, argv.filters ?? []);
    if (argv.format === 'json') return printJSON(list.map(goContainer));
    if (argv.quiet) return print(list.map((c) => c.id).join('\n'));
    print(table([['CONTAINER', 'IMAGE', 'RUNTIME'], ...list.map((c) => [c.id, c.image || '-', c.runtime.name])]));
  });
}

/** containersInfo prints a container as JSON (only its decoded spec with `--spec`). */
export async function containersInfo(argv: ContainerArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const c = await new RemoteContainerStore(conn).get(conn.namespace, argv.id!);
    printJSON(argv.spec ? (decodeAny(c.spec) ?? null) : goContainer(c));
  });
}

/** containersLabel sets (`k=v`) or clears (`k=`) container labels and prints the result. */
export async function containersLabel(argv: ContainerArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteContainerStore(conn);
    const labels = parseLabelArgs(argv.labels ?? []);
    const keys = Object.keys(labels);
    const set = Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ''));
    let c = await store.get(conn.namespace, argv.id!);
    if (keys.length > 0) c = await store.update(conn.namespace, { ...c, labels: set }, keys.map((k) => `labels.${k}`));
    if (argv.format === 'json') return printJSON(c.labels);
    print(formatLabels(c.labels, ''));
  });
}

/** taskStatus returns the status of a container's task, or undefined when it has none. */
async function taskStatus(conn: Connection, id: string): Promise<Status | undefined> {
  const c = conn.client(TasksClient);
  try {
    return (await conn.unary(c, c.get, { containerId: id, execId: '' })).process?.status;
  } catch (err) {
    if (isNotFound(err) || isNotImplemented(err)) return undefined;
    throw err;
  }
}

async function removeSnapshot(conn: Connection, snapshotter: string, key: string): Promise<void> {
  const c = conn.client(SnapshotsClient);
  try {
    await conn.unary(c, c.remove, { snapshotter, key });
  } catch (err) {
    if (isNotFound(err)) return;
    if (isNotImplemented(err)) return warn(`snapshot ${key} left in ${snapshotter}: the daemon has no Snapshots service`);
    throw err;
  }
}

/**
 * containersRm deletes containers and, unless `--keep-snapshot`, their snapshots; a container
 * whose task is not stopped is refused, and a missing one only warns.
 */
export async function containersRm(argv: ContainerArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteContainerStore(conn);
    await eachItem(
      argv.ids ?? [],
      async (id) => {
        let c: Container;
        try {
          c = await store.get(conn.namespace, id);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          return warn(`container ${id} not found`);
        }
        const status = await taskStatus(conn, id);
        if (status !== undefined && status !== Status.STOPPED) {
          throw new FailedPreconditionError(`cannot delete a non stopped container: ${Status[status] ?? status}`);
        }
        if (!argv.keepSnapshot && c.snapshotter && c.snapshotKey) await removeSnapshot(conn, c.snapshotter, c.snapshotKey);
        await store.delete(conn.namespace, id);
        print(id);
      },
      (id) => `failed to delete container ${JSON.stringify(id)}`,
    );
  });
}
