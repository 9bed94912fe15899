import { fromTimestamp, type Any as WireAny } from '@ctrd/api';
import { ContainersClient, type Container as WireContainer } from '@ctrd/api/gen/containerd/services/containers/v1/containers.js';
import { isNotImplemented } from '@ctrd/errdefs';
import type { Any, Container, ContainerInput, ContainerStore } from '@ctrd/metadata';
import type { Connection } from './connection.js';

const anyIn = (a: WireAny): Any => ({ typeUrl: a.typeUrl, value: new Uint8Array(a.value) });
const anyOut = (a: Any): WireAny => ({ typeUrl: a.typeUrl, value: Buffer.from(a.value) });

function containerIn(c: WireContainer | undefined): Container {
  const extensions: Record<string, Any> = {};
  for (const [k, v] of Object.entries(c?.extensions ?? {})) extensions[k] = anyIn(v);
  const out: Container = {
    id: c?.id ?? '',
    labels: { ...c?.labels },
    image: c?.image ?? '',
    runtime: { name: c?.runtime?.name ?? '' },
    snapshotter: c?.snapshotter ?? '',
    snapshotKey: c?.snapshotKey ?? '',
    createdAt: fromTimestamp(c?.createdAt) ?? new Date(0),
    updatedAt: fromTimestamp(c?.updatedAt) ?? new Date(0),
    extensions,
  };
  if (c?.runtime?.options) out.runtime.options = anyIn(c.runtime.options);
  if (c?.spec) out.spec = anyIn(c.spec);
  return out;
}

function containerOut(c: ContainerInput): WireContainer {
  const extensions: Record<string, WireAny> = {};
  for (const [k, v] of Object.entries(c.extensions ?? {})) extensions[k] = anyOut(v);
  return {
    id: c.id,
    labels: { ...c.labels },
    image: c.image ?? '',
    runtime: c.runtime ? { name: c.runtime.name, options: c.runtime.options ? anyOut(c.runtime.options) : undefined } : undefined,
    spec: c.spec ? anyOut(c.spec) : undefined,
    snapshotter: c.snapshotter ?? '',
    snapshotKey: c.snapshotKey ?? '',
    extensions,
  };
}

/** RemoteContainerStore is the ContainerStore contract over the daemon's Containers service. */
export class RemoteContainerStore implements ContainerStore {
  readonly #conn: Connection;
  readonly #client: ContainersClient;

  constructor(conn: Connection) {
    this.#conn = conn;
    this.#client = conn.client(ContainersClient);
  }

  async get(namespace: string, id: string): Promise<Container> {
    const c = this.#client;
    return containerIn((await this.#conn.unary(c, c.get, { id }, { namespace })).container);
  }

  /** list uses ListStream, falling back to List on a daemon without it, as containerd's client does. */
  async list(namespace: string, filters?: readonly string[]): Promise<Container[]> {
    const req = { filters: [...(filters ?? [])] };
    try {
      const out: Container[] = [];
      for await (const m of this.#conn.stream(this.#client.listStream(req, this.#conn.metadata({ namespace })))) out.push(containerIn(m.container));
      return out;
    } catch (err) {
      if (!isNotImplemented(err)) throw err;
    }
    const c = this.#client;
    return (await this.#conn.unary(c, c.list, req, { namespace })).containers.map(containerIn);
  }

  async create(namespace: string, container: ContainerInput): Promise<Container> {
    const c = this.#client;
    return containerIn((await this.#conn.unary(c, c.create, { container: containerOut(container) }, { namespace })).container);
  }

  async update(namespace: string, container: ContainerInput, fieldpaths?: readonly string[]): Promise<Container> {
    const c = this.#client;
    const req = { container: containerOut(container), updateMask: [...(fieldpaths ?? [])] };
    return containerIn((await this.#conn.unary(c, c.update, req, { namespace })).container);
  }

  async delete(namespace: string, id: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.delete, { id }, { namespace });
  }
}
