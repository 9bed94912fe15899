/**
 * `@ctrd/grpc-services` serves containerd's metadata, content and event APIs over gRPC:
 * Namespaces, Content, Images, Containers, Leases and Events (plus ctrd's sequenced Subscribe and
 * the ttrpc Forward shims use), each registered as `io.containerd.grpc.v1.<name>` with
 * containerd's IDs. Every service publishes containerd's events with containerd's topics and
 * payload types; deleting an image, container or lease schedules a garbage collection.
 *
 * The services translate between the wire and the contracts of `@ctrd/metadata`, `@ctrd/content`
 * and `@ctrd/events` and hold no logic of their own beyond that, events and GC triggers; one
 * package keeps those shared helpers in one place.
 *
 * @packageDocumentation
 */
export { namespacesService } from './namespaces-service.js';
export { contentService, infoOut, statusOut, LIST_BATCH, READ_CHUNK } from './content-service.js';
export { writeSession } from './content-write.js';
export { imagesService, descriptorIn, descriptorOut } from './images-service.js';
export { containersService } from './containers-service.js';
export { leasesService } from './leases-service.js';
export { eventsService, registerTtrpcEvents, sequencedEventsService } from './events-service.js';
export type { ServiceDeps } from './deps.js';
export {
  containersPlugin,
  contentPlugin,
  eventsPlugin,
  grpcServicesPlugins,
  imagesPlugin,
  leasesPlugin,
  namespacesPlugin,
} from './plugin.js';
