import { spawnSync } from 'node:child_process';
import { connect, RemoteImageStore } from '@ctrd/client';
import { launcherEnv } from '@ctrd/daemon/launcher';
import { BenchDaemon, CTRCTL, unmountBelow, timed, type CtrResult } from './daemons.js';
import { IMAGE, type Fixtures } from './fixtures.js';
import { pidsMatching, rssMiB } from './proc.js';
import { CONTENT_WORKLOADS } from './content.js';
import { PULL_FLOORS, PULL_WORKLOADS } from './pull.js';
import { FloorServer, grpcStartFloor } from './start-floor.js';

/** BenchContext is what every workload may use. */
export interface BenchContext {
  quick: boolean;
  /** the shared parent directory of both daemons (one disk). */
  parent: string;
  fixtures: Fixtures;
  /** images listed by the `images-ls` workload. */
  imageCount: number;
  /** tasks kept running by the `task-memory` workload (the `task-memory-<n>` rows set their own). */
  taskCount: number;
}

/** Workload is one row: optional setup and teardown per daemon, and one timed sample per call. */
export interface Workload {
  id: string;
  title: string;
  unit: 'ms' | 'MiB';
  /**
   * Whose CPU time is read around each sample: the daemon (the default), the daemon and its shims,
   * or nothing (rows whose samples run in another process than the daemon under test).
   */
  cpu?: 'daemon' | 'daemon+shims' | false;
  /**
   * How many samples each daemon gives a round (default 1), taken in alternating pairs; the
   * round's value is their median. For rows of a few tens of milliseconds, where one sample moves
   * by a third from the next, so that the ratio of a round says something.
   */
  samplesPerRound?: number;
  detail(ctx: BenchContext): string;
  setup?(d: BenchDaemon, ctx: BenchContext): Promise<void> | void;
  sample(d: BenchDaemon, ctx: BenchContext, n: number): Promise<number> | number;
  teardown?(d: BenchDaemon, ctx: BenchContext): Promise<void> | void;
}

/** nativeRuntime is each daemon's own shim: ctrd's in-process-family shim, containerd's runc v2. */
export function nativeRuntime(d: BenchDaemon): string {
  return d.kind === 'ctrd' ? 'io.containerd.ctrd.v1' : 'io.containerd.runc.v2';
}

// Filled by the task-memory samples, read by its detail once the row has run.
const shimCounts = new Map<string, number>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ensureImage imports the busybox fixture into `d` unless it is there. */
export function ensureImage(d: BenchDaemon, ctx: BenchContext): void {
  if (!d.must(['images', 'ls', '-q']).stdout.split('\n').includes(IMAGE)) d.must(['images', 'import', ctx.fixtures.archive]);
}

/**
 * freshStart times a new daemon of `d`'s kind, with an empty root, until `ctr version` (or the
 * `ctr` command given) answers.
 */
async function freshStart(d: BenchDaemon, ctx: BenchContext, command?: string[]): Promise<number> {
  const fresh = await BenchDaemon.create(d.kind, ctx.parent);
  try {
    return await fresh.start(command);
  } finally {
    await fresh.dispose();
  }
}

function startTasks(d: BenchDaemon, ctx: BenchContext, ids: string[]): void {
  ensureImage(d, ctx);
  for (const id of ids) d.must(['run', '-d', '--runtime', nativeRuntime(d), IMAGE, id, 'sleep', '100000']);
}

/**
 * createImages creates image records named `<prefix><i>` for i from `from` (0 by default) below
 * `count` through the Images API, all pointing at the busybox image.
 */
export async function createImages(d: BenchDaemon, prefix: string, count: number, from = 0): Promise<void> {
  const conn = connect(d.address, { namespace: d.namespace });
  try {
    const store = new RemoteImageStore(conn);
    const base = await store.get(d.namespace, IMAGE);
    for (let i = from; i < count; i++) await store.create(d.namespace, { name: `${prefix}${i}`, labels: {}, target: base.target });
  } finally {
    conn.close();
  }
}

/** deleteImages removes what createImages made. */
async function deleteImages(d: BenchDaemon, prefix: string, count: number): Promise<void> {
  const conn = connect(d.address, { namespace: d.namespace });
  try {
    const store = new RemoteImageStore(conn);
    for (let i = 0; i < count; i++) await store.delete(d.namespace, `${prefix}${i}`);
  } finally {
    conn.close();
  }
}

// The populated daemons of the `daemon-start-populated` row, by kind, kept between its samples.
const populated = new Map<string, BenchDaemon>();

/**
 * bareNode times `node -e 0` in the environment ctrctl's first line gives node: a floor for a Node
 * process that its launcher started, not one that parsed NODE_EXTRA_CA_CERTS first.
 */
