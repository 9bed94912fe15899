/**
 * `@ctrd/grpc-snapshots` serves containerd's Snapshots and Diff APIs over gRPC
 * (`io.containerd.grpc.v1.snapshots` and `io.containerd.grpc.v1.diff`). Snapshots runs on the
 * metadata store's namespaced snapshotters, so keys, parents and labels are per namespace and
 * garbage collection frees the backends; Diff runs the walking differ over each namespace's
 * content store.
 *
 * @packageDocumentation
 */
export { snapshotsService, LIST_BATCH, type SnapshotsServiceDeps } from './snapshots-service.js';
export { diffService, type DiffServiceDeps, type DifferFactory } from './diff-service.js';
export { kindIn, kindOut, mountIn, mountOut, snapshotInfoIn, snapshotInfoOut } from './convert.js';
export { diffPlugin, grpcSnapshotsPlugins, snapshotsPlugin } from './plugin.js';
