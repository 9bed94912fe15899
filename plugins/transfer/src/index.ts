/**
 * `@ctrd/transfer` moves images between registries and the daemon's stores, server-side:
 * {@link Puller} (pull and fetch with streaming unpack), {@link pushImage}, and the gRPC
 * service `ctrd.services.transfer.v1.Transfer` (plugin `io.containerd.grpc.v1.transfer`) that
 * runs them for ctrctl and streams progress back.
 *
 * A pull resolves the reference, then inside a lease (24 h expiry, as containerd) downloads the
 * selected manifests, configs and layers into the namespace's content store through ingests
 * named `<kind>-<digest>`: a concurrent pull of the same blob waits on that ingest and then
 * finds it committed, and an interrupted pull resumes at the ingest's offset. Layers are
 * applied in chain order while they download (each download is teed into the apply of its
 * layer once the layer below is committed); a snapshot is committed under its chain ID only
 * when the blob's digest and the layer's diffID have both been verified. Layers are applied on a
 * worker thread ({@link applyInWorker}), so the daemon's event loop keeps serving downloads,
 * commits and other calls while files are written. The image record is
 * written last and the lease dropped; a failed pull keeps its lease so its partial downloads
 * survive until a retry.
 *
 * @packageDocumentation
 */
export { Puller, LEASE_EXPIRY_MS, DEFAULT_MAX_DOWNLOADS } from './puller.js';
export { pushImage, type PushOptions, type PushResult } from './push.js';
export { downloadBlob, fetchDocument, ingestRef, type DownloadContext, type DownloadOutcome } from './blob-download.js';
export { unpackLayer, type LayerJob, type UnpackContext } from './layer-unpack.js';
export { LayerTee, DEFAULT_TEE_BUFFER } from './layer-tee.js';
export { Limiter } from './limiter.js';
export { applyInWorker, prewarmApplyWorker, APPLY_WINDOW } from '@ctrd/differ-walking';
export { transferService, toWire } from './service.js';
export { transferPlugin, transferPlugins, namespacedSnapshotters, dockerResolverFor, type TransferConfig } from './plugin.js';
export type {
  BlobState, ClosableResolver, ProgressEvent, PullOptions, PullResult, RegistryOptions, TransferDeps, TransferHooks,
} from './types.js';
