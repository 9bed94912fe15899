import { PluginType, definePlugin } from '@ctrd/plugin';
import { type NativeSnapshotter, createNativeSnapshotter } from './native-snapshotter.js';

/** NativeConfig is `[plugins."io.containerd.snapshotter.v1.native"]`. */
export interface NativeConfig {
  /** where the snapshots live; the plugin's root directory when empty. */
  root_path: string;
}

/**
 * nativePlugin is `io.containerd.snapshotter.v1.native`: full-copy snapshots under the plugin's
 * root (or `root_path`). It exports `root`.
 */
export const nativePlugin = definePlugin<NativeSnapshotter, NativeConfig>({
  type: PluginType.Snapshot,
  id: 'native',
  hostPlatform: true,
  config: {
    schema: { root_path: { type: 'string', doc: 'Root directory for the native snapshotter (default: the plugin root)' } },
    defaults: { root_path: '' },
  },
  async init(ic) {
    const root = ic.config.root_path || ic.rootDir;
    ic.meta.exports.root = root;
    return createNativeSnapshotter(root);
  },
});

/** nativePlugins lists this package's plugin registrations, for the daemon's builtins. */
export const nativePlugins = [nativePlugin];
