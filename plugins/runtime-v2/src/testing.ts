/**
 * Fixtures shared by this package's tests: a busybox root filesystem, a minimal OCI spec made
 * with `runc spec`, and skip reasons for machines that cannot run containers. Not public API.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** RUNC_SHIM is containerd's runc shim, the reference peer. */
export const RUNC_SHIM = '/usr/bin/containerd-shim-runc-v2';
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = ['sh', 'sleep', 'echo', 'true', 'false', 'cat', 'ls', 'ps', 'kill', 'id'];

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function staticBusybox(): string | undefined {
  for (const p of BUSYBOX) {
    if (!existsSync(p)) continue;
    try {
      if (execFileSync('file', ['-L', p], { encoding: 'utf8' }).includes('statically linked')) return p;
    } catch {
      return p;
    }
  }
  return undefined;
}

/** containerSkipReason says why containers cannot run here, or undefined when they can. */
export function containerSkipReason(shim = RUNC_SHIM): string | undefined {
  if (process.getuid?.() !== 0) return 'running containers needs root';
  if (!existsSync(shim)) return `${shim} is not installed`;
  if (onPath('runc') === undefined) return 'runc is not installed';
  if (staticBusybox() === undefined) return 'a static busybox is not installed (apt-get install busybox-static)';
  return undefined;
}

/** Fixture is a scratch area with a busybox rootfs directory and spec builder. */
export interface Fixture {
  dir: string;
  /** a directory holding the busybox root filesystem, bind-mounted as a task's rootfs. */
  rootfs: string;
  stateDir: string;
  rootDir: string;
  /** spec returns config.json bytes running `args`, in a cgroup of its own. */
  spec(args: string[], edit?: (spec: Record<string, any>) => void): Uint8Array;
  /** dispose kills whatever the tests left running in namespace `ns`, unmounts and removes everything. */
  dispose(ns?: string): void;
}

let baseSpec: Record<string, any> | undefined;
let seq = 0;

function forceCleanup(nsDir: string, ns: string): void {
  if (!existsSync(nsDir)) return;
  for (const id of readdirSync(nsDir)) {
    const bundle = join(nsDir, id);
    try {
      process.kill(Number(readFileSync(join(bundle, 'shim.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // No shim, or already gone.
    }
    // containerd's runc shim and ours keep runc state under different roots.
    for (const root of ['/run/containerd/runc', '/run/ctrd/runc']) {
      try {
        execFileSync(onPath('runc')!, ['--root', `${root}/${ns}`, 'delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // Not known to runc.
      }
    }
    try {
      execFileSync('umount', ['-l', join(bundle, 'rootfs')], { stdio: 'ignore' });
    } catch {
      // Not mounted.
    }
  }
  for (const root of ['/run/containerd/runc', '/run/ctrd/runc']) {
    try {
      rmdirSync(`${root}/${ns}`);
    } catch {
      // Absent, or in use by someone else.
    }
  }
}

/** fixture creates the scratch area (under /tmp with short names: socket paths are limited). */
export function fixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'rtv2-'));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d));
  copyFileSync(staticBusybox()!, join(rootfs, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  if (baseSpec === undefined) {
    const tmp = mkdtempSync(join(tmpdir(), 'rtv2-spec-'));
    execFileSync(onPath('runc')!, ['spec', '--bundle', tmp]);
    baseSpec = JSON.parse(readFileSync(join(tmp, 'config.json'), 'utf8'));
    rmSync(tmp, { recursive: true, force: true });
  }
  return {
    dir,
    rootfs,
    stateDir: join(dir, 'state'),
    rootDir: join(dir, 'root'),
    spec(args, edit) {
      const spec = structuredClone(baseSpec!);
      spec['process'].args = args;
      spec['process'].terminal = false;
      spec['process'].env = ['PATH=/bin'];
      spec['root'] = { path: 'rootfs', readonly: false };
      // runc defaults the cgroup to /<id>, shared by same-named containers of other namespaces.
      spec['linux'].cgroupsPath = `/${basename(dir)}-${++seq}`;
      edit?.(spec);
      return new TextEncoder().encode(JSON.stringify(spec));
    },
    dispose(ns) {
      if (ns !== undefined) forceCleanup(join(dir, 'state', ns), ns);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * shimServerStandIn starts a process that passes for the shim server of `socket`: its arguments
 * name the socket, as the real server's do. The caller kills it.
 */
export function shimServerStandIn(socket: string): ChildProcess {
  return spawn('sh', ['-c', 'sleep 60; :', 'shim-server', '-socket', socket], { stdio: 'ignore' });
}
