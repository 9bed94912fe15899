import type { ContentStore } from '@ctrd/content';
import { PluginType, createToken, definePlugin } from '@ctrd/plugin';
import type { Differ } from '@ctrd/diff';
import { createWalkingDiffer } from './walking-differ.js';

// `@ctrd/content` exports no token yet; tokens are keyed by type, so this is the same handle.
const ContentStoreToken = createToken<ContentStore>(PluginType.Content);

/**
 * walkingPlugin registers the "walking" differ (`io.containerd.differ.v1.walking`). It takes
 * the content store of the content plugin; init only wires objects together.
 */
export const walkingPlugin = definePlugin({
  type: PluginType.Differ,
  id: 'walking',
  requires: [PluginType.Metadata],
  hostPlatform: true,
  init: (ic): Differ => createWalkingDiffer(ic.get(ContentStoreToken)),
});

/** walkingPlugins lists every registration of this package, for the daemon's builtins. */
export const walkingPlugins = [walkingPlugin] as const;
