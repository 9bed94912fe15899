/**
 * `@ctrd/differ-walking` is containerd's "walking" differ: it applies layers by streaming them
 * through a tar reader onto a directory, and creates layers by walking two trees side by side.
 * The rules it enforces are written down in `@ctrd/diff`. {@link applyLayerStream} is the core
 * and needs no content store, so a pull can unpack while it downloads.
 *
 * Decisions beyond containerd:
 * - Memory is bounded for any input (streamed entries, PAX headers capped at 1 MiB, names at
 *   PATH_MAX). Disk use is not bounded by default (real layers reach many GiB): pass
 *   `maxUncompressedSize` to refuse layers that expand past a size (InvalidArgument).
 * - A compressed digest mismatch is FailedPrecondition, detected at the end of the stream, so
 *   the target must be discarded by the caller; nothing outside the target is ever written.
 *
 * @packageDocumentation
 */
export { applyLayerStream, type ApplyStreamOptions } from './apply-stream.js';
export { applyInWorker, prewarmApplyWorker, APPLY_WINDOW, type WorkerApplyOptions } from './worker-apply.js';
export { createWalkingDiffer, overlayTarget, type WalkingDifferOptions, type WalkingDifferStore } from './walking-differ.js';
export { diffTar } from './compare.js';
export { decodePax, encodePax, ensureBinaryPax, MAX_PAX_SIZE, MAX_PAX_RECORDS, XATTR_PREFIX } from './pax.js';
export { cleanName, RootResolver, MAX_NAME_LENGTH, MAX_COMPONENT_LENGTH, MAX_LINK_HOPS } from './resolver.js';
export { walkingPlugin, walkingPlugins } from './plugin.js';
