import { TypeUrls } from '@ctrd/api';
import { SnapshotCommit, SnapshotPrepare, SnapshotRemove } from '@ctrd/api/gen/containerd/events/snapshot.js';
import { SnapshotsService, type Info as WireInfo } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';
import { TOPICS, type Publisher } from '@ctrd/events';
import { bindService, type BoundService, type CallContext } from '@ctrd/grpc';
import type { MetadataStore } from '@ctrd/metadata';
import type { Snapshotter } from '@ctrd/snapshots';
import { mountOut, publishEvent, snapshotInfoIn, snapshotInfoOut } from './convert.js';

/** LIST_BATCH is how many Infos each List response carries, as containerd sends them. */
export const LIST_BATCH = 100;

/** SnapshotsServiceDeps are what the Snapshots service is built on. */
export interface SnapshotsServiceDeps {
  metadata: MetadataStore;
  publisher: Publisher;
}

/**
 * snapshotsService binds `containerd.services.snapshots.v1.Snapshots` over the metadata store's
 * namespaced snapshotters: each request names its snapshotter (empty: InvalidArgument
 * `snapshotter argument missing`; unknown: InvalidArgument `snapshotter not loaded: X`) and runs in
 * the request's namespace, under its lease. Prepare, Commit and Remove publish `/snapshot/prepare`,
 * `/snapshot/commit` and `/snapshot/remove` (View publishes nothing, as in containerd); List
 * streams batches of {@link LIST_BATCH}. A removal frees the backend at the next collection, which
 * the GC scheduler runs after deletions (rate-limited, as containerd's).
 */
export function snapshotsService({ metadata, publisher }: SnapshotsServiceDeps): BoundService {
  const snapshotterOf = (name: string, ctx: CallContext): Snapshotter => {
    if (!name) throw new InvalidArgumentError('snapshotter argument missing');
    if (!metadata.snapshotter) throw new InvalidArgumentError(`snapshotter not loaded: ${name}`);
    return metadata.snapshotter(name, ctx.namespace, { lease: ctx.lease });
  };
  return bindService(SnapshotsService, {
    async prepare(req, ctx) {
      const mounts = await snapshotterOf(req.snapshotter, ctx).prepare(req.key, req.parent || undefined, { labels: { ...req.labels } });
      await publishEvent(publisher, ctx.namespace, TOPICS.snapshotPrepare, TypeUrls.SnapshotPrepare, SnapshotPrepare, { key: req.key, parent: req.parent });
      return { mounts: mounts.map(mountOut) };
    },
    async view(req, ctx) {
      const mounts = await snapshotterOf(req.snapshotter, ctx).view(req.key, req.parent || undefined, { labels: { ...req.labels } });
      return { mounts: mounts.map(mountOut) };
    },
    async mounts(req, ctx) {
      return { mounts: (await snapshotterOf(req.snapshotter, ctx).mounts(req.key)).map(mountOut) };
    },
    async commit(req, ctx) {
      await snapshotterOf(req.snapshotter, ctx).commit(req.name, req.key, { labels: { ...req.labels } });
      await publishEvent(publisher, ctx.namespace, TOPICS.snapshotCommit, TypeUrls.SnapshotCommit, SnapshotCommit, { key: req.key, name: req.name });
      return {};
    },
    async remove(req, ctx) {
      await snapshotterOf(req.snapshotter, ctx).remove(req.key);
      await publishEvent(publisher, ctx.namespace, TOPICS.snapshotRemove, TypeUrls.SnapshotRemove, SnapshotRemove, { key: req.key });
      return {};
    },
    async stat(req, ctx) {
      return { info: snapshotInfoOut(await snapshotterOf(req.snapshotter, ctx).stat(req.key)) };
    },
    async update(req, ctx) {
      if (!req.info) throw new InvalidArgumentError('info must be set');
      const { name, labels } = snapshotInfoIn(req.info);
      const info = await snapshotterOf(req.snapshotter, ctx).update({ name, labels }, req.updateMask ?? []);
      return { info: snapshotInfoOut(info) };
    },
    async *list(req, ctx) {
      const sn = snapshotterOf(req.snapshotter, ctx);
      const all: WireInfo[] = [];
      await sn.walk((info) => {
        all.push(snapshotInfoOut(info));
      }, req.filters);
      for (let i = 0; i < all.length; i += LIST_BATCH) yield { info: all.slice(i, i + LIST_BATCH) };
    },
    async usage(req, ctx) {
      const u = await snapshotterOf(req.snapshotter, ctx).usage(req.key);
      return { size: u.size, inodes: u.inodes };
    },
    async cleanup(req, ctx) {
      const sn = snapshotterOf(req.snapshotter, ctx);
      if (!sn.cleanup) throw new NotImplementedError('snapshotter does not implement Cleanup method');
      await sn.cleanup();
      return {};
    },
  });
}
