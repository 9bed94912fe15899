/**
 * `@ctrd/runtime-v2` is ctrd's runtime v2: the {@link TaskManager} that launches shims with
 * containerd's shim protocol and keeps track of their tasks (`io.containerd.runtime.v2.task`),
 * and the Tasks gRPC service over it (`io.containerd.grpc.v1.tasks`).
 *
 * A task's bundle is `<state>/io.containerd.runtime.v2.task/<ns>/<id>/` (config.json, rootfs,
 * work → `<root>/…/<ns>/<id>`, address, shim-binary-path, and a log fifo for shims other than
 * ctrd's own). A runtime name maps to a shim binary as containerd maps it
 * (`io.containerd.runc.v2` → `containerd-shim-runc-v2`), or through the plugin's `runtimes`
 * table. For ctrd's own shim (`io.containerd.ctrd.v1`) the manager connects straight to the
 * namespace's running shim server when there is one, and only runs the launcher to start one.
 *
 * @packageDocumentation
 */
export { Bundle, BUNDLE_FILES } from './bundle.js';
export { ShimTask, ShimExecProcess, NAMESPACE_TTRPC } from './shim-task.js';
export { TaskManager, DEFAULT_RUNTIME, type TaskManagerOptions, type RuntimeEntry } from './task-manager.js';
export { shimBinaryName, resolveShimBinary, defaultShimDirs, type ShimLookup } from './shim-binary-path.js';
export { shimStart, shimDelete, socketPath, type ShimCommand } from './shim-command.js';
export { isOwnShim, ownShimLauncher, runningShimServer } from './own-shim.js';
export { tasksService, type TasksServiceDeps } from './tasks-service.js';
export { CHECKPOINT_MEDIA_TYPES, checkpointToContent, restoreFromContent } from './checkpoint.js';
export { tarDirectory, untarInto } from './tar.js';
export { runcOptionsFromConfig } from './runtime-options.js';
export { runtimeV2Plugin, tasksPlugin, runtimeV2Plugins, type RuntimeV2Config } from './plugin.js';
