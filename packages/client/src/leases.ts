import { fromTimestamp } from '@ctrd/api';
import { LeasesClient } from '@ctrd/api/gen/containerd/services/leases/v1/leases.js';
import type { Lease, LeaseInput, LeaseManager, LeaseResource } from '@ctrd/metadata';
import type { Connection } from './connection.js';

/** LeaseDeleteOptions: `sync` waits for a garbage collection before answering. */
export interface LeaseDeleteOptions {
  sync?: boolean;
}

/** RemoteLeaseManager is the LeaseManager contract over the daemon's Leases service. */
export class RemoteLeaseManager implements LeaseManager {
  readonly #conn: Connection;
  readonly #client: LeasesClient;

  constructor(conn: Connection) {
    this.#conn = conn;
    this.#client = conn.client(LeasesClient);
  }

  async create(namespace: string, lease: LeaseInput): Promise<Lease> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.create, { id: lease.id ?? '', labels: { ...lease.labels } }, { namespace, lease: '' });
    return { id: res.lease?.id ?? '', createdAt: fromTimestamp(res.lease?.createdAt) ?? new Date(0), labels: { ...res.lease?.labels } };
  }

  async list(namespace: string, filters?: readonly string[]): Promise<Lease[]> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.list, { filters: [...(filters ?? [])] }, { namespace, lease: '' });
    return res.leases.map((l) => ({ id: l.id, createdAt: fromTimestamp(l.createdAt) ?? new Date(0), labels: { ...l.labels } }));
  }

  async delete(namespace: string, id: string, opts: LeaseDeleteOptions = {}): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.delete, { id, sync: opts.sync ?? false }, { namespace, lease: '' });
  }

  async addResource(namespace: string, id: string, resource: LeaseResource): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.addResource, { id, resource }, { namespace, lease: '' });
  }

  async deleteResource(namespace: string, id: string, resource: LeaseResource): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.deleteResource, { id, resource }, { namespace, lease: '' });
  }

  async listResources(namespace: string, id: string): Promise<LeaseResource[]> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.listResources, { id }, { namespace, lease: '' });
    return res.resources.map((r) => ({ id: r.id, type: r.type }));
  }
}
