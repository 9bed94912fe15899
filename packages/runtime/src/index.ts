/**
 * `@ctrd/runtime` is the task runtime contract: a {@link PlatformRuntime} creates {@link Task}s
 * for containers and finds them again; a task is its init {@link Process} plus task-wide calls
 * (pause, exec, checkpoint, stats). Processes are addressed by the container id (the init
 * process) or an exec id. Implementations (runtime v2 and its shims) live in `@ctrd/runtime-v2`.
 *
 * Lifecycle: `create` → `start` → `wait` (the process exits) → `delete`. A task whose shim dies is
 * reported exited and removed by the runtime, never left half-alive.
 *
 * @packageDocumentation
 */
export type {
  Any,
  CreateOpts,
  ExecOpts,
  Exit,
  Process,
  ProcessInfo,
  ProcessState,
  ProcessStatus,
  RootfsMount,
  Task,
  TaskIO,
} from './types.js';
export { PlatformRuntime } from './token.js';
