import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempMounts } from '@ctrd/mount';
import { Differ } from '@ctrd/diff';
import { createWalkingDiffer } from '@ctrd/differ-walking';
import { Exchange } from '@ctrd/events';
import type { GrpcServicePlugin } from '@ctrd/grpc';
import { MetadataStore } from '@ctrd/metadata';
import { definePlugin, PluginType, SkipPluginError, type Registration } from '@ctrd/plugin';
import { diffService } from './diff-service.js';
import { snapshotsService } from './snapshots-service.js';

/**
 * snapshotsPlugin is `io.containerd.grpc.v1.snapshots`: the Snapshots service over the metadata
 * plugin's namespaced snapshotters, publishing on the event exchange. A removal reaches the GC
 * scheduler as a deletion in the metadata store, like every other one.
 */
export const snapshotsPlugin = definePlugin<GrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'snapshots',
  requires: [PluginType.Metadata, PluginType.Event],
  init(ic) {
    const service = snapshotsService({ metadata: ic.get(MetadataStore), publisher: ic.get(Exchange) });
    return { grpcServices: () => [service] };
  },
});

/**
 * diffPlugin is `io.containerd.grpc.v1.diff`: the Diff service, running containerd's default
 * "walking" differ over each namespace's content. It is skipped when that differ is not loaded.
 */
export const diffPlugin = definePlugin<GrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'diff',
  requires: [PluginType.Metadata, PluginType.Differ],
  async init(ic) {
    if (!ic.getByType(Differ).has('walking')) throw new SkipPluginError('differ "walking" is not loaded');
    // Temporary mounts live under the plugin's root, where start-up detaches what a killed daemon left.
    const mountDir = join(ic.rootDir, 'tmpmounts');
    await mkdir(mountDir, { recursive: true });
    const left = await cleanupTempMounts(mountDir);
    if (left.length) ic.log.warn({ mounts: left }, 'detached temporary mounts left by an earlier run');
    const service = diffService({ metadata: ic.get(MetadataStore), differFor: (store) => createWalkingDiffer(store, { mountDir }) });
    return { grpcServices: () => [service] };
  },
});

/** grpcSnapshotsPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const grpcSnapshotsPlugins: Registration[] = [snapshotsPlugin, diffPlugin] as Registration[];
