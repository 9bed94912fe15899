import { NamespacesClient } from '@ctrd/api/gen/containerd/services/namespaces/v1/namespace.js';
import type { Namespace, NamespaceStore } from '@ctrd/metadata';
import type { Connection } from './connection.js';

/** RemoteNamespaceStore is the NamespaceStore contract over the daemon's Namespaces service. */
export class RemoteNamespaceStore implements NamespaceStore {
  readonly #conn: Connection;
  readonly #client: NamespacesClient;

  constructor(conn: Connection) {
    this.#conn = conn;
    this.#client = conn.client(NamespacesClient);
  }

  async create(name: string, labels: Record<string, string> = {}): Promise<Namespace> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.create, { namespace: { name, labels } }, { namespace: '' });
    return { name: res.namespace?.name ?? name, labels: { ...res.namespace?.labels } };
  }

  async get(name: string): Promise<Namespace> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.get, { name }, { namespace: '' });
    return { name: res.namespace?.name || name, labels: { ...res.namespace?.labels } };
  }

  async list(): Promise<Namespace[]> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.list, { filter: '' }, { namespace: '' });
    return res.namespaces.map((n) => ({ name: n.name, labels: { ...n.labels } }));
  }

  async update(namespace: Namespace, fieldpaths?: readonly string[]): Promise<Namespace> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.update, { namespace: { name: namespace.name, labels: { ...namespace.labels } }, updateMask: [...(fieldpaths ?? [])] }, { namespace: '' });
    return { name: res.namespace?.name ?? namespace.name, labels: { ...res.namespace?.labels } };
  }

  async delete(name: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.delete, { name }, { namespace: '' });
  }
}
