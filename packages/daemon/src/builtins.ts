import { contentLocalPlugins } from '@ctrd/content-local';
import { walkingPlugins } from '@ctrd/differ-walking';
import { eventsExchangePlugins } from '@ctrd/events-exchange';
import { gcSchedulerPlugins } from '@ctrd/gc-scheduler';
import { grpcServicesPlugins } from '@ctrd/grpc-services';
import { grpcSnapshotsPlugins } from '@ctrd/grpc-snapshots';
import { metadataLevelPlugins } from '@ctrd/metadata-level';
import type { Registration } from '@ctrd/plugin';
import { restartMonitorPlugins } from '@ctrd/restart-monitor';
import { runtimeV2Plugins } from '@ctrd/runtime-v2';
import { btrfsPlugins } from '@ctrd/snapshotter-btrfs';
import { nativePlugins } from '@ctrd/snapshotter-native';
import { overlayPlugins } from '@ctrd/snapshotter-overlay';
import { transferPlugins } from '@ctrd/transfer';
import { systemPlugins } from './services/index.js';

/**
 * builtins lists the plugins compiled into ctrd, in registration order. Importing a plugin
 * package registers nothing; this list is the one place that decides what the daemon carries.
 * Each plugin package exports its registrations (from its `plugin.ts`) as an array.
 */
export function builtins(): Registration[] {
  return [
    // storage and core plugins
    ...contentLocalPlugins,
    ...nativePlugins,
    ...overlayPlugins,
    ...btrfsPlugins,
    ...metadataLevelPlugins,
    ...walkingPlugins,
    ...eventsExchangePlugins,
    ...gcSchedulerPlugins,
    ...runtimeV2Plugins,
    ...restartMonitorPlugins,
    // services
    // gRPC services
    ...grpcServicesPlugins,
    ...grpcSnapshotsPlugins,
    ...transferPlugins,
    ...systemPlugins,
  ];
}
