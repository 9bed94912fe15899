import { RemoteSnapshotter, type Connection } from '@ctrd/client';
import type { Mount } from '@ctrd/mount';
import type { Info, SnapshotOptions, Snapshotter, Usage, WalkFunc } from '@ctrd/snapshots';
import { forwardedNamespace } from './forwarded-namespace.js';

/**
 * ProxySnapshotter is the Snapshotter contract over an out-of-process Snapshots service: every
 * request names the proxy plugin (`snapshotter: <name>`, as containerd sends it) and forwards
 * the namespace of the request it serves (see {@link forwardedNamespace}). Errors come back as
 * errdefs classes. `close` leaves the shared connection to its plugin.
 */
export class ProxySnapshotter implements Snapshotter {
  readonly name: string;
  readonly #conn: Connection;
  readonly #byNamespace = new Map<string, RemoteSnapshotter>();

  constructor(conn: Connection, name: string) {
    this.#conn = conn;
    this.name = name;
  }

  #remote(key?: string): RemoteSnapshotter {
    const ns = forwardedNamespace(key) ?? '';
    let r = this.#byNamespace.get(ns);
    if (!r) {
      r = new RemoteSnapshotter(this.#conn, this.name, { namespace: ns });
      this.#byNamespace.set(ns, r);
    }
    return r;
  }

  stat(key: string): Promise<Info> {
    return this.#remote(key).stat(key);
  }

  update(info: Pick<Info, 'name'> & Partial<Info>, fieldpaths?: readonly string[]): Promise<Info> {
    return this.#remote(info.name).update(info, fieldpaths);
  }

  usage(key: string): Promise<Usage> {
    return this.#remote(key).usage(key);
  }

  mounts(key: string): Promise<Mount[]> {
    return this.#remote(key).mounts(key);
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.#remote(key).prepare(key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.#remote(key).view(key, parent, opts);
  }

  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    return this.#remote(key).commit(name, key, opts);
  }

  remove(key: string): Promise<void> {
    return this.#remote(key).remove(key);
  }

  walk(fn: WalkFunc, filters?: readonly string[]): Promise<void> {
    return this.#remote().walk(fn, filters);
  }

  cleanup(): Promise<void> {
    return this.#remote().cleanup();
  }

  async close(): Promise<void> {}
}
