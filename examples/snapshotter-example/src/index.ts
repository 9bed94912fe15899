/**
 * `ctrd-snapshotter-example` is an out-of-tree snapshotter for ctrd, built only on
 * `@ctrd/plugin-sdk`. It runs two ways:
 *
 * - in the daemon, as an npm-package plugin: `plugins_packages = ["ctrd-snapshotter-example"]`
 *   loads {@link plugins}, registering `io.containerd.snapshotter.v1.example`;
 * - out of process, as a proxy plugin: `ctrd-snapshotter-example --root DIR --address SOCKET`
 *   serves it, and `[proxy_plugins.<name>] type = "snapshot", address = "SOCKET"` loads it.
 *
 * Either way `ctr snapshots --snapshotter <name> ls` lists its snapshots.
 *
 * @packageDocumentation
 */
export { createCopySnapshotter, type CopySnapshotter } from './copy-snapshotter.js';
export { exampleSnapshotterPlugin, plugins } from './plugin.js';
