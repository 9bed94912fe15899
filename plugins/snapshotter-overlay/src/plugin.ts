import { PluginType, SkipPluginError, definePlugin } from '@ctrd/plugin';
import { type OverlaySnapshotter, createOverlaySnapshotter } from './overlay-snapshotter.js';
import { overlayUnsupportedReason } from './supported.js';

/** OverlayConfig is `[plugins."io.containerd.snapshotter.v1.overlayfs"]`, with containerd's keys. */
export interface OverlayConfig {
  root_path: string;
  upperdir_label: boolean;
  sync_remove: boolean;
  slow_chown: boolean;
  mount_options: string[];
}

/**
 * overlayPlugin is `io.containerd.snapshotter.v1.overlayfs`. It is skipped, with the reason,
 * when overlay cannot be mounted on its root. It exports `root`.
 */
export const overlayPlugin = definePlugin<OverlaySnapshotter, OverlayConfig>({
  type: PluginType.Snapshot,
  id: 'overlayfs',
  hostPlatform: true,
  config: {
    schema: {
      root_path: { type: 'string', doc: 'Root directory for the overlayfs snapshotter (default: the plugin root)' },
      upperdir_label: { type: 'boolean', doc: 'Add the upper directory path to snapshot labels' },
      sync_remove: { type: 'boolean', doc: 'Delete layer directories in Remove rather than at the next cleanup' },
      slow_chown: { type: 'boolean', doc: 'Chown layers for ID-mapped containers (accepted, no effect yet)' },
      mount_options: { type: 'string[]', doc: 'Extra options for every overlay mount' },
    },
    defaults: { root_path: '', upperdir_label: false, sync_remove: false, slow_chown: false, mount_options: [] },
  },
  async init(ic) {
    const root = ic.config.root_path || ic.rootDir;
    const reason = await overlayUnsupportedReason(root);
    if (reason !== undefined) throw new SkipPluginError(reason);
    ic.meta.exports.root = root;
    return createOverlaySnapshotter(root, {
      asyncRemove: !ic.config.sync_remove,
      upperdirLabel: ic.config.upperdir_label,
      slowChown: ic.config.slow_chown,
      mountOptions: ic.config.mount_options,
    });
  },
});

/** overlayPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const overlayPlugins = [overlayPlugin];
