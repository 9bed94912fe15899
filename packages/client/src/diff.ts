import { DiffClient } from '@ctrd/api/gen/containerd/services/diff/v1/diff.js';
import type { Descriptor as WireDescriptor } from '@ctrd/api/gen/containerd/types/descriptor.js';
import type { Mount as WireMount } from '@ctrd/api/gen/containerd/types/mount.js';
import type { ApplyOptions, CompareOptions, Descriptor, Differ } from '@ctrd/diff';
import { NotImplementedError } from '@ctrd/errdefs';
import type { Mount } from '@ctrd/mount';
import type { CallOptions, Connection } from './connection.js';

function mountOut(m: Mount): WireMount {
  return { type: m.type, source: m.source, target: m.target ?? '', options: [...m.options] };
}

function descOut(d: Descriptor): WireDescriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { ...d.annotations } };
}

function descIn(d: WireDescriptor | undefined): Descriptor {
  const out: Descriptor = { mediaType: d?.mediaType ?? '', digest: d?.digest ?? '', size: d?.size ?? 0 };
  if (d && Object.keys(d.annotations).length > 0) out.annotations = { ...d.annotations };
  return out;
}

/**
 * RemoteDiff is the Differ contract over the daemon's Diff service, in the connection's
 * namespace and under its lease (or those of `opts`): `apply` unpacks a layer blob from the
 * daemon's content store onto mounts the daemon performs, `compare` writes the difference of
 * two mount sets as a layer into that store.
 */
export class RemoteDiff implements Differ {
  readonly #conn: Connection;
  readonly #client: DiffClient;
  readonly #opts: CallOptions;

  constructor(conn: Connection, opts: CallOptions = {}) {
    this.#conn = conn;
    this.#client = conn.client(DiffClient);
    this.#opts = opts;
  }

  async apply(desc: Descriptor, mounts: Mount[], opts: ApplyOptions = {}): Promise<Descriptor> {
    // Stream processors are Go plugins of the daemon; there is no payload to send for them here.
    if (opts.payloads && Object.keys(opts.payloads).length > 0) throw new NotImplementedError('apply payloads over the Diff service');
    const c = this.#client;
    const res = await this.#conn.unary(c, c.apply, { diff: descOut(desc), mounts: mounts.map(mountOut), payloads: {} }, { ...this.#opts, signal: opts.signal ?? this.#opts.signal });
    return descIn(res.applied);
  }

  async compare(lower: Mount[], upper: Mount[], opts: CompareOptions = {}): Promise<Descriptor> {
    const c = this.#client;
    const req = { left: lower.map(mountOut), right: upper.map(mountOut), mediaType: opts.mediaType ?? '', ref: opts.ref ?? '', labels: { ...opts.labels } };
    const res = await this.#conn.unary(c, c.diff, req, { ...this.#opts, signal: opts.signal ?? this.#opts.signal });
    return descIn(res.diff);
  }
}