const bareNode = (): CtrResult => timed(process.execPath, ['-e', '0'], { env: launcherEnv(CTRCTL) });

/**
 * ctrctlRow compares a whole `ctrctl` process against ctrd, run as a program (through its first
 * line, as users run it), with the bare `node -e 0` floor.
 */
const ctrctlRow = (id: string, title: string, args: string[], setup?: Workload['setup']): Workload => ({
  id,
  title,
  unit: 'ms',
  cpu: false,
  samplesPerRound: 5,
  detail: () => 'containerd column: `node -e 0` (no daemon) in the environment ctrctl\'s first line gives node; ctrd column: the whole ctrctl process against ctrd, run as a program',
  setup,
  sample(d) {
    const r = d.kind === 'ctrd' ? timed(CTRCTL, ['--address', d.address, '--namespace', d.namespace, ...args], { discardStdout: true }) : bareNode();
    if (r.code !== 0) throw new Error(`${d.kind}: ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.ms;
  },
});

/** taskMemoryRow keeps `count` tasks running and divides the shims' RSS by them. */
const taskMemoryRow = (count: number): Workload => {
  const id = `task-memory-${count}`;
  return {
    id,
    title: `memory per running task (shim RSS / tasks), ${count} task${count === 1 ? '' : 's'}`,
    unit: 'MiB',
    cpu: false,
    detail: () =>
      `${count} tasks running \`sleep\`, native shim; shim processes: containerd ${shimCounts.get(`${id}/containerd`) ?? '?'} (containerd-shim-runc-v2), ctrd ${shimCounts.get(`${id}/ctrd`) ?? '?'} (shim-server)`,
    async setup(d, ctx) {
      startTasks(d, ctx, Array.from({ length: count }, (_, i) => `bench-mem-${i}`));
      await sleep(1000);
    },
    async sample(d) {
      await sleep(100);
      const pids = d.shimPids();
      if (pids.length === 0) throw new Error(`no shim processes found for ${d.kind}`);
      shimCounts.set(`${id}/${d.kind}`, pids.length);
      return pids.reduce((sum, pid) => sum + rssMiB(pid), 0) / count;
    },
    teardown: (d) => d.killTasks(),
  };
};

const runRow = (id: string, title: string, runtime: (d: BenchDaemon) => string, detail: string): Workload => ({
  id,
  title,
  unit: 'ms',
  samplesPerRound: 3,
  detail: () => detail,
  setup: ensureImage,
  sample: (d, _ctx, n) => d.must(['run', '--rm', '--runtime', runtime(d), IMAGE, `${id}-${n}`, '/bin/true']).ms,
});

// The namespaces the `run-native-first` row made, by daemon kind.
const firstNamespaces = new Map<string, string[]>();

/**
 * firstRunRow times the first `ctr run --rm` of a namespace: ctrd's native shim server serves
 * every task of a namespace and boots with its first one (and again after it has idled out),
 * which the warmed-up `run-native` row never shows.
 */
const firstRunRow: Workload = {
  id: 'run-native-first',
  title: 'first `ctr run --rm` busybox `/bin/true` of a namespace, native shim',
  unit: 'ms',
  cpu: false,
  detail: () =>
    "each sample in a new namespace, the image imported there first (not timed); ctrd: io.containerd.ctrd.v1, whose shim server boots for the namespace's first task; containerd: io.containerd.runc.v2, a shim per task as always; no target",
  sample(d, ctx, n) {
    const namespace = `${d.namespace}-first-${n}`;
    firstNamespaces.set(d.kind, [...(firstNamespaces.get(d.kind) ?? []), namespace]);
    d.must(['images', 'import', ctx.fixtures.archive], { namespace });
    return d.must(['run', '--rm', '--runtime', nativeRuntime(d), IMAGE, `first-${n}`, '/bin/true'], { namespace }).ms;
  },
  teardown(d) {
    for (const ns of firstNamespaces.get(d.kind) ?? []) {
      // The namespace's shim server would linger until it idles out, and count in later rows.
      for (const pid of pidsMatching((cmdline) => cmdline.includes('shim-server') && cmdline.includes(d.dir) && cmdline.includes(ns))) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone already
        }
      }
      d.ctr(['images', 'rm', '--sync', IMAGE], { namespace: ns });
      timed('ctr', ['--address', d.address, 'namespaces', 'rm', ns]);
    }
    firstNamespaces.delete(d.kind);
  },
};

// The floor server of the `version-floor` row, by the kind whose column it fills.
const versionFloors = new Map<string, FloorServer>();

