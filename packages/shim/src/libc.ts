import { koffi } from '@ctrd/mount';

/**
 * Libc is the handful of Linux calls Node does not offer and the shim needs: the child
 * subreaper flag, `waitpid` for processes libuv did not spawn, fd passing (`recvmsg` with
 * SCM_RIGHTS), eventfd and epoll for cgroup v1 OOM notices, `pipe2`, terminal resizing, `flock`,
 * `umount2` and SO_PEERCRED. Bound lazily through koffi on first use.
 */
export interface Libc {
  /** setChildSubreaper marks this process as a child subreaper (PR_SET_CHILD_SUBREAPER). */
  setChildSubreaper(): void;
  /** waitpid reaps `pid` without blocking: its raw wait status, or undefined while it runs or is not ours. */
  waitpid(pid: number): number | undefined;
  /**
   * exitedChild names a child that has exited and not been reaped, leaving it unreaped
   * (`waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT)`): its pid, or 0 when no child has exited or
   * there is no child at all.
   */
  exitedChild(): number;
  /** receiveFd reads one message from a connected unix socket and returns the fd it carried. */
  receiveFd(socketFd: number): number;
  /** pipe returns `[readFd, writeFd]` of a new pipe (close-on-exec). */
  pipe(): [number, number];
  /** eventfd creates an eventfd (close-on-exec, non-blocking). */
  eventfd(): number;
  /** epollCreate creates an epoll instance. */
  epollCreate(): number;
  /** epollAdd watches `fd` for readability, tagging events with `fd`. */
  epollAdd(epfd: number, fd: number): void;
  /** epollWaitAsync waits on a libuv worker thread; resolves with the ready fds. */
  epollWaitAsync(epfd: number, timeoutMs: number): Promise<number[]>;
  /** resizePty sets a terminal's window size (TIOCSWINSZ). */
  resizePty(fd: number, width: number, height: number): void;
  /** tryLock takes an exclusive `flock` on `fd` without blocking; false when someone else holds it. */
  tryLock(fd: number): boolean;
  /** unmount detaches the mount at `target`; false when nothing is mounted there. */
  unmount(target: string): boolean;
  /** peerCredentials returns the pid, uid and gid of the process at the other end of a unix socket (SO_PEERCRED). */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const P_ALL = 0;
/** sizeof(siginfo_t); si_pid sits at byte 16 on every 64-bit Linux ABI. */
const SIGINFO_SIZE = 128;
const SI_PID = 16;
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;
const TIOCSWINSZ = 0x5414;
const LOCK_EX = 2;
const LOCK_NB = 4;
const SCM_RIGHTS = 1;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const EINTR = 4;
const EINVAL = 22;
const ENOENT = 2;
const MAX_EVENTS = 64;
const EPOLL_EVENT_SIZE = 12;

function errnoError(call: string): Error {
  const errno = koffi().errno();
  const err = new Error(`${call}: errno ${errno}`) as NodeJS.ErrnoException;
  err.errno = errno;
  return err;
}

function bind(): Libc {
  const lib = koffi().load('libc.so.6');
  const iovec = koffi().struct('ctrd_iovec', { base: 'void *', len: 'size_t' });
  // Registered by name for recvmsg's signature below.
  koffi().struct('ctrd_msghdr', {
    name: 'void *',
    namelen: 'uint32',
    iov: koffi().pointer(iovec),
    iovlen: 'size_t',
    control: 'void *',
    controllen: 'size_t',
    flags: 'int',
  });
  const prctl = lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  const waitpid = lib.func('int waitpid(int, int *, int)');
  const waitid = lib.func('int waitid(int, int, void *, int)');
  const recvmsg = lib.func('intptr_t recvmsg(int, ctrd_msghdr *, int)');
  const pipe2 = lib.func('int pipe2(_Out_ int *, int)');
  const eventfd = lib.func('int eventfd(unsigned int, int)');
  const epollCreate1 = lib.func('int epoll_create1(int)');
  const epollCtl = lib.func('int epoll_ctl(int, int, int, void *)');
  const epollWait = lib.func('int epoll_wait(int, void *, int, int)');
  const ioctl = lib.func('int ioctl(int, unsigned long, void *)');
  const flock = lib.func('int flock(int, int)');
  const umount2 = lib.func('int umount2(const char *, int)');
  const getsockopt = lib.func('int getsockopt(int, int, int, void *, _Inout_ uint32_t *)');
  // Reused by every call: the shim's JavaScript runs on one thread.
  const waitStatus = new Int32Array(1);
  const siginfo = Buffer.alloc(SIGINFO_SIZE);

  return {
    setChildSubreaper() {
      if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) throw errnoError('prctl(PR_SET_CHILD_SUBREAPER)');
    },
    waitpid(pid) {
      for (;;) {
        const r = waitpid(pid, waitStatus, WNOHANG) as number;
        if (r > 0) return waitStatus[0];
        if (r === 0) return undefined;
        if (koffi().errno() !== EINTR) return undefined;
      }
    },
    exitedChild() {
      for (;;) {
        // Linux clears si_pid when no child is waitable; cleared here too, as POSIX asks.
        siginfo.writeInt32LE(0, SI_PID);
        if ((waitid(P_ALL, 0, siginfo, WEXITED | WNOHANG | WNOWAIT) as number) === 0) return siginfo.readInt32LE(SI_PID);
        if (koffi().errno() !== EINTR) return 0;
      }
    },
    receiveFd(socketFd) {
      const data = Buffer.alloc(64);
      const control = Buffer.alloc(64);
      const n = recvmsg(socketFd, {
        name: null, namelen: 0, iov: [{ base: data, len: data.length }], iovlen: 1,
        control, controllen: control.length, flags: 0,
      }, 0) as number | bigint;
      if (Number(n) < 0) throw errnoError('recvmsg');
      if (control.readInt32LE(8) !== SOL_SOCKET || control.readInt32LE(12) !== SCM_RIGHTS) {
        throw new Error('recvmsg: no file descriptor received');
      }
      return control.readInt32LE(16);
    },
    pipe() {
      const fds = new Int32Array(2);
      if (pipe2(fds, O_CLOEXEC) !== 0) throw errnoError('pipe2');
      return [fds[0], fds[1]];
    },
    eventfd() {
      const fd = eventfd(0, O_CLOEXEC | O_NONBLOCK) as number;
      if (fd < 0) throw errnoError('eventfd');
      return fd;
    },
    epollCreate() {
      const fd = epollCreate1(O_CLOEXEC) as number;
      if (fd < 0) throw errnoError('epoll_create1');
      return fd;
    },
    epollAdd(epfd, fd) {
      const ev = Buffer.alloc(EPOLL_EVENT_SIZE);
      ev.writeUInt32LE(EPOLLIN, 0);
      ev.writeInt32LE(fd, 4);
      if (epollCtl(epfd, EPOLL_CTL_ADD, fd, ev) !== 0) throw errnoError('epoll_ctl');
    },
    epollWaitAsync(epfd, timeoutMs) {
      const events = Buffer.alloc(EPOLL_EVENT_SIZE * MAX_EVENTS);
      return new Promise((resolve, reject) => {
        epollWait.async(epfd, events, MAX_EVENTS, timeoutMs, (err: unknown, n: number) => {
          if (err) return reject(err);
          if (n < 0) return resolve([]);
          const fds: number[] = [];
          for (let i = 0; i < n; i++) fds.push(events.readInt32LE(i * EPOLL_EVENT_SIZE + 4));
          resolve(fds);
        });
      });
    },
    resizePty(fd, width, height) {
      const ws = Buffer.alloc(8);
      ws.writeUInt16LE(height, 0);
      ws.writeUInt16LE(width, 2);
      if (ioctl(fd, TIOCSWINSZ, ws) !== 0) throw errnoError('ioctl(TIOCSWINSZ)');
    },
    tryLock(fd) {
      return flock(fd, LOCK_EX | LOCK_NB) === 0;
    },
    unmount(target) {
      if (umount2(target, 0) === 0) return true;
      const errno = koffi().errno();
      if (errno === EINVAL || errno === ENOENT) return false;
      throw errnoError(`umount2 ${target}`);
    },
    peerCredentials(fd) {
      const ucred = Buffer.alloc(12);
      const len = [12];
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, len) !== 0) throw errnoError('getsockopt(SO_PEERCRED)');
      return { pid: ucred.readInt32LE(0), uid: ucred.readUInt32LE(4), gid: ucred.readUInt32LE(8) };
    },
  };
}

let bound: Libc | undefined;

/** libc returns the bound {@link Libc} calls (loaded once). */
export function libc(): Libc {
  bound ??= bind();
  return bound;
}
