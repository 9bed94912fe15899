import { definePlugin, PluginType } from '@ctrd/plugin-sdk';
import { createCopySnapshotter, type CopySnapshotter } from './copy-snapshotter.js';

/**
 * exampleSnapshotterPlugin registers the copy snapshotter as `io.containerd.snapshotter.v1.example`,
 * keeping its trees in the plugin's root directory.
 */
export const exampleSnapshotterPlugin = definePlugin<CopySnapshotter>({
  type: PluginType.Snapshot,
  id: 'example',
  hostPlatform: true,
  init: (ic) => createCopySnapshotter(ic.rootDir),
});

/** plugins lists this package's registrations, which ctrd loads when `plugins_packages` names it. */
export const plugins = [exampleSnapshotterPlugin];
