import { mkdir } from 'node:fs/promises';
import { PluginType, SkipPluginError, definePlugin } from '@ctrd/plugin';
import { type BtrfsSnapshotter, btrfsUnsupportedReason, createBtrfsSnapshotter } from './btrfs-snapshotter.js';

/** BtrfsConfig is `[plugins."io.containerd.snapshotter.v1.btrfs"]`. */
export interface BtrfsConfig {
  /** where the snapshots live; the plugin's root directory when empty. */
  root_path: string;
}

/**
 * btrfsPlugin is `io.containerd.snapshotter.v1.btrfs`: subvolume snapshots under the plugin's
 * root (or `root_path`). It is skipped, with the reason, when that root is not on btrfs. It
 * exports `root`.
 */
export const btrfsPlugin = definePlugin<BtrfsSnapshotter, BtrfsConfig>({
  type: PluginType.Snapshot,
  id: 'btrfs',
  hostPlatform: true,
  config: {
    schema: { root_path: { type: 'string', doc: 'Root directory for the btrfs snapshotter (default: the plugin root)' } },
    defaults: { root_path: '' },
  },
  async init(ic) {
    const root = ic.config.root_path || ic.rootDir;
    await mkdir(root, { recursive: true, mode: 0o700 });
    const reason = btrfsUnsupportedReason(root);
    if (reason !== undefined) throw new SkipPluginError(reason);
    ic.meta.exports.root = root;
    return createBtrfsSnapshotter(root);
  },
});

/** btrfsPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const btrfsPlugins = [btrfsPlugin];
