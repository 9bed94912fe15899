/**
 * `@ctrd/snapshots` is the snapshotter contract: {@link Snapshotter}, {@link Info}, {@link Kind},
 * {@link Usage}, and the plugin token. Backends live in plugin packages; their shared storage is
 * in `@ctrd/snapshots/storage` and the conformance suite they all run in
 * `@ctrd/snapshots/testsuite`.
 *
 * Terms, used the same way everywhere:
 * - a **key** names an Active or View snapshot, a **name** a Committed one; both share one space,
 *   so a key may not equal an existing name;
 * - a **parent** is the name of the Committed snapshot a new one starts from; only Committed
 *   snapshots can be parents, and a snapshot with children cannot be removed.
 *
 * Importing one layer, as the differ and unpacker do:
 * ```ts
 * const mounts = await sn.prepare(`extract-${Date.now()} ${chainId}`, parentChainId);
 * await withTempMount(mounts, (root) => applyLayer(root, tar)); // write the layer's changes
 * await sn.commit(chainId, key);                                 // now a possible parent
 * ```
 * and a container's root filesystem is `sn.prepare(containerId, imageChainId)`, mounted by the
 * runtime; a read-only look is `sn.view(key, chainId)`.
 *
 * @packageDocumentation
 */
export {
  Kind,
  kindName,
  parseKind,
  listSnapshots,
  type Info,
  type SnapshotInfo,
  type Usage,
  type SnapshotOptions,
  type WalkFunc,
} from './snapshotter.js';
export { Snapshotter } from './token.js';
export { adaptSnapshot } from './filter.js';
export type { Mount } from '@ctrd/mount';
