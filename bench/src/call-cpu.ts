// call-cpu measures what one small call costs a daemon, side by side: containerd 1.6 and ctrd each
// get busybox imported and one container created, then a client process per daemon makes the
// calls `ctr images ls`, `ctr images pull` of a present image and the task commands make, one at a
// time on one connection. Around each block of calls it reads the CPU time of the daemon and its
// shims (every thread, from /proc/<pid>/task/*/schedstat; a `sleep` task runs on each daemon's
// own shim for the task calls) and the block's wall time. Blocks alternate between
// the daemons (A B A B …) after a warm-up. No `ctr` start-up and no new connection is in the
// figures: this is each daemon's own part of a call, which the per-call rows repeat hundreds of
// times.
//
//   node bench/dist/call-cpu.js [--calls 2000] [--rounds 5] [--only content-info,images-list]
//     [--ctrd-only | --baseline <launcher>] [--floor] [--cpu-prof <dir>]
//
// --baseline compares two builds of ctrd instead of containerd and ctrd: <launcher> is another
// build's bundled launcher (a copy of packages/daemon/bundle, see start-ab).
// --floor adds `grpc-floor-server.js` serving the image's manifest from memory: the least a Node
// daemon on grpc-js pays for the calls it answers (version, content-info, content-read).
// --cpu-prof writes `node --cpu-prof` profiles of ctrd (this build) and of the floor server over
// the whole run into <dir>.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Connection, RemoteContainerStore, RemoteContentStore, RemoteImageStore, RemoteTasks, serverVersion } from '@ctrd/client';
import { threadsCpuMs } from './cpu.js';
import { BenchDaemon } from './daemons.js';
import { nativeRuntime } from './workloads.js';
import { buildFixtures, IMAGE } from './fixtures.js';
import { FloorServer } from './start-floor.js';
import { summarize } from './stats.js';

const CONTAINER = 'call-cpu';
const TASK = 'call-cpu-task';

let updates = 0;

/** The calls measured, each as the client makes it; `target` is the image's manifest digest. */
const CALLS = {
  version: (c: Clients) => serverVersion(c.conn),
  'content-info': (c: Clients, target: string) => c.content.info(target),
  'content-read': async (c: Clients, target: string) => {
    for await (const _ of c.content.readRange(target, 0, 0));
  },
  // a label update, as `ctr images pull` makes nine of (one label set, one field path)
  'content-update': (c: Clients, target: string) => c.content.update({ digest: target, labels: { 'bench.update': String(++updates) } }, ['labels.bench.update']),
  'images-get': (c: Clients) => c.images.get(c.conn.namespace, IMAGE),
  'images-list': (c: Clients) => c.images.list(c.conn.namespace),
  'containers-get': (c: Clients) => c.containers.get(c.conn.namespace, CONTAINER),
  'tasks-get': (c: Clients) => c.tasks.get(TASK),
  // two calls, each running runc once; not in the default set (`--only tasks-pause-resume --calls 100`)
  'tasks-pause-resume': async (c: Clients) => {
    await c.tasks.pause(TASK);
    await c.tasks.resume(TASK);
  },
} as const;
type CallName = keyof typeof CALLS;

/** The calls the floor server answers. */
const FLOOR_CALLS: readonly CallName[] = ['version', 'content-info', 'content-read'];

interface Clients {
  conn: Connection;
  content: RemoteContentStore;
  images: RemoteImageStore;
  containers: RemoteContainerStore;
  tasks: RemoteTasks;
}

type Order = { call: CallName; calls: number } | 'exit';

/** client runs in the child: one connection, the calls it is told, one at a time. */
function client(address: string, namespace: string, target: string): void {
  const conn = new Connection(address, { namespace });
  const c: Clients = {
    conn,
    content: new RemoteContentStore(conn),
    images: new RemoteImageStore(conn),
    containers: new RemoteContainerStore(conn),
    tasks: new RemoteTasks(conn),
  };
  process.on('message', async (m: Order) => {
    if (m === 'exit') {
      conn.close();
      process.disconnect();
      return;
    }
    const call = CALLS[m.call];
    for (let i = 0; i < m.calls; i++) await call(c, target);
    process.send!('done');
  });
  process.send!('ready');
}

/** Side is one server under test with its client process. */
interface Side {
  label: string;
  /** the server's processes: the daemon and its shims */
  pids: () => number[];
  calls: readonly CallName[];
  child: ChildProcess;
  stop(): Promise<void>;
  /** the server's CPU per call of each block, µs */
  cpu: Map<CallName, number[]>;
  /** the wall time per call of each block, µs */
  wall: Map<CallName, number[]>;
}

function order(side: Side, m: Order): Promise<void> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`client of ${side.label} exited ${code}`));
    side.child.once('exit', exited);
    side.child.once('message', () => {
      side.child.off('exit', exited);
      resolve();
    });
    side.child.send(m);
  });
}

/** cpuMs sums the CPU time of a side's processes so far. */
function cpuMs(side: Side): number {
  let ms = 0;
  for (const pid of side.pids()) {
    const t = threadsCpuMs(pid);
    if (t === undefined) throw new Error(`${side.label}: process ${pid} is gone`);
    ms += t;
  }
  return ms;
}

async function block(side: Side, call: CallName, calls: number): Promise<{ cpu: number; wall: number }> {
  const before = cpuMs(side);
  const t0 = performance.now();
  await order(side, { call, calls });
  const wall = performance.now() - t0;
  const after = cpuMs(side);
  return { cpu: ((after - before) * 1000) / calls, wall: (wall * 1000) / calls };
}

