import { PluginType, createToken } from '@ctrd/plugin';
import type { ContentStore as Store } from './store.js';

/** ContentStore is a complete content store: every role of `store.ts` in one type. */
export type ContentStore = Store;

/**
 * ContentStore is also the token of the `io.containerd.content.v1` plugin type:
 * `ic.get(ContentStore)` returns the backing (un-namespaced) store. Services acting for a
 * namespace use the metadata store's namespaced view instead.
 */
export const ContentStore = createToken<ContentStore>(PluginType.Content);
