import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CTRD_LAUNCHER, ctrdEnv, ctrdNodeFlags } from '@ctrd/daemon/launcher';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, findBusybox, writeOciArchive } from '@ctrd/images/fixtures';

/** TOP is the repository root. */
export const TOP = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** CTRD and CTRCTL are the built binaries. */
export const CTRD = CTRD_LAUNCHER;
export const CTRCTL = join(TOP, 'packages', 'cli', 'bundle', 'ctrctl.js');

/** RunResult is a finished command. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** run runs a command to completion. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { input: opts.input, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? (r.error ? String(r.error) : '') };
}

/** which returns the path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** missingTool returns a skip reason when a required executable is absent. */
export function missingTool(...names: string[]): string | undefined {
  const absent = names.filter((n) => !which(n));
  return absent.length ? `${absent.join(', ')} not installed (scripts/setup.mjs installs it)` : undefined;
}

/** notRoot returns a skip reason when the tests do not run as root. */
export function notRoot(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'needs root';
}

function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * NO_AUTO_GC is config for a daemon whose tests hold objects no GC root references (ctr's
 * `content ingest` and `snapshots view` take no lease and set no root label, in containerd as
 * here): no collection runs on its own — the start-up one is put off an hour, mutations never
 * trigger one and deletions only past a threshold no test reaches. `--sync` deletes still collect.
 */
export const NO_AUTO_GC = '[plugins."io.containerd.gc.v1.scheduler"]\nstartup_delay = "1h"\nmutation_threshold = 0\ndeletion_threshold = 1000000\n';

/** DaemonOptions shape a test daemon. */
export interface TestDaemonOptions {
  /** extra TOML appended to the generated config. */
  toml?: string;
  /** extra keys of its `[grpc]` table. */
  grpcToml?: string;
  /** extra arguments for ctrd. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** wait for the socket (default true). */
  wait?: boolean;
}

/**
 * TestDaemon is a ctrd started from a temporary config with its own root, state and socket,
 * stopped (and its directory removed) by `stop()`.
 */
export class TestDaemon {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly address: string;
  readonly configPath: string;
  proc?: ChildProcess;
  output = '';
  exit?: Promise<number | null>;

  private constructor(dir: string) {
    this.dir = dir;
    this.root = join(dir, 'root');
    this.state = join(dir, 'state');
    this.address = join(dir, 'ctrd.sock');
    this.configPath = join(dir, 'config.toml');
  }

  /** create writes the config; `start` boots it. */
  static async create(opts: TestDaemonOptions = {}): Promise<TestDaemon> {
    const d = new TestDaemon(await mkdtemp(join(tmpdir(), 'ctrd-test-')));
    const toml = `version = 2\nroot = ${JSON.stringify(d.root)}\nstate = ${JSON.stringify(d.state)}\n${opts.toml ?? ''}\n[grpc]\naddress = ${JSON.stringify(d.address)}\n${opts.grpcToml ?? ''}\n[debug]\nlevel = "debug"\n`;
    await writeFile(d.configPath, toml);
    return d;
  }

  /** start creates and boots a daemon, waiting until its socket answers. */
  static async start(opts: TestDaemonOptions = {}): Promise<TestDaemon> {
    const d = await TestDaemon.create(opts);
    await d.boot(opts);
    return d;
  }

  /** boot starts the ctrd process for this config. */
  async boot(opts: TestDaemonOptions = {}): Promise<void> {
    const proc = spawn(process.execPath, [...ctrdNodeFlags(), CTRD, '--config', this.configPath, ...(opts.args ?? [])], {
      env: ctrdEnv(CTRD, { ...process.env, ...opts.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stdout!.on('data', (b) => (this.output += b));
    proc.stderr!.on('data', (b) => (this.output += b));
    this.exit = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    if (opts.wait === false) return;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`ctrd exited with ${proc.exitCode}:\n${this.output}`);
      if (await listening(this.address)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`ctrd did not start within 20 s:\n${this.output}`);
  }

  /** ctr runs containerd's ctr against this daemon. */
  ctr(args: string[], opts: { input?: string | Buffer; namespace?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
    const ns = opts.namespace ? ['--namespace', opts.namespace] : [];
    return run('ctr', ['--address', this.address, ...ns, ...args], { input: opts.input, env: opts.env });
  }

  /** ctrctl runs our client against this daemon, as a program (through its first line). */
  ctrctl(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): RunResult {
    return run(CTRCTL, ['--address', this.address, ...args], { input: opts.input, env: opts.env });
  }

  /** stop sends SIGTERM (or `signal`), waits for exit and returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc?.exitCode ?? null;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000);
    const code = await this.exit!;
    clearTimeout(timer);
    return code;
  }

  /** dispose stops the daemon and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    spawnSync('sh', ['-c', `grep -o ' ${this.dir}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** pidsMatching lists the processes whose command line (NUL separators read as spaces) passes `test`. */
export function pidsMatching(test: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (test(readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' '))) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** shimServerPids lists the ctrd shim servers (`io.containerd.ctrd.v1`) serving the daemon at `address`. */
export function shimServerPids(address: string): number[] {
  return pidsMatching((c) => c.includes('shim-server') && c.includes(` -address ${address} `));
}

/** rssKiB reads a process's resident set size (VmRSS) in KiB; 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** waitFor polls `cond` every 50 ms until it holds, failing with `what` after `ms` (default 15 s). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * waitReady waits until `ctr version` answers on the daemon (up to `ms`, default 60 s): on a busy
 * machine a daemon can accept connections well before its services answer.
 */
export async function waitReady(d: TestDaemon, ms = 60_000): Promise<void> {
  await waitFor('ctrd to answer ctr version', () => d.ctr(['version']).code === 0, ms);
}

/** busyboxMissing is a skip reason when the static busybox the image fixtures are built from is absent. */
export function busyboxMissing(): string | undefined {
  try {
    findBusybox();
    return undefined;
  } catch {
    return 'busybox-static not installed';
  }
}

/** mustSucceed asserts that a command exited 0 (showing its stderr otherwise) and returns its stdout. */
export function mustSucceed(r: RunResult): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/**
 * writeBusyboxArchive builds the single-layer busybox image fixture under the name `name` and
 * writes it as an OCI archive to `<dir>/busybox.tar`, whose path it returns.
 */
export async function writeBusyboxArchive(dir: string, name: string): Promise<string> {
  const store = await createLocalStore(join(dir, 'store'));
  const img = await buildBusyboxImage(store, { layers: 'single', name });
  const archive = join(dir, 'busybox.tar');
  await writeOciArchive(store, img, archive, { name });
  return archive;
}
