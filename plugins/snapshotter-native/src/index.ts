/**
 * `@ctrd/snapshotter-native` is the native snapshotter (plugin
 * `io.containerd.snapshotter.v1.native`): each snapshot a full directory copy, bind-mounted.
 *
 * ```
 * <root>/
 * ├── metadata.json        snapshot records (see @ctrd/snapshots/storage)
 * └── snapshots/<id>/      one tree per Active or Committed snapshot (and per parentless View)
 * ```
 *
 * @packageDocumentation
 */
export { createNativeSnapshotter, type NativeSnapshotter } from './native-snapshotter.js';
export { nativePlugin, nativePlugins, type NativeConfig } from './plugin.js';
