/** Any is a protobuf `Any` as the runtime passes it through: a type URL and the encoded value. */
export interface Any {
  typeUrl: string;
  value: Uint8Array;
}

/** RootfsMount is one mount of a task's root filesystem, as a snapshotter describes it. */
export interface RootfsMount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

/** TaskIO names a process's stdio (fifo paths or log URIs the shim opens) and whether it has a terminal. */
export interface TaskIO {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/** Exit is how a process ended: its pid, exit status and when (undefined when unknown). */
export interface Exit {
  pid: number;
  status: number;
  exitedAt: Date | undefined;
}

/** ProcessStatus is a process's lifecycle state, as containerd's `Status` enum names them. */
export type ProcessStatus = 'unknown' | 'created' | 'running' | 'stopped' | 'paused' | 'pausing';

/** ProcessState is a snapshot of one process: the task's init process or an exec. */
export interface ProcessState {
  /** the container id for the init process, else the exec id. */
  id: string;
  pid: number;
  status: ProcessStatus;
  io: TaskIO;
  exitStatus: number;
  exitedAt: Date | undefined;
}

/** ProcessInfo is one pid running in a task, with runtime-specific detail (e.g. its exec id). */
export interface ProcessInfo {
  pid: number;
  info?: Any;
}

/** ExecOpts describes an additional process: its OCI process spec (JSON in an Any) and stdio. */
export interface ExecOpts {
  spec: Any | undefined;
  io: TaskIO;
}

/** CreateOpts is everything a runtime needs to create a task. */
export interface CreateOpts {
  /** the OCI runtime spec as JSON bytes; written as the bundle's config.json. */
  spec: Uint8Array;
  /** the root filesystem mounts; the shim mounts them on the bundle's rootfs. */
  rootfs: RootfsMount[];
  io: TaskIO;
  /** a directory holding a checkpoint image to restore from. */
  checkpoint?: string;
  /** the runtime name (`io.containerd.runc.v2`) or an absolute shim binary path. */
  runtime: string;
  /** the container's runtime options. */
  runtimeOptions?: Any;
  /** options for this task only; they win over `runtimeOptions`. */
  taskOptions?: Any;
}

/**
 * Process is one process of a task. Calls go to the task's shim; errors keep their errdefs class
 * (an unknown process is NotFound, a dead shim Unavailable).
 */
export interface Process {
  /** the container id for the init process, else the exec id. */
  readonly id: string;
  state(): Promise<ProcessState>;
  /** start runs a created process and resolves with its pid. */
  start(): Promise<number>;
  kill(signal: number, all?: boolean): Promise<void>;
  resize(width: number, height: number): Promise<void>;
  /** closeIO closes the process's stdin. */
  closeIO(): Promise<void>;
  /** wait resolves when the process exits; `signal` abandons the wait. */
  wait(signal?: AbortSignal): Promise<Exit>;
  /** delete removes a stopped process and reports how it ended. */
  delete(): Promise<Exit>;
}

/** Task is a container's running instance: its init process plus the task-wide operations. */
export interface Task extends Process {
  readonly namespace: string;
  /** the runtime name or shim path the task was created with. */
  readonly runtime: string;
  /** the bundle directory. */
  readonly bundle: string;
  /** pid returns the init process's pid. */
  pid(): Promise<number>;
  pids(): Promise<ProcessInfo[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  exec(execId: string, opts: ExecOpts): Promise<Process>;
  /** process returns an exec process by id; NotFound when there is none. */
  process(execId: string): Promise<Process>;
  /** checkpoint writes a checkpoint image into directory `path`. */
  checkpoint(path: string, options?: Any): Promise<void>;
  update(resources: Any | undefined, annotations?: Record<string, string>): Promise<void>;
  /** stats returns the task's metrics (e.g. `io.containerd.cgroups.v1.Metrics`). */
  stats(): Promise<Any | undefined>;
}

/**
 * PlatformRuntime creates and tracks tasks (`io.containerd.runtime.v2.task`). Tasks belong to a
 * namespace and are named by their container's id; they outlive the daemon and are found again
 * when it restarts.
 */
export interface PlatformRuntime {
  /** the plugin URI, `io.containerd.runtime.v2.task`. */
  readonly id: string;
  /** create starts a shim and creates the task in it; AlreadyExists if the id is taken. */
  create(namespace: string, id: string, opts: CreateOpts): Promise<Task>;
  /** get returns a task; NotFound if absent. */
  get(namespace: string, id: string): Promise<Task>;
  /** tasks lists the tasks of `namespace`, or of every namespace when it is undefined. */
  tasks(namespace?: string): Promise<Task[]>;
  /** delete deletes a stopped task, stops its shim, removes its bundle and reports how it ended. */
  delete(namespace: string, id: string): Promise<Exit>;
}
