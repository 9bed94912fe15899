import { closeSync, existsSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { parseMemoryEvents } from './cgroup-v2-stats.js';
import { readCgroupFile } from './cgroup-paths.js';
import { libc } from './libc.js';

interface V1Entry {
  id: string;
  dir: string;
  eventFd: number;
  controlFd: number;
}

/**
 * OomWatcher reports containers whose cgroup hit an OOM kill.
 *
 * cgroup v1: an eventfd registered through `cgroup.event_control` against `memory.oom_control`;
 * all eventfds share one epoll instance waited on by a single libuv worker thread, so watching
 * fifty containers costs one thread, not fifty. cgroup v2: `fs.watch` on `memory.events`, firing
 * when its `oom_kill` counter grows.
 */
export class OomWatcher {
  private epfd = -1;
  private readonly v1 = new Map<number, V1Entry>();
  private readonly v2 = new Map<string, { watcher: FSWatcher; last: bigint }>();
  private looping = false;
  private closed = false;

  constructor(private readonly onOom: (id: string) => void) {}

  /** addV1 watches a v1 memory cgroup directory. */
  addV1(id: string, memoryDir: string): void {
    const controlFd = openSync(join(memoryDir, 'memory.oom_control'), 'r');
    const eventFd = libc().eventfd();
    writeFileSync(join(memoryDir, 'cgroup.event_control'), `${eventFd} ${controlFd}`);
    if (this.epfd < 0) this.epfd = libc().epollCreate();
    libc().epollAdd(this.epfd, eventFd);
    this.v1.set(eventFd, { id, dir: memoryDir, eventFd, controlFd });
    void this.loop();
  }

  /** addV2 watches a v2 cgroup directory's `memory.events`. */
  async addV2(id: string, dir: string): Promise<void> {
    const file = join(dir, 'memory.events');
    const last = BigInt(parseMemoryEvents(await readCgroupFile(dir, 'memory.events')).oomKill);
    const entry = { watcher: watch(file, () => void this.checkV2(id, dir)), last };
    entry.watcher.on('error', () => this.remove(id));
    this.v2.set(id, entry);
  }

  /** remove stops watching `id`. */
  remove(id: string): void {
    for (const [fd, e] of this.v1) if (e.id === id) this.dropV1(fd);
    const w = this.v2.get(id);
    if (w !== undefined) {
      w.watcher.close();
      this.v2.delete(id);
    }
  }

  /** close stops watching everything. */
  close(): void {
    this.closed = true;
    for (const fd of [...this.v1.keys()]) this.dropV1(fd);
    for (const id of [...this.v2.keys()]) this.remove(id);
  }

  private async checkV2(id: string, dir: string): Promise<void> {
    const entry = this.v2.get(id);
    if (entry === undefined) return;
    const now = BigInt(parseMemoryEvents(await readCgroupFile(dir, 'memory.events')).oomKill);
    if (now > entry.last) {
      entry.last = now;
      this.onOom(id);
    }
  }

  private dropV1(fd: number): void {
    const e = this.v1.get(fd);
    if (e === undefined) return;
    this.v1.delete(fd);
    // Closing the eventfd removes it from the epoll set too.
    closeSync(e.eventFd);
    closeSync(e.controlFd);
  }

  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      while (!this.closed && this.v1.size > 0) {
        const ready = await libc().epollWaitAsync(this.epfd, 1000);
        for (const fd of ready) {
          const e = this.v1.get(fd);
          if (e === undefined) continue;
          try {
            readSync(fd, Buffer.alloc(8));
          } catch {
            continue;
          }
          // The eventfd also fires when the cgroup is removed; that is no OOM.
          if (!existsSync(e.dir)) this.dropV1(fd);
          else this.onOom(e.id);
        }
      }
    } finally {
      this.looping = false;
    }
  }
}
