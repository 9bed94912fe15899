import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import type { ProcessIO } from './process-io.js';
import type { ExitInfo } from './reaper.js';

/**
 * Proc is one process of a task: the init process (`execId === ''`) or an exec. It tracks the
 * pid, status and exit, and gates the exit event until the start event has been queued.
 */
export class Proc {
  pid = 0;
  status: Status = Status.CREATED;
  exit: ExitInfo | undefined;
  io: ProcessIO | undefined;
  /** The exec's OCI process spec (JSON), unused for init. */
  spec: string | undefined;
  private readonly exited: Promise<ExitInfo>;
  private resolveExit!: (e: ExitInfo) => void;
  private gate: Promise<void> = Promise.resolve();

  constructor(
    readonly containerId: string,
    readonly execId: string,
    readonly stdin: string,
    readonly stdout: string,
    readonly stderr: string,
    readonly terminal: boolean,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** id is the event's process id: the exec id, or the container id for init. */
  get id(): string {
    return this.execId || this.containerId;
  }

  /** hold delays exit handling until the returned release function is called. */
  hold(): () => void {
    let release!: () => void;
    const previous = this.gate;
    const mine = new Promise<void>((r) => (release = r));
    this.gate = previous.then(() => mine);
    return release;
  }

  /** afterGate resolves once every hold is released. */
  afterGate(): Promise<void> {
    return this.gate;
  }

  /** setExited records the exit and wakes waiters. */
  setExited(exit: ExitInfo): void {
    this.exit = exit;
    this.status = Status.STOPPED;
    this.resolveExit(exit);
  }

  /** wait resolves with the exit once the process has ended and its exit was published. */
  wait(): Promise<ExitInfo> {
    return this.exited;
  }
}
