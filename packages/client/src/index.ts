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
export { RemoteDiff } from './diff.js';
export { RemoteTransfer, BlobState, type Progress, type RegistryOptions, type TransferPullOptions, type TransferPushOptions } from './transfer.js';
export { RemoteTasks, type TaskProcess, type TaskStatus, type TaskIO, type ExitStatus, type TaskMetric } from './tasks.js';
export { FifoIO, type FifoIOOptions, type AttachStreams } from './fifo-io.js';
export { DEFAULT_RUNTIME, newContainer, startTask, removeContainer, runContainer, type NewContainerOptions, type StartTaskOptions, type StartedTask, type RunOptions } from './run.js';
export * from './spec/index.js';
