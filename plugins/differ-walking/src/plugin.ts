import { ContentStore } from '@ctrd/content';
import { PluginType, definePlugin } from '@ctrd/plugin';
import type { Differ } from '@ctrd/diff';
import { createWalkingDiffer } from './walking-differ.js';

/**
 * walkingPlugin registers the "walking" differ (`io.containerd.differ.v1.walking`). It takes
 * the content store of the content plugin; init only wires objects together.
 */
export const walkingPlugin = definePlugin({
  type: PluginType.Differ,
  id: 'walking',
  requires: [PluginType.Metadata],
  hostPlatform: true,
  init: (ic): Differ => createWalkingDiffer(ic.get(ContentStore)),
});

/** walkingPlugins lists every registration of this package, for the daemon's builtins. */
export const walkingPlugins = [walkingPlugin] as const;