/** WORKLOADS are the rows of the comparison, in the order they run. */
export const WORKLOADS: Workload[] = [
  {
    id: 'daemon-start',
    title: 'daemon start (empty root) until `ctr version` answers',
    unit: 'ms',
    cpu: false,
    detail: () => 'fresh root/state per sample',
    sample: (d, ctx) => freshStart(d, ctx),
  },
  {
    id: 'daemon-start-ready',
    title: 'daemon start (empty root) until `ctr plugins ls` answers',
    unit: 'ms',
    cpu: false,
    detail: () =>
      'fresh root/state per sample; Introspection.Plugins answers once every plugin has loaded (ctrd answers `ctr version` before, and holds other calls until then); no target',
    sample: (d, ctx) => freshStart(d, ctx, ['plugins', 'ls']),
  },
  {
    id: 'daemon-start-floor',
    title: 'floor of daemon start: a bare @grpc/grpc-js server vs containerd, until `ctr version` answers',
    unit: 'ms',
    cpu: false,
    detail: () => 'containerd column: containerd with a fresh root (as `daemon-start`); ctrd column: `grpc-floor-server.js`, Node and grpc-js answering the calls of `ctr version` with empty messages (polling 200 µs after each answer, as ctrd), no config, plugins or storage',
    sample: (d, ctx, n) => (d.kind === 'ctrd' ? grpcStartFloor(ctx.parent, n) : freshStart(d, ctx)),
  },
  {
    id: 'daemon-start-populated',
    title: 'daemon start (populated root) until `ctr version` answers',
    unit: 'ms',
    cpu: false,
    detail: (ctx) => `root kept between samples: busybox imported and unpacked, ${ctx.imageCount} image records; daemon stopped with SIGTERM after each sample`,
    async setup(d, ctx) {
      const pop = await BenchDaemon.create(d.kind, ctx.parent);
      populated.set(d.kind, pop);
      await pop.start();
      ensureImage(pop, ctx);
      await createImages(pop, 'docker.io/bench/populated:', ctx.imageCount);
      await pop.stop();
    },
    async sample(d) {
      const pop = populated.get(d.kind)!;
      try {
        return await pop.start();
      } finally {
        await pop.stop();
      }
    },
    async teardown(d) {
      await populated.get(d.kind)?.dispose();
      populated.delete(d.kind);
    },
  },
  {
    id: 'version',
    title: '`ctr version`',
    unit: 'ms',
    samplesPerRound: 5,
    detail: () => 'one gRPC round trip + ctr start-up',
    sample: (d) => d.must(['version']).ms,
  },
  {
    id: 'version-floor',
    title: 'floor of `ctr version`: a bare @grpc/grpc-js server vs containerd',
    unit: 'ms',
    cpu: false,
    samplesPerRound: 5,
    detail: () =>
      'containerd column: containerd (as `version`); ctrd column: `grpc-floor-server.js`, Node and grpc-js answering the calls of `ctr version` with empty messages ' +
      '(polling 200 µs after each answer, as ctrd), no config, plugins, metadata or logging: what every `ctr` command pays against any daemon written in Node on grpc-js',
    async setup(d, ctx) {
      if (d.kind === 'ctrd') versionFloors.set(d.kind, await FloorServer.start(ctx.parent));
    },
    sample(d) {
      const floor = versionFloors.get(d.kind);
      if (!floor) return d.must(['version']).ms;
      const r = timed('ctr', ['--address', floor.address, 'version'], { discardStdout: true });
      if (r.code !== 0) throw new Error(`${d.kind}: ctr version (floor server): exit ${r.code}: ${r.stderr.trim()}`);
      return r.ms;
    },
    async teardown(d) {
      await versionFloors.get(d.kind)?.stop();
      versionFloors.delete(d.kind);
    },
  },
  {
    id: 'idle-rss',
    title: 'idle daemon RSS',
    unit: 'MiB',
    cpu: false,
    detail: () => 'VmRSS of the daemon process, no containers',
    async sample(d) {
      await sleep(200);
      return rssMiB(d.pid!);
    },
  },
  {
    id: 'image-import',
    title: '`ctr images import` (busybox OCI archive, unpacked)',
    unit: 'ms',
    detail: () => 'image removed with --sync between samples',
    setup(d) {
      d.ctr(['images', 'rm', '--sync', IMAGE]);
    },
    sample(d, ctx) {
      const ms = d.must(['images', 'import', ctx.fixtures.archive]).ms;
      d.must(['images', 'rm', '--sync', IMAGE]);
      return ms;
    },
  },
  runRow('run-native', '`ctr run --rm` busybox `/bin/true`, native shim', nativeRuntime, 'ctrd: io.containerd.ctrd.v1; containerd: io.containerd.runc.v2'),
  firstRunRow,
  runRow('run-runc-v2', '`ctr run --rm` busybox `/bin/true`, runc v2 shim', () => 'io.containerd.runc.v2', 'both: io.containerd.runc.v2'),
  {
    id: 'exec',
    title: '`ctr tasks exec` `/bin/true` into a running task',
    unit: 'ms',
    cpu: 'daemon+shims',
    samplesPerRound: 5,
    detail: () => 'native shim',
    setup: (d, ctx) => startTasks(d, ctx, ['bench-exec']),
    sample: (d, _ctx, n) => d.must(['tasks', 'exec', '--exec-id', `e${n}`, 'bench-exec', '/bin/true']).ms,
    teardown: (d) => d.killTasks(),
  },
  {
    id: 'pause-resume',
    title: '`ctr tasks pause` + `ctr tasks resume`',
    unit: 'ms',
    cpu: 'daemon+shims',
    samplesPerRound: 5,
    detail: () => 'native shim, sum of both commands',
    setup: (d, ctx) => startTasks(d, ctx, ['bench-pause']),
    sample: (d) => d.must(['tasks', 'pause', 'bench-pause']).ms + d.must(['tasks', 'resume', 'bench-pause']).ms,
    teardown: (d) => d.killTasks(),
  },
  {
    id: 'images-ls',
    title: '`ctr images ls` with many images',
    unit: 'ms',
    detail: (ctx) => `${ctx.imageCount} image records (created through the Images API), one target`,
    async setup(d, ctx) {
      ensureImage(d, ctx);
      await createImages(d, 'docker.io/bench/many:', ctx.imageCount);
    },
    sample: (d) => d.must(['images', 'ls'], { discardStdout: true }).ms,
    teardown: (d, ctx) => deleteImages(d, 'docker.io/bench/many:', ctx.imageCount),
  },
  {
    id: 'images-tag',
    title: 'image records (tags) created through the Images API',
    unit: 'ms',
    detail: (ctx) => `${ctx.imageCount} Images.Create calls one after another on one connection (ctrd's client library); removed untimed after each sample`,
    setup: ensureImage,
    async sample(d, ctx) {
      const t0 = performance.now();
      await createImages(d, 'docker.io/bench/tag:', ctx.imageCount);
      const ms = performance.now() - t0;
      await deleteImages(d, 'docker.io/bench/tag:', ctx.imageCount);
      return ms;
    },
  },
  ctrctlRow('ctrctl-version', '`ctrctl version` (whole process) vs `node -e 0`', ['version']),
  ctrctlRow('ctrctl-images-ls', '`ctrctl images ls` (whole process, busybox image) vs `node -e 0`', ['images', 'ls'], ensureImage),
  ...CONTENT_WORKLOADS,
  taskMemoryRow(1),
  taskMemoryRow(10),
  taskMemoryRow(50),
  ...PULL_WORKLOADS,
];

