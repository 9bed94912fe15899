/**
 * `@ctrd/plugin-sdk` is what an out-of-tree plugin for ctrd builds on, in one package:
 *
 * - the plugin shapes and kernel vocabulary: {@link definePlugin}, {@link PluginType},
 *   {@link createToken}, {@link SkipPluginError}, `Registration`, `InitContext`;
 * - the contracts and their tokens: {@link Snapshotter} (with `SnapshotInfo`, {@link Kind},
 *   `Usage`, `Mount`) and {@link ContentStore} (with `ContentInfo`, `Writer`, `ReaderAt`);
 * - the error classes of `@ctrd/errdefs`, which the daemon maps to gRPC codes;
 * - helpers a backend needs: snapshot record storage ({@link MetaStore}, {@link diskUsage}),
 *   filters ({@link parseFilters}, {@link adaptSnapshot}), and the daemon's named timeouts;
 * - {@link serveSnapshotter} and {@link serveContentStore}, which serve a backend as containerd's
 *   Snapshots or Content gRPC service on a unix socket, to ship it as a proxy plugin.
 *
 * The conformance suites live at `@ctrd/plugin-sdk/testsuite`, so that importing the SDK does not
 * load the test runner.
 *
 * A plugin package exports its registrations, which `plugins_packages` loads:
 * ```ts
 * import { definePlugin, PluginType } from '@ctrd/plugin-sdk';
 * export const plugins = [definePlugin({ type: PluginType.Snapshot, id: 'mine', init: (ic) => open(ic.rootDir) })];
 * ```
 * and the same backend runs out of process with `await serveSnapshotter(await open(dir), socket)`.
 *
 * @packageDocumentation
 */
export {
  definePlugin,
  PluginType,
  createToken,
  SkipPluginError,
  isSkipPlugin,
  uriOf,
  parseDuration,
  isMetricsProvider,
  type Registration,
  type InitContext,
  type PluginConfig,
  type PluginMeta,
  type PluginRecord,
  type PluginStatus,
  type Platform,
  type ConfigSchema,
  type FieldSpec,
  type Token,
  type MetricFamily,
  type MetricsProvider,
} from '@ctrd/plugin';
export * from '@ctrd/errdefs';
export {
  Snapshotter,
  Kind,
  kindName,
  parseKind,
  listSnapshots,
  adaptSnapshot,
  type SnapshotInfo,
  type Usage,
  type SnapshotOptions,
  type WalkFunc,
  type Mount,
} from '@ctrd/snapshots';
export { MetaStore, MetaTransaction, diskUsage, type SnapshotRecord, type StoredSnapshot } from '@ctrd/snapshots/storage';
export {
  ContentStore,
  digestFromBytes,
  validateDigest,
  type Info as ContentInfo,
  type Status as ContentStatus,
  type BlobDescriptor,
  type CommitOptions,
  type WriterOptions,
  type Writer,
  type ReaderAt,
} from '@ctrd/content';
export { parseAll as parseFilters, adaptLabels, type Filter, type Adaptor } from '@ctrd/filters';
export { timeouts, Timeouts, TIMEOUT_KEYS, DEFAULT_TIMEOUT_MS } from '@ctrd/config';
export { serveServices, type CallHook, type PluginServer, type ServeOptions } from './serve.js';
export { serveSnapshotter, snapshotterService, SNAPSHOT_LIST_BATCH } from './snapshotter-service.js';
export { serveContentStore, contentStoreService } from './content-service.js';
