import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempMounts } from '@ctrd/mount';
import type { BoundService, GrpcServicePlugin } from '@ctrd/grpc';
import { FailedPreconditionError } from '@ctrd/errdefs';
import { MetadataStore } from '@ctrd/metadata';
import { definePlugin, PluginType, type Registration } from '@ctrd/plugin';
import type { Snapshotter } from '@ctrd/snapshots';
import { transferService } from './service.js';
import type { ClosableResolver, RegistryOptions, TransferDeps } from './types.js';

/** TransferConfig is the `[plugins."io.containerd.grpc.v1.transfer"]` section. */
export interface TransferConfig {
  /** the snapshotter a pull unpacks into when it names none. */
  snapshotter: string;
}

type SnapshotterSource = MetadataStore & {
  db?: { snapshotter(name: string): { forNamespace(ns: string, opts?: { lease?: string }): Snapshotter } };
};

/**
 * namespacedSnapshotters finds the per-namespace snapshotters the metadata store offers: a
 * `snapshotter(name, ns, opts)` method, or the database's wrapped snapshotters.
 */
export function namespacedSnapshotters(meta: MetadataStore): TransferDeps['snapshotter'] {
  const m = meta as SnapshotterSource;
  const opts = (lease?: string) => (lease ? { lease } : {});
  if (typeof m.snapshotter === 'function') return (name, ns, lease) => m.snapshotter!(name, ns, opts(lease));
  if (m.db && typeof m.db.snapshotter === 'function') return (name, ns, lease) => m.db!.snapshotter(name).forNamespace(ns, opts(lease));
  return () => {
    throw new FailedPreconditionError('the metadata store offers no namespaced snapshotters');
  };
}

/**
 * dockerResolverFor makes a Docker registry resolver from per-call registry options. The registry
 * client (and its HTTP library) is loaded on the first call that needs it, not at daemon start.
 */
export function dockerResolverFor(r: RegistryOptions): ClosableResolver {
  const creds = r.username ? { username: r.username, password: r.password ?? '' } : undefined;
  let real: Promise<ClosableResolver> | undefined;
  const resolver = () =>
    (real ??= import('@ctrd/remotes-docker').then(({ createDockerResolver }) =>
      createDockerResolver({
        ...(r.hostsDir ? { hostsDir: r.hostsDir } : {}),
        ...(r.plainHttp ? { plainHttp: true } : {}),
        ...(creds ? { credentials: () => creds } : {}),
      }),
    ));
  return {
    resolve: async (ref, opts) => (await resolver()).resolve(ref, opts),
    fetcher: async (ref) => (await resolver()).fetcher(ref),
    pusher: async (ref) => (await resolver()).pusher(ref),
    close: async () => {
      if (real) await (await real).close?.();
    },
  };
}

/**
 * transferPlugin is `io.containerd.grpc.v1.transfer`, serving ctrd's own
 * `ctrd.services.transfer.v1.Transfer` (server-side pull, fetch and push with progress).
 */
export const transferPlugin = definePlugin<GrpcServicePlugin, TransferConfig>({
  type: PluginType.GRPC,
  id: 'transfer',
  requires: [PluginType.Metadata, PluginType.Snapshot],
  config: {
    schema: {
      snapshotter: { type: 'string', doc: 'the snapshotter a pull unpacks into when the request names none' },
    },
    defaults: { snapshotter: 'overlayfs' },
  },
  async init(ic) {
    const meta = ic.get(MetadataStore);
    // Temporary mounts for applying layers live under the plugin's root, where start-up can
    // detach whatever a killed daemon left.
    const mountDir = join(ic.rootDir, 'tmpmounts');
    await mkdir(mountDir, { recursive: true });
    const left = await cleanupTempMounts(mountDir);
    if (left.length) ic.log.warn({ mounts: left }, 'detached temporary mounts left by an earlier run');
    const deps: TransferDeps = {
      mountDir,
      content: (ns, lease) => meta.content(ns, lease ? { lease } : {}),
      images: meta.images,
      leases: meta.leases,
      snapshotter: namespacedSnapshotters(meta),
      defaultSnapshotter: ic.config.snapshotter,
      resolver: dockerResolverFor,
    };
    const services: BoundService[] = [transferService(deps)];
    return { grpcServices: () => services };
  },
});

/** transferPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const transferPlugins: Registration[] = [transferPlugin] as Registration[];
