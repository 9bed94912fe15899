/**
 * `@ctrd/snapshots/storage` holds what snapshotter backends share: the {@link MetaStore} of
 * snapshot records with containerd's storage rules, and {@link diskUsage}.
 *
 * @packageDocumentation
 */
export { MetaStore } from './metastore.js';
export { MetaTransaction, type SnapshotRecord, type StoreState, type StoredSnapshot } from './transaction.js';
export { diskUsage } from './disk-usage.js';
