import { closeSync, openSync, readdirSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TtrpcServer } from '@ctrd/ttrpc';
import type { ShimServerPaths } from './address.js';
import { libc } from './libc.js';
import type { Publisher } from './publisher.js';

/** ShimLifecycleOptions configures a {@link ShimLifecycle}. */
export interface ShimLifecycleOptions {
  paths: ShimServerPaths;
  socket: string;
  server: TtrpcServer;
  publisher: Publisher;
  log: (msg: string) => void;
  /** How long a claim by `start` keeps the server alive without a Create (default 30 s). */
  claimTtlMs?: number;
  /** How often an idle server checks whether it may exit (default 60 s). */
  idleCheckMs?: number;
  /** How long a server without tasks lingers before it may exit (default 0). */
  lingerMs?: number;
}

/**
 * ShimLifecycle starts and ends a shared shim server in step with the launcher.
 *
 * The launcher, holding `flock` on the lock file, checks the pid file and drops a claim file
 * for the id it hands out; the server only exits while holding the same lock, with no task
 * left and no claim younger than `claimTtlMs`. So an address the launcher printed is never
 * one whose server is on its way out.
 */
export class ShimLifecycle {
  /** taskCount reports how many tasks the server still holds. */
  taskCount: () => number = () => 0;
  private exiting = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastBusy = Date.now();

  constructor(private readonly opts: ShimLifecycleOptions) {}

  /**
   * serve listens on the socket and then publishes the pid file, by which later launchers find
   * the server alive. The launcher that started it waits for the server's ready line instead.
   */
  async serve(): Promise<void> {
    await this.opts.server.listen(this.opts.socket, { mode: 0o600 });
    const tmp = `${this.opts.paths.pid}.${process.pid}`;
    await writeFile(tmp, String(process.pid));
    await rename(tmp, this.opts.paths.pid);
    this.idleTimer = setInterval(() => void this.exitIfIdle(), this.opts.idleCheckMs ?? 60_000);
    this.idleTimer.unref();
  }

  /**
   * accepting reports whether the server still takes new tasks: false once it has decided to
   * exit. A Create arriving then must fail (with UnavailableError) so its sender starts a new
   * server through the launcher.
   */
  get accepting(): boolean {
    return !this.exiting;
  }

  /** claimed drops the claim `start` made for `id`, now that Create arrived. */
  claimed(id: string): void {
    this.lastBusy = Date.now();
    void rm(join(this.opts.paths.pending, id), { force: true });
  }

  /** idle notes that the last task went, and schedules an exit once the server has lingered. */
  idle(): void {
    this.lastBusy = Date.now();
    // A few ms past the linger: timers may fire a little early.
    setTimeout(() => void this.exitIfIdle(), (this.opts.lingerMs ?? 0) + 5).unref();
  }

  // Synchronous on purpose: the decision to exit and refusing new tasks happen in one tick, so
  // no Create can arrive in between.
  private freshClaims(): boolean {
    const ttl = this.opts.claimTtlMs ?? 30_000;
    let names: string[];
    try {
      names = readdirSync(this.opts.paths.pending);
    } catch {
      return false;
    }
    for (const n of names) {
      const st = statSync(join(this.opts.paths.pending, n), { throwIfNoEntry: false });
      if (st !== undefined && Date.now() - st.mtimeMs < ttl) return true;
    }
    return false;
  }

  /**
   * exitIfIdle exits the process when no task and no fresh claim is left and the server has
   * lingered long enough; otherwise does nothing. A clean exit removes every file the server
   * and the launcher made for it, the lock file last (the launcher re-takes a lock on a file
   * that was replaced meanwhile).
   */
  async exitIfIdle(opts: { force?: boolean } = {}): Promise<void> {
    if (this.exiting || this.taskCount() > 0) return;
    if (!opts.force && Date.now() - this.lastBusy < (this.opts.lingerMs ?? 0)) return;
    const fd = openSync(this.opts.paths.lock, 'a');
    try {
      const deadline = Date.now() + 5000;
      while (!libc().tryLock(fd)) {
        if (Date.now() > deadline) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      const lingering = !opts.force && Date.now() - this.lastBusy < (this.opts.lingerMs ?? 0);
      if (lingering || this.taskCount() > 0 || this.freshClaims()) return;
      this.exiting = true;
      await rm(this.opts.paths.pid, { force: true });
      await this.opts.server.close({ timeoutMs: 1000 });
      await rm(this.opts.socket, { force: true });
      await rm(this.opts.paths.pending, { recursive: true, force: true });
      await this.opts.publisher.close();
      this.opts.log('no tasks left, exiting');
      await rm(this.opts.paths.log, { force: true });
      await rm(this.opts.paths.lock, { force: true });
    } finally {
      closeSync(fd);
    }
    process.exit(0);
  }
}
