/**
 * `@ctrd/client` is a TypeScript client for ctrd (and containerd): one Connection per socket,
 * service clients on it, and errors mapped back to `@ctrd/errdefs` classes.
 *
 * @packageDocumentation
 */
export * from './connection.js';
export * from './system.js';
export { RemoteContentStore, type ContentScope } from './content.js';
export { RemoteWriter } from './content-writer.js';
export { RemoteNamespaceStore } from './namespaces.js';
export { RemoteImageStore, type ImageDeleteOptions } from './images.js';
export { RemoteContainerStore } from './containers.js';
export { RemoteLeaseManager, type LeaseDeleteOptions } from './leases.js';
export { RemoteEvents } from './events.js';
export { RemoteSnapshotter } from './snapshots.js';
export { RemoteTransfer, BlobState, type Progress, type RegistryOptions, type TransferPullOptions, type TransferPushOptions } from './transfer.js';