const push = (m: Map<CallName, number[]>, k: CallName, v: number) => m.set(k, [...(m.get(k) ?? []), v]);

/** table prints one figure per call and side; with two daemons the last column is ctrd / the other. */
function table(sides: Side[], names: CallName[], what: 'cpu' | 'wall'): string {
  const daemons = sides.filter((s) => s.label !== 'floor');
  const ratio = daemons.length === 2;
  const head = sides.map((s) => `${s.label} µs`);
  const lines = [`| call | ${head.join(' | ')} |${ratio ? ' ratio |' : ''}`, `|---|${head.map(() => '---|').join('')}${ratio ? '---|' : ''}`];
  for (const n of names) {
    const cells = sides.map((s) => (s.calls.includes(n) ? summarize(s[what].get(n)!) : undefined));
    const txt = cells.map((c) => (c ? `${c.median.toFixed(0)} (${c.min.toFixed(0)}–${c.max.toFixed(0)})` : '–'));
    const [a, b] = daemons.map((s) => summarize(s[what].get(n)!).median);
    lines.push(`| ${n} | ${txt.join(' | ')} |${ratio ? ` ${(b! / a!).toFixed(2)} |` : ''}`);
  }
  return lines.join('\n');
}

/** manifestOf reads the digest and the bytes of the imported image's manifest from a daemon. */
function manifestOf(daemon: BenchDaemon): { digest: string; bytes: string } {
  const row = daemon.must(['images', 'ls']).stdout.split('\n').find((l) => l.startsWith(`${IMAGE} `));
  const digest = row?.split(/\s+/)[2];
  if (!digest?.startsWith('sha256:')) throw new Error(`no manifest digest for ${IMAGE} in: ${row}`);
  return { digest, bytes: daemon.must(['content', 'get', digest]).stdout };
}

async function startClient(label: string, address: string, namespace: string, target: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--client', address, namespace, target], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`client of ${label} exited ${code}`)));
  });
  return child;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '5' },
      only: { type: 'string' },
      'ctrd-only': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      floor: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const names = (values.only ? values.only.split(',') : Object.keys(CALLS).filter((n) => n !== 'tasks-pause-resume')) as CallName[];
  for (const n of names) if (!(n in CALLS)) throw new Error(`unknown call ${n}; known: ${Object.keys(CALLS).join(', ')}`);

  const dir = await mkdtemp(join(tmpdir(), 'ctrd-call-cpu-'));
  const sides: Side[] = [];
  try {
    const fx = await buildFixtures(join(dir, 'fixtures'), 1 << 20);
    const wanted: Array<{ label: string; kind: 'containerd' | 'ctrd'; entry?: string }> = values.baseline
      ? [
          { label: 'baseline', kind: 'ctrd', entry: values.baseline },
          { label: 'ctrd', kind: 'ctrd' },
        ]
      : values['ctrd-only']
        ? [{ label: 'ctrd', kind: 'ctrd' }]
        : [
            { label: 'containerd', kind: 'containerd' },
            { label: 'ctrd', kind: 'ctrd' },
          ];
    let manifest: { digest: string; bytes: string } | undefined;
    for (const { label, kind, entry } of wanted) {
      const profile = label === 'ctrd' && values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
      const daemon = await BenchDaemon.create(kind, dir, { nodeArgs: profile, entry });
      const stop = async () => {
        daemon.killTasks();
        await daemon.dispose();
      };
      try {
        await daemon.start();
        daemon.must(['images', 'import', fx.archive]);
        daemon.must(['containers', 'create', IMAGE, CONTAINER]);
        daemon.must(['run', '-d', '--runtime', nativeRuntime(daemon), IMAGE, TASK, 'sleep', '100000']);
        const shims = daemon.shimPids();
        manifest ??= manifestOf(daemon);
        const child = await startClient(label, daemon.address, daemon.namespace, manifest.digest);
        const pid = daemon.pid!;
        sides.push({ label, pids: () => [pid, ...shims], calls: names, child, stop, cpu: new Map(), wall: new Map() });
      } catch (err) {
        await stop();
        throw err;
      }
    }
    if (values.floor && manifest) {
      const blob = join(dir, 'manifest.json');
      writeFileSync(blob, manifest.bytes);
      const floor = await FloorServer.start(dir, blob, values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []);
      const child = await startClient('floor', floor.address, 'default', manifest.digest).catch(async (err) => {
        await floor.stop();
        throw err;
      });
      const pid = floor.pid!;
      sides.push({ label: 'floor', pids: () => [pid], calls: names.filter((n) => FLOOR_CALLS.includes(n)), child, stop: () => floor.stop(), cpu: new Map(), wall: new Map() });
    }
    for (const s of sides) for (const n of s.calls) await block(s, n, Math.min(calls, 500));
    for (let r = 0; r < rounds; r++) {
      for (const n of names) {
        for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
          if (!s.calls.includes(n)) continue;
          const { cpu, wall } = await block(s, n, calls);
          push(s.cpu, n, cpu);
          push(s.wall, n, wall);
        }
      }
    }
    process.stdout.write(
      `${calls} calls per block, ${rounds} rounds, median (min–max) per call\n\n` +
        `the CPU of the daemon and its shims:\n\n${table(sides, names, 'cpu')}\n\nwall time, one call after the other:\n\n${table(sides, names, 'wall')}\n`,
    );
  } finally {
    for (const s of sides) {
      if (s.child.connected) s.child.send('exit');
      await s.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--client') {
  client(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  await main();
}
