/**
 * `@ctrd/shim` is ctrd's runtime v2 shim, `containerd-shim-ctrd-v1` (runtime
 * `io.containerd.ctrd.v1`), driving runc.
 *
 * The `containerd-shim-ctrd-v1` launcher is a POSIX sh script: `start` returns the address of
 * the namespace's shim server (one Node process per containerd address and namespace, serving
 * every task of it), starting the server only when none runs; `delete` cleans up after a dead
 * shim. ctrd itself skips the launcher when the server runs (`@ctrd/shim/address` names its
 * files); a server that is exiting refuses Create, so the caller then goes through the launcher.
 * A server that exits cleanly removes all its files from the run directory. The server implements `containerd.task.v2.Task` ({@link TaskService}), reaps every child
 * as a subreaper ({@link Reaper}) and forwards task events to containerd ({@link Publisher}).
 *
 * @packageDocumentation
 */
export { parseShimArgs, type ShimArgs } from './args.js';
export { DEFAULT_RUN_DIR, shimServerKey, shimServerPaths, type ShimServerPaths } from './address.js';
export { cgroupOf, parseCgroupMounts, parseProcCgroup, resolveCgroup, type CgroupLocation } from './cgroup-paths.js';
export { cgroupV1Stats, parseBlkio } from './cgroup-v1-stats.js';
export { cgroupV2Stats, parseIoStat, parseMemoryEvents } from './cgroup-v2-stats.js';
export { OomWatcher } from './oom-watcher.js';
export { Publisher, type EventSink } from './publisher.js';
export { ChildExits } from './child-exits.js';
export { posixSpawn, posixSpawnAvailable, type SpawnRequest } from './posix-spawn.js';
export { spawnPiped, type PipedChild, type PlainStdio, type SpawnPipedOptions } from './spawn-piped.js';
export { Reaper, exitStatus, type ExitInfo, type RunOptions, type RunResult } from './reaper.js';
export { Runc, RuncCommands, type CheckpointArgs, type CreateArgs, type CriuArgs, type ExecArgs, type RuncConfig } from './runc.js';
export { mountArgs, mountRootfs, unmountAll } from './rootfs.js';
export { ProcessIO, type IOConfig } from './process-io.js';
export { ShimLifecycle, type ShimLifecycleOptions } from './lifecycle.js';
export { BUNDLE_STATE_FILE, TaskService, type TaskServiceOptions } from './task-service.js';
