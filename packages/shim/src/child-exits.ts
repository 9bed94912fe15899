import { exitStatus, type ExitInfo } from './reaper.js';
import { libc } from './libc.js';

const KEEPALIVE_SWEEP_MS = 1000;

/**
 * ChildExits collects the exits of children started with `posixSpawn` in a process that is not
 * a subreaper and whose other children belong to Node (the daemon): on SIGCHLD it calls
 * `waitpid(pid, WNOHANG)` for the pids it was given and for no other, so the exits of
 * children libuv spawned stay libuv's.
 */
export class ChildExits {
  private readonly waiting = new Map<number, (exit: ExitInfo) => void>();
  private readonly onSignal = (): void => this.sweep();
  private keepAlive: NodeJS.Timeout | undefined;

  /** wait resolves once `pid`, a child of this process, has exited, and reaps it. */
  wait(pid: number): Promise<ExitInfo> {
    return new Promise((resolve) => {
      if (this.waiting.size === 0) {
        process.on('SIGCHLD', this.onSignal);
        // Signal handlers do not keep Node's loop alive; the timer does, and sweeps now and then
        // should a SIGCHLD ever go missing.
        this.keepAlive = setInterval(this.onSignal, KEEPALIVE_SWEEP_MS);
      }
      this.waiting.set(pid, resolve);
      // The child may have exited before its SIGCHLD handler was in place.
      this.sweep();
    });
  }

  private sweep(): void {
    for (const [pid, resolve] of this.waiting) {
      const raw = libc().waitpid(pid);
      if (raw === undefined) continue;
      this.waiting.delete(pid);
      resolve({ status: exitStatus(raw), at: new Date() });
    }
    if (this.waiting.size === 0 && this.keepAlive !== undefined) {
      process.off('SIGCHLD', this.onSignal);
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
