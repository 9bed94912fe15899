import { fromTimestamp } from '@ctrd/api';
import { SnapshotsClient, type Info as WireInfo } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import type { Connection } from '@ctrd/client';
import type { Info, Kind, Usage } from '@ctrd/snapshots';

function infoIn(i: WireInfo | undefined): Info {
  const out: Info = {
    kind: (i?.kind ?? 0) as Kind,
    name: i?.name ?? '',
    labels: { ...i?.labels },
    createdAt: fromTimestamp(i?.createdAt) ?? new Date(0),
    updatedAt: fromTimestamp(i?.updatedAt) ?? new Date(0),
  };
  if (i?.parent) out.parent = i.parent;
  return out;
}

/**
 * SnapshotClient is the read-and-remove part of one snapshotter over the daemon's Snapshots
 * service, which is all these commands need.
 */
export class SnapshotClient {
  readonly #conn: Connection;
  readonly #client: SnapshotsClient;
  readonly snapshotter: string;

  constructor(conn: Connection, snapshotter: string) {
    this.#conn = conn;
    this.#client = conn.client(SnapshotsClient);
    this.snapshotter = snapshotter;
  }

  async stat(key: string): Promise<Info> {
    const c = this.#client;
    return infoIn((await this.#conn.unary(c, c.stat, { snapshotter: this.snapshotter, key })).info);
  }

  async usage(key: string): Promise<Usage> {
    const c = this.#client;
    const u = await this.#conn.unary(c, c.usage, { snapshotter: this.snapshotter, key });
    return { size: u.size, inodes: u.inodes };
  }

  async list(filters: readonly string[] = []): Promise<Info[]> {
    const out: Info[] = [];
    const call = this.#client.list({ snapshotter: this.snapshotter, filters: [...filters] }, this.#conn.metadata());
    for await (const batch of this.#conn.stream(call)) for (const i of batch.info) out.push(infoIn(i));
    return out;
  }

  async remove(key: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.remove, { snapshotter: this.snapshotter, key });
  }
}