/** Floor is a daemon-free reference measurement, taken in the same run. */
export interface Floor {
  id: string;
  title: string;
  unit: 'ms';
  sample(ctx: BenchContext, n: number): number | Promise<number>;
}

function mustTimed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const r = timed(cmd, args, { discardStdout: true, env });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.ms;
}

/** FLOORS are the lower bounds the rows are built on. */
export const FLOORS: Floor[] = [
  { id: 'node', title: "`node -e 0` (the environment ctrd's and ctrctl's launchers give node)", unit: 'ms', sample: () => mustTimed(process.execPath, ['-e', '0'], launcherEnv(CTRCTL)) },
  {
    id: 'node-inherited',
    title: "`node -e 0` in the harness's own environment (NODE_EXTRA_CA_CERTS, where set, parsed at start-up)",
    unit: 'ms',
    sample: () => mustTimed(process.execPath, ['-e', '0']),
  },
  { id: 'ctr-cli', title: '`ctr --version` (ctr start-up, no daemon)', unit: 'ms', sample: () => mustTimed('ctr', ['--version']) },
  {
    id: 'runc-run',
    title: '`runc run` of a prepared busybox bundle (`/bin/true`)',
    unit: 'ms',
    sample(ctx, n) {
      const root = `${ctx.parent}/runc-root`;
      try {
        return mustTimed('runc', ['--root', root, 'run', '--bundle', ctx.fixtures.bundle, `floor-${n}`]);
      } finally {
        spawnSync('runc', ['--root', root, 'delete', '-f', `floor-${n}`], { stdio: 'ignore' });
        unmountBelow(ctx.fixtures.bundle);
      }
    },
  },
  ...PULL_FLOORS,
];
