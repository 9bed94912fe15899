import { koffi } from '@ctrd/mount';

/** SpawnRequest describes a process for {@link posixSpawn}. */
export interface SpawnRequest {
  /**
   * fds that become the child's stdin, stdout and stderr, then its fd 3 and on when there are more;
   * nothing else is inherited.
   */
  stdio: readonly [number, number, number, ...number[]];
  /** the child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** the child's working directory (default: this process's). */
  cwd?: string;
}

type Ptr = Buffer;

interface Bound {
  spawnp(pid: number[], file: string, actions: Ptr, attr: Ptr, argv: (string | null)[], envp: (string | null)[]): number;
  /** posix_spawnp with the environment as a `char **` pointer: `environ`'s current value. */
  spawnpEnviron(pid: number[], file: string, actions: Ptr, attr: Ptr, argv: (string | null)[], envp: unknown): number;
  /** the address of the process's `environ` variable, undefined when it cannot be found. */
  environ: unknown;
  actionsInit(a: Ptr): number;
  actionsDestroy(a: Ptr): number;
  addDup2(a: Ptr, fd: number, target: number): number;
  addCloseFrom(a: Ptr, from: number): number;
  addChdir(a: Ptr, dir: string): number;
  attrInit(a: Ptr): number;
  attrDestroy(a: Ptr): number;
  setFlags(a: Ptr, flags: number): number;
  setSigDefault(a: Ptr, set: Ptr): number;
  setSigMask(a: Ptr, set: Ptr): number;
  sigemptyset(set: Ptr): number;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
// Larger than glibc's posix_spawn_file_actions_t (80 bytes), posix_spawnattr_t (336) and sigset_t (128).
const ACTIONS_SIZE = 256;
const ATTR_SIZE = 512;
const SIGSET_SIZE = 128;

let bound: Bound | null | undefined;

function bind(): Bound | null {
  try {
    const lib = koffi().load('libc.so.6');
    return {
      spawnp: lib.func('int posix_spawnp(_Out_ int *, const char *, void *, void *, const char **, const char **)'),
      spawnpEnviron: lib.func('int posix_spawnp(_Out_ int *, const char *, void *, void *, const char **, void *)'),
      environ: environOf(),
      actionsInit: lib.func('int posix_spawn_file_actions_init(void *)'),
      actionsDestroy: lib.func('int posix_spawn_file_actions_destroy(void *)'),
      addDup2: lib.func('int posix_spawn_file_actions_adddup2(void *, int, int)'),
      addCloseFrom: lib.func('int posix_spawn_file_actions_addclosefrom_np(void *, int)'),
      addChdir: lib.func('int posix_spawn_file_actions_addchdir_np(void *, const char *)'),
      attrInit: lib.func('int posix_spawnattr_init(void *)'),
      attrDestroy: lib.func('int posix_spawnattr_destroy(void *)'),
      setFlags: lib.func('int posix_spawnattr_setflags(void *, short)'),
      setSigDefault: lib.func('int posix_spawnattr_setsigdefault(void *, void *)'),
      setSigMask: lib.func('int posix_spawnattr_setsigmask(void *, void *)'),
      sigemptyset: lib.func('int sigemptyset(void *)'),
    } as unknown as Bound;
  } catch {
    // A libc without posix_spawn_file_actions_addclosefrom_np (glibc < 2.34) or chdir_np.
    return null;
  }
}

/**
 * environOf finds `environ`, the environment Node's `process.env` reads and writes (through
 * getenv and setenv). It is looked up in the whole process, not in libc alone: node's executable
 * refers to `environ`, so the live variable is the executable's copy, and libc's own symbol stays
 * NULL.
 */
function environOf(): unknown {
  try {
    return koffi().load(null).symbol('environ');
  } catch {
    return undefined;
  }
}

/** posixSpawnAvailable reports whether {@link posixSpawn} can be used on this system. */
export function posixSpawnAvailable(): boolean {
  if (bound === undefined) bound = bind();
  return bound !== null;
}

function envEntries(env: NodeJS.ProcessEnv): (string | null)[] {
  const entries: (string | null)[] = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) entries.push(`${k}=${v}`);
  entries.push(null);
  return entries;
}

/**
 * posixSpawn starts `file` (looked up in PATH when it has no slash) with `args` through glibc's
 * posix_spawnp and returns its pid. The child shares this process's memory until it execs
 * (vfork), so starting it costs the same whatever this process's size, where Node's own spawn
 * copies the page tables of the whole process first. The child gets `stdio` as fds 0, 1, 2 (and
 * on) and no other descriptor, every signal at its default disposition and none blocked, as libuv does.
 * The caller collects its exit with `waitpid`: Node knows nothing of this child. Throws an error
 * with `code` (e.g. `ENOENT`) when the program cannot be started.
 */
export function posixSpawn(file: string, args: readonly string[], req: SpawnRequest): number {
  if (!posixSpawnAvailable()) throw new Error('posix_spawn is not available');
  const b = bound!;
  const actions = Buffer.alloc(ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  const all = Buffer.alloc(SIGSET_SIZE);
  const none = Buffer.alloc(SIGSET_SIZE);
  b.actionsInit(actions);
  b.attrInit(attr);
  try {
    // Each source goes to a scratch fd above all of them first, so a source that is itself one
    // of the targets is not overwritten before it is used; closefrom then drops the scratch fds.
    const n = req.stdio.length;
    const base = Math.max(n - 1, ...req.stdio) + 1;
    const check = (errno: number): void => {
      if (errno !== 0) throw spawnError(file, errno);
    };
    req.stdio.forEach((fd, i) => check(b.addDup2(actions, fd, base + i)));
    for (let i = 0; i < n; i++) check(b.addDup2(actions, base + i, i));
    check(b.addCloseFrom(actions, n));
    if (req.cwd !== undefined) check(b.addChdir(actions, req.cwd));
    // Every bit set, not sigfillset: that leaves out glibc's internal signals, which the child
    // would then exec with ignored, and ignored signals outlive exec into the container.
    all.fill(0xff);
    b.sigemptyset(none);
    b.setSigDefault(attr, all);
    b.setSigMask(attr, none);
    b.setFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    const pid = [0];
    const argv = [file, ...args, null];
    if (req.env === undefined && b.environ !== undefined) {
      // This process's environment as it stands: building it from `process.env` read every
      // variable through a getenv and cost ~0.3 ms per runc command with a few dozen of them.
      check(b.spawnpEnviron(pid, file, actions, attr, argv, koffi().decode(b.environ, 'void *')));
    } else {
      check(b.spawnp(pid, file, actions, attr, argv, envEntries(req.env ?? process.env)));
    }
    return pid[0]!;
  } finally {
    b.actionsDestroy(actions);
    b.attrDestroy(attr);
  }
}

const ERRNO_CODES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 8: 'ENOEXEC', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 20: 'ENOTDIR', 22: 'EINVAL',
};

function spawnError(file: string, errno: number): NodeJS.ErrnoException {
  const code = ERRNO_CODES[errno] ?? `errno ${errno}`;
  const err = new Error(`spawn ${file} ${code}`) as NodeJS.ErrnoException;
  err.errno = -errno;
  err.code = code;
  err.syscall = `spawn ${file}`;
  err.path = file;
  return err;
}
