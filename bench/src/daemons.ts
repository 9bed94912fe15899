import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CTRD_LAUNCHER, ctrdCodeCacheFile, ctrdEnv, ctrdNodeFlags } from '@ctrd/daemon/launcher';
import { pidsMatching } from './proc.js';

/** TOP is the repository root. */
export const TOP = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** CTRD is the bundled ctrd entry point (the package's `bin`). */
export const CTRD = CTRD_LAUNCHER;
/** CTRCTL is the bundled ctrctl entry point (the package's `bin`). */
export const CTRCTL = join(TOP, 'packages', 'cli', 'bundle', 'ctrctl.js');

/** DaemonKind names the two daemons compared. */
export type DaemonKind = 'containerd' | 'ctrd';

/** CtrResult is a finished `ctr` command with its wall time. */
export interface CtrResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** listening reports whether something accepts connections on the unix socket `path`. */
export function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** AnswerOptions say what {@link waitForAnswer} waits for and how its errors name the process. */
export interface AnswerOptions {
  what: string;
  /** appended to error messages (where to look). */
  hint?: string;
  /** wait until `ctr version` answers, not only until the socket accepts connections. */
  version: boolean;
  /** the `ctr` command that must answer instead of `version` (with `version` set). */
  command?: string[];
  /** the namespace `ctr version` runs in (ctr's default otherwise). */
  namespace?: string;
}

/**
 * waitForAnswer polls `address` every 5 ms until something accepts connections there and, with
 * `version`, `ctr version` answers; it fails when `proc` exits first or after 30 s.
 */
export async function waitForAnswer(proc: ChildProcess, address: string, o: AnswerOptions): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${o.what} exited with ${proc.exitCode}${o.hint ?? ''}`);
    const ns = o.namespace ? ['--namespace', o.namespace] : [];
    if ((await listening(address)) && (!o.version || timed('ctr', ['--address', address, ...ns, ...(o.command ?? ['version'])]).code === 0)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${o.what} did not answer within 30 s${o.hint ?? ''}`);
}

/** CtrOptions are the stdin, stdout and time limit of one `ctr` run (120 s by default). */
export interface CtrOptions {
  input?: Buffer;
  /** the command's environment (the harness's own by default). */
  env?: NodeJS.ProcessEnv;
  stdinFd?: number;
  discardStdout?: boolean;
  timeoutMs?: number;
  /** the namespace for a daemon's `ctr` (its own by default); `timed` ignores it. */
  namespace?: string;
}

