/**
 * `@ctrd/snapshotter-btrfs` is the btrfs snapshotter (plugin `io.containerd.snapshotter.v1.btrfs`):
 * each snapshot a subvolume, made with the btrfs ioctls directly, mounted by `subvolid=`.
 *
 * ```
 * <root>/                  on btrfs, 0700
 * ├── metadata.json        snapshot records (see @ctrd/snapshots/storage)
 * ├── active/<id>          writable subvolumes of Active snapshots
 * ├── view/<id>            read-only snapshots (or empty subvolumes) of Views
 * └── snapshots/<id>       read-only snapshots of Committed snapshots
 * ```
 *
 * @packageDocumentation
 */
export { createBtrfsSnapshotter, btrfsUnsupportedReason, type BtrfsSnapshotter } from './btrfs-snapshotter.js';
export { btrfsPlugin, btrfsPlugins, type BtrfsConfig } from './plugin.js';
export { subvolCreate, subvolDelete, subvolId, subvolSnapshot } from './btrfs-ioctl.js';
