import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CTRCTL, type RunResult, type TestDaemon } from '../harness.js';
import type { Rng } from './rng.js';

/** DaemonDied says a step stopped because the daemon died under it. */
export class DaemonDied extends Error {}

/** Env is what the steps work against. */
export interface Env {
  d: TestDaemon;
  /** the namespace holding the imported image for containers and tasks. */
  ns: string;
  image?: { ref: string; tar: string };
  /** a pullable reference on the fixture registry. */
  pullRef?: string;
  tasks: boolean;
  /** is the daemon alive? */
  alive(): boolean;
}

/** Step is one idempotent piece of workload: running it again after a crash completes it. */
export interface Step {
  name: string;
  run(env: Env): Promise<void>;
}

function exec(cmd: string, args: string[], alive: () => boolean, input?: Buffer): Promise<RunResult> {
  // ctr resumes an ingest by seeking its input, so data goes in as a file, not a pipe.
  let fd: number | undefined;
  if (input) {
    const path = join(tmpdir(), `ctrd-crash-input-${process.pid}-${seq++}`);
    writeFileSync(path, input);
    fd = openSync(path, 'r');
    unlinkSync(path);
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [fd ?? 'ignore', 'pipe', 'pipe'] });
    if (fd !== undefined) closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    // A client whose daemon died may wait for it to come back: stop it once the daemon is gone.
    const started = Date.now();
    const timer = setInterval(() => {
      if (!alive() || Date.now() - started > 120_000) child.kill('SIGKILL');
    }, 100);
    child.once('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let seq = 0;

// A client can see the connection drop before this process sees the daemon's exit.
async function diedSoon(env: Env): Promise<boolean> {
  for (let i = 0; i < 20 && env.alive(); i++) await new Promise((r) => setTimeout(r, 50));
  return !env.alive();
}
const TOLERATED = /already exists|not found|no such|does not exist/i;

/**
 * ctr runs containerd's ctr against the daemon without blocking the event loop. A failure while
 * the daemon is dead is {@link DaemonDied}; `tolerate` accepts failures meaning the work was
 * already done (or undone) by an earlier, interrupted run.
 */
export async function ctr(env: Env, ns: string, args: string[], opts: { input?: Buffer; tolerate?: boolean } = {}): Promise<RunResult> {
  if (!env.alive()) throw new DaemonDied(`ctr ${args.join(' ')}: daemon is not running`);
  const r = await exec('ctr', ['--address', env.d.address, '--namespace', ns, ...args], env.alive, opts.input);
  if (r.code === 0) return r;
  if (await diedSoon(env)) throw new DaemonDied(`ctr ${args.join(' ')}: daemon died`);
  if (opts.tolerate && TOLERATED.test(r.stderr)) return r;
  throw new Error(`ctr -n ${ns} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
}

async function ctrctl(env: Env, args: string[]): Promise<RunResult> {
  if (!env.alive()) throw new DaemonDied(`ctrctl ${args.join(' ')}: daemon is not running`);
  const r = await exec(CTRCTL, ['--address', env.d.address, ...args], env.alive);
  if (r.code === 0) return r;
  if (await diedSoon(env)) throw new DaemonDied(`ctrctl ${args.join(' ')}: daemon died`);
  throw new Error(`ctrctl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}${r.stdout.trim()}`);
}

/** ingestStep writes `size` seeded bytes through `ctr content ingest` (resumed when interrupted). */
export function ingestStep(tag: string, size: number, rng: Rng): Step {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) data.writeUInt32LE((rng.next() * 2 ** 32) >>> 0, Math.min(i, size - 4));
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  return {
    name: `ingest ${tag} (${size} bytes)`,
    run: async (env) => {
      await ctr(env, env.ns, ['content', 'ingest', '--expected-size', String(size), '--expected-digest', digest, `crash-${tag}`], { input: data, tolerate: true });
    },
  };
}

/** snapshotStep prepares, commits, stacks on and removes snapshots on one snapshotter. */
export function snapshotStep(tag: string, sn: string): Step {
  return {
    name: `snapshots ${tag} on ${sn}`,
    run: async (env) => {
      const s = (args: string[]) => ctr(env, env.ns, ['snapshots', '--snapshotter', sn, ...args], { tolerate: true });
      const committed = (await s(['ls'])).stdout.split('\n').some((l) => l.startsWith(`b-${tag} `));
      if (!committed) {
        await s(['prepare', `a-${tag}`]);
        await s(['commit', `b-${tag}`, `a-${tag}`]);
      }
      await s(['prepare', `c-${tag}`, `b-${tag}`]);
      await s(['rm', `c-${tag}`]);
      await s(['rm', `b-${tag}`]);
    },
  };
}

/** gcStep runs a synchronous collection by removing a lease with `--sync`. */
export function gcStep(tag: string): Step {
  return {
    name: `gc ${tag}`,
    run: async (env) => {
      await ctr(env, env.ns, ['leases', 'create', '--id', `l-${tag}`], { tolerate: true });
      await ctr(env, env.ns, ['leases', 'rm', '--sync', `l-${tag}`], { tolerate: true });
    },
  };
}

/** importStep imports the fixture image into a namespace of its own (unpacking it), then removes it with `--sync`. */
export function importStep(tag: string, sn: string): Step {
  return {
    name: `import ${tag} on ${sn}`,
    run: async (env) => {
      const ns = `${env.ns}-${tag}`;
      await ctr(env, ns, ['images', 'import', '--snapshotter', sn, env.image!.tar]);
      await ctr(env, ns, ['images', 'rm', '--sync', env.image!.ref], { tolerate: true });
    },
  };
}

/** pullStep pulls from the fixture registry with ctrctl (server-side transfer), then removes the image. */
export function pullStep(tag: string): Step {
  return {
    name: `pull ${tag}`,
    run: async (env) => {
      const ns = `${env.ns}-${tag}`;
      await ctrctl(env, ['-n', ns, 'pull', env.pullRef!]);
      await ctr(env, ns, ['images', 'rm', '--sync', env.pullRef!], { tolerate: true });
    },
  };
}

/** containerStep creates and deletes a container (with its snapshot) from the imported image. */
export function containerStep(tag: string, sn: string): Step {
  return {
    name: `container ${tag} on ${sn}`,
    run: async (env) => {
      await ctr(env, env.ns, ['containers', 'create', '--snapshotter', sn, env.image!.ref, `c-${tag}`], { tolerate: true });
      await ctr(env, env.ns, ['containers', 'rm', `c-${tag}`], { tolerate: true });
    },
  };
}

/** taskStep runs `true` in a container on ctrd's own shim with `run --rm`, clearing what an interrupted run left. */
export function taskStep(tag: string): Step {
  // Each attempt takes a new ID: a bundle an interrupted delete left behind blocks its ID (reported by fsck).
  let attempt = 0;
  return {
    name: `task ${tag}`,
    run: async (env) => {
      const prev = `t-${tag}-${attempt}`;
      await ctr(env, env.ns, ['tasks', 'kill', '-s', 'SIGKILL', prev], { tolerate: true }).catch(() => undefined);
      await ctr(env, env.ns, ['tasks', 'rm', '-f', prev], { tolerate: true }).catch(() => undefined);
      await ctr(env, env.ns, ['containers', 'rm', prev], { tolerate: true });
      const id = `t-${tag}-${++attempt}`;
      await ctr(env, env.ns, ['tasks', 'kill', '-s', 'SIGKILL', id], { tolerate: true }).catch(() => undefined);
      await ctr(env, env.ns, ['tasks', 'rm', '-f', id], { tolerate: true }).catch(() => undefined);
      await ctr(env, env.ns, ['containers', 'rm', id], { tolerate: true });
      await ctr(env, env.ns, ['run', '--rm', '--runtime', 'io.containerd.ctrd.v1', env.image!.ref, id, 'true']);
    },
  };
}
