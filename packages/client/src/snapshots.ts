import { fromTimestamp, toTimestamp } from '@ctrd/api';
import { Kind as WireKind, SnapshotsClient, type Info as WireInfo } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import type { Mount as WireMount } from '@ctrd/api/gen/containerd/types/mount.js';
import type { Mount } from '@ctrd/mount';
import { Kind, type Info, type SnapshotOptions, type Snapshotter, type Usage, type WalkFunc } from '@ctrd/snapshots';
import type { CallOptions, Connection } from './connection.js';

function mountIn(m: WireMount): Mount {
  const out: Mount = { type: m.type, source: m.source, options: [...m.options] };
  if (m.target) out.target = m.target;
  return out;
}

function infoIn(w: WireInfo | undefined): Info {
  const k = w?.kind;
  const info: Info = {
    kind: k === WireKind.VIEW || k === WireKind.ACTIVE || k === WireKind.COMMITTED ? (k as number as Kind) : Kind.Unknown,
    name: w?.name ?? '',
    labels: { ...w?.labels },
    createdAt: fromTimestamp(w?.createdAt) ?? new Date(0),
    updatedAt: fromTimestamp(w?.updatedAt) ?? new Date(0),
  };
  if (w?.parent) info.parent = w.parent;
  return info;
}

/**
 * RemoteSnapshotter is the Snapshotter contract over the daemon's Snapshots service, for one
 * snapshotter (`native`, `overlayfs`, …) in the connection's namespace and under its lease:
 * a snapshotter proxy. `close` does nothing; the connection is the caller's.
 */
export class RemoteSnapshotter implements Snapshotter {
  readonly #conn: Connection;
  readonly #client: SnapshotsClient;
  readonly #opts: CallOptions;
  /** snapshotter is the name sent with every request. */
  readonly snapshotter: string;

  constructor(conn: Connection, snapshotter: string, opts: CallOptions = {}) {
    this.#conn = conn;
    this.#client = conn.client(SnapshotsClient);
    this.snapshotter = snapshotter;
    this.#opts = opts;
  }

  async stat(key: string): Promise<Info> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.stat, { snapshotter: this.snapshotter, key }, this.#opts);
    return infoIn(res.info);
  }

  async update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths: readonly string[] = []): Promise<Info> {
    const c = this.#client;
    const now = toTimestamp(new Date(0));
    const wire: WireInfo = { name: info.name, parent: '', kind: WireKind.UNKNOWN, labels: { ...info.labels }, createdAt: now, updatedAt: now };
    const res = await this.#conn.unary(c, c.update, { snapshotter: this.snapshotter, info: wire, updateMask: [...fieldpaths] }, this.#opts);
    return infoIn(res.info);
  }

  async usage(key: string): Promise<Usage> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.usage, { snapshotter: this.snapshotter, key }, this.#opts);
    return { size: res.size, inodes: res.inodes };
  }

  async mounts(key: string): Promise<Mount[]> {
    const c = this.#client;
    const res = await this.#conn.unary(c, c.mounts, { snapshotter: this.snapshotter, key }, this.#opts);
    return res.mounts.map(mountIn);
  }

  async prepare(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    const c = this.#client;
    const req = { snapshotter: this.snapshotter, key, parent: parent ?? '', labels: { ...opts.labels } };
    return (await this.#conn.unary(c, c.prepare, req, this.#opts)).mounts.map(mountIn);
  }

  async view(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    const c = this.#client;
    const req = { snapshotter: this.snapshotter, key, parent: parent ?? '', labels: { ...opts.labels } };
    return (await this.#conn.unary(c, c.view, req, this.#opts)).mounts.map(mountIn);
  }

  async commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.commit, { snapshotter: this.snapshotter, name, key, labels: { ...opts.labels } }, this.#opts);
  }

  async remove(key: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.remove, { snapshotter: this.snapshotter, key }, this.#opts);
  }

  async walk(fn: WalkFunc, filters: readonly string[] = []): Promise<void> {
    // The whole listing is read first, so `fn` may call back into the service.
    const infos: Info[] = [];
    const call = this.#client.list({ snapshotter: this.snapshotter, filters: [...filters] }, this.#conn.metadata(this.#opts), this.#conn.callOptions(this.#opts));
    for await (const res of this.#conn.stream(call, this.#opts.signal)) infos.push(...res.info.map(infoIn));
    for (const info of infos) await fn(info);
  }

  async cleanup(): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.cleanup, { snapshotter: this.snapshotter }, this.#opts);
  }

  async close(): Promise<void> {}
}
