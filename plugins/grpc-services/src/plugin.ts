import { Exchange } from '@ctrd/events';
import type { BoundService, GrpcServicePlugin } from '@ctrd/grpc';
import { GcScheduler, MetadataStore } from '@ctrd/metadata';
import { isNotFound } from '@ctrd/errdefs';
import { definePlugin, PluginType, type InitContext, type Registration } from '@ctrd/plugin';
import { PlatformRuntime } from '@ctrd/runtime';
import type { TtrpcServer, TtrpcServicePlugin } from '@ctrd/ttrpc';
import { containersService } from './containers-service.js';
import { contentService } from './content-service.js';
import type { ServiceDeps } from './deps.js';
import { eventsService, registerTtrpcEvents, sequencedEventsService } from './events-service.js';
import { imagesService } from './images-service.js';
import { leasesService } from './leases-service.js';
import { namespacesService } from './namespaces-service.js';

/** optionalGc returns the GC scheduler when one loaded, else undefined (sync deletes then collect directly). */
function optionalGc(ic: InitContext<unknown>): GcScheduler | undefined {
  return ic.getByType(GcScheduler).values().next().value;
}

function deps(ic: InitContext<unknown>): ServiceDeps {
  return { metadata: ic.get(MetadataStore), publisher: ic.get(Exchange), gc: optionalGc(ic), taskStatus: taskStatus(ic) };
}

/** taskStatus asks every loaded runtime for a container's task; a runtime without it says NotFound. */
function taskStatus(ic: InitContext<unknown>): ServiceDeps['taskStatus'] {
  const runtimes = [...ic.getByType(PlatformRuntime).values()];
  if (runtimes.length === 0) return undefined;
  return async (ns, id) => {
    for (const rt of runtimes) {
      try {
        return (await (await rt.get(ns, id)).state()).status;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return undefined;
  };
}

function grpcPlugin(id: string, requires: string[], build: (ic: InitContext<unknown>) => BoundService[]): Registration<GrpcServicePlugin> {
  return definePlugin<GrpcServicePlugin>({
    type: PluginType.GRPC,
    id,
    requires,
    init(ic) {
      const services = build(ic);
      return { grpcServices: () => services };
    },
  });
}

const META_EVENTS = [PluginType.Metadata, PluginType.Event];

/** namespacesPlugin is `io.containerd.grpc.v1.namespaces`. */
export const namespacesPlugin = grpcPlugin('namespaces', META_EVENTS, (ic) => [namespacesService(deps(ic))]);
/** contentPlugin is `io.containerd.grpc.v1.content`. */
export const contentPlugin = grpcPlugin('content', META_EVENTS, (ic) => [contentService(deps(ic))]);
/** imagesPlugin is `io.containerd.grpc.v1.images`. */
export const imagesPlugin = grpcPlugin('images', [...META_EVENTS, PluginType.GC], (ic) => [imagesService(deps(ic))]);
/** containersPlugin is `io.containerd.grpc.v1.containers`. */
export const containersPlugin = grpcPlugin('containers', [...META_EVENTS, PluginType.GC, PluginType.RuntimeV2], (ic) => [containersService(deps(ic))]);
/** leasesPlugin is `io.containerd.grpc.v1.leases`. */
export const leasesPlugin = grpcPlugin('leases', [PluginType.Metadata, PluginType.GC], (ic) => [
  leasesService({ metadata: ic.get(MetadataStore), gc: optionalGc(ic) }),
]);

/**
 * eventsPlugin is `io.containerd.grpc.v1.events`: containerd's Events service and ctrd's
 * sequenced Subscribe on the gRPC socket, and the Forward twin on the ttrpc socket.
 */
export const eventsPlugin = definePlugin<GrpcServicePlugin & TtrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'events',
  requires: [PluginType.Event],
  init(ic) {
    const exchange = ic.get(Exchange);
    const services = [eventsService(exchange), sequencedEventsService(exchange)];
    return {
      grpcServices: () => services,
      registerTtrpc: (server: TtrpcServer) => registerTtrpcEvents(server, exchange),
    };
  },
});

/** grpcServicesPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const grpcServicesPlugins: Registration[] = [
  namespacesPlugin,
  contentPlugin,
  imagesPlugin,
  containersPlugin,
  leasesPlugin,
  eventsPlugin,
] as Registration[];
