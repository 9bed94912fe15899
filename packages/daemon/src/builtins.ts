import type { Registration } from '@ctrd/plugin';

// The plugin packages compiled into ctrd, in registration order. Each exports its registrations
// (from its `plugin.ts`) as an array; importing a package registers nothing.
const PACKAGES: ReadonlyArray<() => Promise<readonly Registration[]>> = [
  // storage and core plugins
  async () => (await import('@ctrd/content-local')).contentLocalPlugins,
  async () => (await import('@ctrd/snapshotter-native')).nativePlugins,
  async () => (await import('@ctrd/snapshotter-overlay')).overlayPlugins,
  async () => (await import('@ctrd/snapshotter-btrfs')).btrfsPlugins,
  async () => (await import('@ctrd/metadata-level')).metadataLevelPlugins,
  async () => (await import('@ctrd/differ-walking')).walkingPlugins,
  async () => (await import('@ctrd/events-exchange')).eventsExchangePlugins,
  async () => (await import('@ctrd/gc-scheduler')).gcSchedulerPlugins,
  async () => (await import('@ctrd/runtime-v2')).runtimeV2Plugins,
  async () => (await import('@ctrd/restart-monitor')).restartMonitorPlugins,
  // gRPC services
  async () => (await import('@ctrd/grpc-services')).grpcServicesPlugins,
  async () => (await import('@ctrd/grpc-snapshots')).grpcSnapshotsPlugins,
  async () => (await import('@ctrd/transfer')).transferPlugins,
  async () => (await import('./services/index.js')).systemPlugins,
];

/**
 * builtins lists the plugins compiled into ctrd, in registration order: this list is the one
 * place that decides what the daemon carries. It loads one package at a time and awaits `pause`
 * in between (by default one turn of the event loop), so that the gRPC socket, already bound,
 * answers while the packages' modules are evaluated (tens of milliseconds in all).
 */
export async function builtins(pause: () => Promise<void> = nextTurn): Promise<Registration[]> {
  const all: Registration[] = [];
  for (const load of PACKAGES) {
    all.push(...(await load()));
    await pause();
  }
  return all;
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
