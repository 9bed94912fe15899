import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContentStore } from '@ctrd/content';
import { cleanupTempMounts } from '@ctrd/mount';
import { PluginType, definePlugin } from '@ctrd/plugin';
import type { Differ } from '@ctrd/diff';
import { createWalkingDiffer } from './walking-differ.js';

/**
 * walkingPlugin registers the "walking" differ (`io.containerd.differ.v1.walking`). It takes
 * the content store of the content plugin. Its temporary mounts live in `<plugin root>/tmpmounts`
 * rather than the system temp dir, so that init can detach whatever a killed daemon left there.
 */
export const walkingPlugin = definePlugin({
  type: PluginType.Differ,
  id: 'walking',
  requires: [PluginType.Metadata],
  hostPlatform: true,
  async init(ic): Promise<Differ> {
    const mountDir = join(ic.rootDir, 'tmpmounts');
    await mkdir(mountDir, { recursive: true });
    const left = await cleanupTempMounts(mountDir);
    if (left.length) ic.log.warn({ mounts: left }, 'detached temporary mounts left by an earlier run');
    return createWalkingDiffer(ic.get(ContentStore), { mountDir });
  },
});

/** walkingPlugins lists every registration of this package, for the daemon's builtins. */
export const walkingPlugins = [walkingPlugin] as const;
