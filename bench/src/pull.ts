import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, type FixtureImage } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { hasCommand, publishImage, startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { TOP, timed, type BenchDaemon, type CtrResult } from './daemons.js';
import type { BenchContext, Floor, Workload } from './workloads.js';

/** CTRCTL is the bundled ctrctl, ctrd's own client. */
const CTRCTL = join(TOP, 'packages', 'cli', 'bundle', 'ctrctl.js');
const SNAPSHOTTER = 'overlayfs';

/** PullFixture is the big image served by a local registry, shared by the pull rows and floors. */
interface PullFixture {
  registry: TestRegistry;
  ref: string;
  image: FixtureImage;
  /** the layer blobs as files (the fixture's content store), for the floors. */
  blobs: string[];
}

let fixture: Promise<PullFixture> | undefined;
let built: PullFixture | undefined;

/** pigz is what containerd decompresses with when it is on PATH (as `unpigz`); the rows record it. */
const pigz = hasCommand('unpigz') ? 'pigz installed (containerd uses unpigz)' : 'pigz not installed';

function imageMiB(ctx: BenchContext): number {
  return ctx.quick ? 40 : 200;
}

/**
 * pullFixture builds the five-layer image once per run (gzip -1 of seeded random data), starts
 * Debian's docker-registry on 127.0.0.1 below the run's directory and pushes the image to it.
 * The registry is killed when the process exits.
 */
function pullFixture(ctx: BenchContext): Promise<PullFixture> {
  fixture ??= (async () => {
    if (!hasCommand('docker-registry')) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
    const storeDir = join(ctx.parent, 'pull-fixture-store');
    const store = await createLocalStore(storeDir);
    const image = await buildBusyboxImage(store, { layers: 'big', bigSize: imageMiB(ctx) << 20, gzipLevel: 1, name: 'docker.io/bench/big:v1' });
    const registry = await startRegistry({ parent: ctx.parent });
    process.once('exit', () => {
      try {
        process.kill(registry.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(registry.dir, { recursive: true, force: true });
    });
    const ref = `${registry.addr}/bench/big:v1`;
    const resolver = createDockerResolver();
    try {
      await publishImage(store, image, await resolver.pusher(ref));
    } finally {
      await resolver.close();
    }
    const blobs = image.layers.map((l) => join(storeDir, 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
    built = { registry, ref, image, blobs };
    return built;
  })();
  return fixture;
}

function check(d: BenchDaemon, what: string, r: CtrResult): number {
  if (r.code !== 0) throw new Error(`${d.kind}: ${what}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.ms;
}

/**
 * makeCold removes the image, every blob left of it and its snapshots, then runs a synchronous
 * garbage collection (a lease removed with --sync), so the next pull downloads and unpacks all.
 */
function makeCold(d: BenchDaemon, f: PullFixture, n: number): void {
  d.ctr(['images', 'rm', '--sync', f.ref]);
  const present = new Set(d.ctr(['content', 'ls', '-q']).stdout.split('\n'));
  const left = [f.image.target, ...f.image.manifests.map((m) => m.configDesc), ...f.image.layers].filter((x) => present.has(x.digest));
  if (left.length) d.ctr(['content', 'rm', ...left.map((x) => x.digest)]);
  d.collectGarbage(`bench-pull-gc-${n}`);
  spawnSync('sync');
}

const ctrPull = (d: BenchDaemon, f: PullFixture): CtrResult => d.ctr(['images', 'pull', '--plain-http', '--snapshotter', SNAPSHOTTER, f.ref], { discardStdout: true });

const ctrctlPull = (d: BenchDaemon, f: PullFixture): CtrResult =>
  timed(CTRCTL, ['--address', d.address, '--namespace', d.namespace, 'pull', '--plain-http', '--snapshotter', SNAPSHOTTER, f.ref], { discardStdout: true, timeoutMs: 600_000 });

const detail = (ctx: BenchContext, extra: string): string =>
  `~${imageMiB(ctx)} MB in 5 gzip layers from docker-registry on 127.0.0.1, ${SNAPSHOTTER}; ${extra}; ${pigz}`;

const COLD = 'cold: image, content and snapshots removed and GC run (--sync) before each sample';

/** PULL_WORKLOADS are the pull rows: ctrd's own client, ctr's client-side pull, and a warm pull. */
export const PULL_WORKLOADS: Workload[] = [
  {
    id: 'pull-ctrctl',
    title: 'pull + unpack: `ctrctl pull` (ctrd) vs `ctr images pull --plain-http` (containerd)',
    unit: 'ms',
    detail: (ctx) => detail(ctx, `${COLD}; ctrd pulls server-side (transfer service)`),
    setup: async (_d, ctx) => void (await pullFixture(ctx)),
    async sample(d, ctx, n) {
      const f = await pullFixture(ctx);
      makeCold(d, f, n);
      return check(d, 'pull', d.kind === 'ctrd' ? ctrctlPull(d, f) : ctrPull(d, f));
    },
  },
  {
    id: 'pull-ctr',
    title: 'pull + unpack: `ctr images pull --plain-http` on both',
    unit: 'ms',
    detail: (ctx) => detail(ctx, `${COLD}; ctr pulls client-side through the daemon's content, snapshot and diff services`),
    setup: async (_d, ctx) => void (await pullFixture(ctx)),
    async sample(d, ctx, n) {
      const f = await pullFixture(ctx);
      makeCold(d, f, n);
      return check(d, 'ctr images pull', ctrPull(d, f));
    },
  },
  {
    id: 'pull-present',
    title: '`ctr images pull --plain-http` of an image already present',
    unit: 'ms',
    samplesPerRound: 3,
    detail: (ctx) => detail(ctx, 'image, content and snapshots already there: resolve, walk, no download'),
    async setup(d, ctx) {
      const f = await pullFixture(ctx);
      check(d, 'ctr images pull', ctrPull(d, f));
    },
    async sample(d, ctx) {
      return check(d, 'ctr images pull', ctrPull(d, await pullFixture(ctx)));
    },
    async teardown(d, ctx) {
      makeCold(d, await pullFixture(ctx), 0);
    },
  },
];

function floorBlobs(): string[] {
  if (!built) throw new Error('the pull fixture was not built (run a pull row)');
  return built.blobs;
}

function mustShell(script: string, args: string[]): number {
  const r = timed('sh', ['-c', script, 'floor', ...args], { discardStdout: true, timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${script}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.ms;
}

/** PULL_FLOORS are the daemon-free costs of the same bytes: hashing, decompressing, extracting. */
export const PULL_FLOORS: Floor[] = [
  {
    id: 'pull-sha256',
    title: '`sha256sum` of the pull image\'s layer blobs',
    unit: 'ms',
    sample: () => mustShell('sha256sum "$@"', floorBlobs()),
  },
  {
    id: 'pull-gunzip',
    title: '`gzip -dc` of the pull image\'s layer blobs to /dev/null',
    unit: 'ms',
    sample: () => mustShell('for f in "$@"; do gzip -dc "$f" || exit 1; done', floorBlobs()),
  },
  {
    id: 'pull-tar',
    title: `GNU \`tar -xzf\` of the pull image's layer blobs (one directory each, same filesystem) + \`sync\`; ${pigz}`,
    unit: 'ms',
    sample(ctx, n) {
      const blobs = floorBlobs();
      const dir = join(ctx.parent, `pull-floor-${n}`);
      const dirs = blobs.map((_, i) => join(dir, String(i)));
      for (const x of dirs) mkdirSync(x, { recursive: true });
      spawnSync('sync');
      try {
        return mustShell('d=$1; shift; i=0; for f in "$@"; do tar -xzf "$f" -C "$d/$i" || exit 1; i=$((i+1)); done; sync', [dir, ...blobs]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