/** timed runs a command to completion and measures its wall time in milliseconds. */
export function timed(cmd: string, args: string[], opts: CtrOptions = {}): CtrResult {
  const stdin = opts.stdinFd ?? (opts.input ? 'pipe' : 'ignore');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    input: opts.input,
    env: opts.env ?? process.env,
    stdio: [stdin, opts.discardStdout ? 'ignore' : 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { code: r.status, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? (r.error ? String(r.error) : ''), ms };
}

/**
 * BenchDaemon is one daemon under test: its own directory (root, state, socket, log) below a
 * shared parent on the same disk, its own namespace, and `ctr` pointed at its socket.
 */
export class BenchDaemon {
  readonly kind: DaemonKind;
  readonly dir: string;
  /** the daemon's own socket. */
  readonly socket: string;
  #route: string | undefined;
  readonly namespace: string;
  /** extra options for node before ctrd's entry point (ctrd only), e.g. `--cpu-prof`. */
  readonly nodeArgs: readonly string[];
  /** ctrd's entry point: the package's bundled launcher unless another build's is given. */
  readonly entry: string;
  proc?: ChildProcess;
  #exit?: Promise<void>;

  private constructor(kind: DaemonKind, dir: string, nodeArgs: readonly string[], entry: string) {
    this.kind = kind;
    this.dir = dir;
    this.nodeArgs = nodeArgs;
    this.entry = entry;
    this.socket = join(dir, `${kind}.sock`);
    // The directory's unique suffix keeps two runs on one host apart: runc's state and the
    // cgroups are named by namespace and container id, whatever the daemon's root.
    this.namespace = `bench-${basename(dir)}`;
  }

  /**
   * create makes the daemon's directory and config below `parent`; `start` boots it. `nodeArgs`
   * go to node before ctrd's entry point; `entry` starts another build of ctrd (a copy of
   * packages/daemon/bundle, see start-ab).
   */
  static async create(kind: DaemonKind, parent: string, opts: { nodeArgs?: readonly string[]; entry?: string } = {}): Promise<BenchDaemon> {
    const d = new BenchDaemon(kind, await mkdtemp(join(parent, `${kind}-`)), opts.nodeArgs ?? [], opts.entry ?? CTRD);
    const root = JSON.stringify(join(d.dir, 'root'));
    const state = JSON.stringify(join(d.dir, 'state'));
    const address = JSON.stringify(d.socket);
    const toml =
      kind === 'containerd'
        ? `version = 2\nroot = ${root}\nstate = ${state}\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\naddress = ${address}\n[debug]\nlevel = "info"\n`
        : `version = 2\nroot = ${root}\nstate = ${state}\n[grpc]\naddress = ${address}\n[debug]\nlevel = "info"\n`;
    await mkdir(d.dir, { recursive: true });
    await writeFile(d.configPath, toml);
    return d;
  }

  /** address is the socket clients dial: the daemon's own, or a proxy in front of it ({@link routeThrough}). */
  get address(): string {
    return this.#route ?? this.socket;
  }

  /** routeThrough sends the clients of the workloads to `path` (a proxy of the daemon's socket); undefined ends it. */
  routeThrough(path: string | undefined): void {
    this.#route = path;
  }

  get configPath(): string {
    return join(this.dir, 'config.toml');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /**
   * start boots the daemon and resolves with the milliseconds until `ctr version` (or the `ctr`
   * command given) answers.
   */
  async start(command?: string[]): Promise<number> {
    // The log goes to a file: a pipe the benchmark loop does not drain would stall the daemon.
    const log = openSync(join(this.dir, 'daemon.log'), 'a');
    const [cmd, args] = this.kind === 'containerd' ? ['containerd', ['--config', this.configPath]] : [process.execPath, [...ctrdNodeFlags(this.entry), ...this.nodeArgs, this.entry, '--config', this.configPath]];
    const t0 = process.hrtime.bigint();
    // Its own process group: a Ctrl-C reaches the harness, which stops the daemons in order.
    const env = this.kind === 'containerd' ? process.env : ctrdEnv(this.entry);
    const proc = spawn(cmd, args, { stdio: ['ignore', log, log], detached: true, env });
    closeSync(log);
    this.proc = proc;
    this.#exit = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitForAnswer(proc, this.socket, { what: this.kind, hint: `; see ${join(this.dir, 'daemon.log')}`, version: true, command, namespace: this.namespace });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }

  /** ctr runs containerd's ctr against this daemon in its namespace. */
  ctr(args: string[], opts: CtrOptions = {}): CtrResult {
    return timed('ctr', ['--address', this.address, '--namespace', opts.namespace ?? this.namespace, ...args], opts);
  }

  /** must runs ctr and throws on a non-zero exit. */
  must(args: string[], opts: CtrOptions = {}): CtrResult {
    const r = this.ctr(args, opts);
    if (r.code !== 0) throw new Error(`${this.kind}: ctr${opts.namespace ? ` -n ${opts.namespace}` : ''} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    return r;
  }

  /**
   * collectGarbage runs a synchronous garbage collection (the lease `id` created and removed with
   * --sync): what was deleted leaves the disk now, not when the daemon's scheduler gets to it.
   */
  collectGarbage(id: string): void {
    this.must(['leases', 'create', '--id', id]);
    this.must(['leases', 'rm', '--sync', id]);
  }

  /** shimPids lists the shim processes serving this daemon (their command line names its socket). */
  shimPids(): number[] {
    const marker = this.kind === 'containerd' ? 'containerd-shim-runc-v2' : 'shim-server';
    return pidsMatching((cmdline) => cmdline.includes(marker) && cmdline.includes(this.dir));
  }

  /** killTasks force-stops every task and removes every container in the daemon's namespace. */
  killTasks(): void {
    const ids = this.ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean);
    for (const id of ids) this.ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
    for (const id of ids) {
      for (let i = 0; i < 100; i++) {
        const r = this.ctr(['tasks', 'delete', id]);
        if (r.code === 0 || /not found/.test(r.stderr)) break;
        spawnSync('sleep', ['0.05']);
      }
      this.ctr(['containers', 'rm', id]);
    }
  }

  /** stop ends the daemon (SIGTERM, SIGKILL after 10 s) and any shim of it left behind. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await this.#exit;
      clearTimeout(timer);
    }
    for (const pid of this.shimPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** dispose stops the daemon, unmounts what it left mounted and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    unmountBelow(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * ensureCodeCache makes sure this build of ctrd has its V8 code cache before anything is measured.
 * The first daemon after a build compiles its bundle from source, writes the cache 1.5 s later
 * and then holds ~5 MB more while idle (bench/README.md, "The young generation's floor, halved").
 * Without this, the harness's own daemon could be that one, and `idle-rss` and the start rows
 * would measure a start that only follows a build. It starts ctrd once in a directory of its
 * own, waits for the cache file, and stops it. Nothing to do when the cache is off
 * (`CTRD_CODE_CACHE=0`) or already there.
 */
export async function ensureCodeCache(parent: string, log: (msg: string) => void): Promise<void> {
  const file = ctrdCodeCacheFile(CTRD);
  if (process.env.CTRD_CODE_CACHE === '0' || existsSync(file)) return;
  const d = await BenchDaemon.create('ctrd', parent);
  try {
    await d.start();
    for (const deadline = Date.now() + 10_000; !existsSync(file); await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`ctrd wrote no code cache (${file}) within 10 s; see ${join(d.dir, 'daemon.log')}`);
    }
    log(`ctrd's code cache for this build written by a first start (${basename(file)})`);
  } finally {
    await d.dispose();
  }
}

/** unmountBelow lazily unmounts every mount point under `dir`, deepest first. */
export function unmountBelow(dir: string): void {
  spawnSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
}
