import { SnapshotsService, type Info as WireInfo } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';
import { bindService, type BoundService } from '@ctrd/grpc';
import { mountOut, snapshotInfoIn, snapshotInfoOut } from '@ctrd/grpc-snapshots';
import type { Snapshotter } from '@ctrd/snapshots';
import { serveServices, type PluginServer, type ServeOptions } from './serve.js';

/** SNAPSHOT_LIST_BATCH is how many Infos each List response carries, as containerd sends them. */
export const SNAPSHOT_LIST_BATCH = 100;

/**
 * snapshotterService binds containerd's `containerd.services.snapshots.v1.Snapshots` over one
 * plain Snapshotter, the way an out-of-process snapshotter serves it: the `snapshotter` field
 * of each request is ignored (the daemon sends its proxy plugin's name), and the namespace
 * header is not needed (the daemon's metadata layer already keeps namespaces apart in the keys
 * it sends). Cleanup is NotImplemented when the snapshotter has none.
 */
export function snapshotterService(sn: Snapshotter): BoundService {
  return bindService(SnapshotsService, {
    async prepare(req) {
      return { mounts: (await sn.prepare(req.key, req.parent || undefined, { labels: { ...req.labels } })).map(mountOut) };
    },
    async view(req) {
      return { mounts: (await sn.view(req.key, req.parent || undefined, { labels: { ...req.labels } })).map(mountOut) };
    },
    async mounts(req) {
      return { mounts: (await sn.mounts(req.key)).map(mountOut) };
    },
    async commit(req) {
      await sn.commit(req.name, req.key, { labels: { ...req.labels } });
      return {};
    },
    async remove(req) {
      await sn.remove(req.key);
      return {};
    },
    async stat(req) {
      return { info: snapshotInfoOut(await sn.stat(req.key)) };
    },
    async update(req) {
      if (!req.info) throw new InvalidArgumentError('info must be set');
      const { name, labels } = snapshotInfoIn(req.info);
      return { info: snapshotInfoOut(await sn.update({ name, labels }, req.updateMask ?? [])) };
    },
    async *list(req) {
      const all: WireInfo[] = [];
      await sn.walk((info) => {
        all.push(snapshotInfoOut(info));
      }, req.filters);
      for (let i = 0; i < all.length; i += SNAPSHOT_LIST_BATCH) yield { info: all.slice(i, i + SNAPSHOT_LIST_BATCH) };
    },
    async usage(req) {
      const u = await sn.usage(req.key);
      return { size: u.size, inodes: u.inodes };
    },
    async cleanup() {
      if (!sn.cleanup) throw new NotImplementedError('snapshotter does not implement Cleanup method');
      await sn.cleanup();
      return {};
    },
  });
}

/**
 * serveSnapshotter serves a Snapshotter as containerd's Snapshots gRPC service on a unix
 * socket, so that ctrd (or containerd) can load it with
 * `[proxy_plugins.<name>] type = "snapshot", address = "<socket>"`. Closing the server does not
 * close the snapshotter.
 */
export function serveSnapshotter(sn: Snapshotter, address: string, opts: ServeOptions = {}): Promise<PluginServer> {
  return serveServices([snapshotterService(sn)], address, opts);
}
