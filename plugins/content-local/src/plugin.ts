import { definePlugin, PluginType } from '@ctrd/plugin';
import { createLocalStore, type LocalContentStore } from './local-store.js';

/**
 * localContentPlugin is `io.containerd.content.v1.content`: the local store rooted at the
 * plugin's root directory (`<root>/io.containerd.content.v1.content`, as in containerd). It
 * exports `root`.
 */
export const localContentPlugin = definePlugin<LocalContentStore>({
  type: PluginType.Content,
  id: 'content',
  async init(ic) {
    const store = await createLocalStore(ic.rootDir);
    ic.meta.exports.root = ic.rootDir;
    return store;
  },
});

/** contentLocalPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const contentLocalPlugins = [localContentPlugin];
