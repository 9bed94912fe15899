import { PluginType, createToken } from '@ctrd/plugin';
import type { Snapshotter as Contract } from './snapshotter.js';

/** Snapshotter is also the token of the `io.containerd.snapshotter.v1` plugin type. */
export type Snapshotter = Contract;

/**
 * Snapshotter is the token of the `io.containerd.snapshotter.v1` plugin type:
 * `ic.getByType(Snapshotter)` returns every loaded backend by ID. These backends are not
 * namespaced; services use the metadata store's namespaced snapshotters.
 */
export const Snapshotter = createToken<Snapshotter>(PluginType.Snapshot);
