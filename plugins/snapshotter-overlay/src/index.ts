/**
 * `@ctrd/snapshotter-overlay` is the overlayfs snapshotter (plugin
 * `io.containerd.snapshotter.v1.overlayfs`), laid out as containerd's:
 *
 * ```
 * <root>/                  0711
 * ├── metadata.json        snapshot records (see @ctrd/snapshots/storage)
 * └── snapshots/           0711
 *     └── <id>/            0711
 *         ├── fs/          the layer (upperdir while Active)
 *         └── work/        overlay workdir (Active only)
 * ```
 *
 * Long parent chains: the mount helper makes `lowerdir` relative to `snapshots/` when the
 * options would not fit in a page, as containerd does, so 128-layer images mount.
 *
 * @packageDocumentation
 */
export { createOverlaySnapshotter, UPPERDIR_LABEL, type OverlayOptions, type OverlaySnapshotter } from './overlay-snapshotter.js';
export { overlayPlugin, overlayPlugins, type OverlayConfig } from './plugin.js';
export { overlayUnsupportedReason, overlayInKernel, supportsIndexOption } from './supported.js';
