import { FailedPreconditionError } from '@ctrd/errdefs';
import { MetadataStore, type Container } from '@ctrd/metadata';
import { definePlugin, parseDuration, PluginType } from '@ctrd/plugin';
import { PlatformRuntime, type RootfsMount } from '@ctrd/runtime';
import { RestartMonitor } from './monitor.js';

/** RestartMonitorConfig is the `[plugins."io.containerd.internal.v1.restart"]` section. */
export interface RestartMonitorConfig {
  /** how long to wait after one reconcile before the next, as a Go duration. */
  interval: string;
}

/** FALLBACK_RUNTIME is ctrd's own shim: what the Tasks service uses when the runtime names no default. */
const FALLBACK_RUNTIME = 'io.containerd.ctrd.v1';

/**
 * restartMonitorPlugin is `io.containerd.internal.v1.restart`: the {@link RestartMonitor} over the
 * metadata store, its snapshotters and the task runtime, reconciling every `interval`.
 */
export const restartMonitorPlugin = definePlugin<RestartMonitor, RestartMonitorConfig>({
  type: PluginType.Internal,
  id: 'restart',
  requires: [PluginType.Metadata, PluginType.RuntimeV2],
  config: {
    schema: {
      interval: { type: 'duration', doc: 'time between reconciles of labelled containers with their tasks' },
    },
    defaults: { interval: '10s' },
  },
  init(ic) {
    const metadata = ic.get(MetadataStore);
    const runtime = ic.get(PlatformRuntime);
    const named = runtime as PlatformRuntime & { defaultRuntime?: unknown };
    const monitor = new RestartMonitor({
      namespaces: async () => (await metadata.namespaces.list()).map((n) => n.name),
      containers: (ns, filters) => metadata.containers.list(ns, filters),
      rootfs: (ns, c) => snapshotMounts(metadata, ns, c),
      runtime,
      defaultRuntime: typeof named.defaultRuntime === 'string' ? named.defaultRuntime : FALLBACK_RUNTIME,
      log: ic.log,
    });
    monitor.start(parseDuration(ic.config.interval));
    ic.onClose(() => monitor.close());
    return monitor;
  },
});

/** snapshotMounts returns the mounts of a container's active snapshot, as a client passes them to Create. */
async function snapshotMounts(metadata: MetadataStore, ns: string, c: Container): Promise<RootfsMount[]> {
  if (c.snapshotKey === '') return [];
  if (metadata.snapshotter === undefined) throw new FailedPreconditionError(`no snapshotters to mount ${c.snapshotKey}`);
  const mounts = await metadata.snapshotter(c.snapshotter, ns).mounts(c.snapshotKey);
  return mounts.map((m) => ({ type: m.type, source: m.source, ...(m.target ? { target: m.target } : {}), options: [...m.options] }));
}

/** restartMonitorPlugins lists this package's registrations, for the daemon's builtins. */
export const restartMonitorPlugins = [restartMonitorPlugin];
