// call-cpu measures what one small call costs each daemon's CPU, side by side: containerd 1.6 and
// ctrd each get busybox imported and one container created, then a client process per daemon
// makes the calls `ctr images ls`, `ctr images pull` of a present image and the task commands
// make, one at a time on one connection, and the daemon's CPU time (every thread, from
// /proc/<pid>/task/*/schedstat) is read around each block. Blocks alternate between the daemons
// (A B A B …) after a warm-up. No `ctr` start-up and no new connection is in the figures: this
// is each daemon's own part of a call, which the per-call rows repeat hundreds of times.
//
//   node bench/dist/call-cpu.js [--calls 2000] [--rounds 5] [--only content-info,images-list]
//     [--ctrd-only | --baseline <launcher>] [--cpu-prof <dir>]
//
// --baseline compares two builds of ctrd instead of containerd and ctrd: <launcher> is another
// build's bundled launcher (a copy of packages/daemon/bundle, see start-ab).
// --cpu-prof writes a `node --cpu-prof` profile of ctrd (this build) over the whole run into <dir>.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Connection, RemoteContainerStore, RemoteContentStore, RemoteImageStore, serverVersion } from '@ctrd/client';
import { threadsCpuMs } from './cpu.js';
import { BenchDaemon } from './daemons.js';
import { buildFixtures, IMAGE } from './fixtures.js';
import { summarize } from './stats.js';

const CONTAINER = 'call-cpu';

/** The calls measured, each as the client makes it; `target` is the image's manifest digest. */
const CALLS = {
  version: (c: Clients) => serverVersion(c.conn),
  'content-info': (c: Clients, target: string) => c.content.info(target),
  'content-read': async (c: Clients, target: string) => {
    for await (const _ of c.content.readRange(target, 0, 0));
  },
  'images-get': (c: Clients) => c.images.get(c.conn.namespace, IMAGE),
  'images-list': (c: Clients) => c.images.list(c.conn.namespace),
  'containers-get': (c: Clients) => c.containers.get(c.conn.namespace, CONTAINER),
} as const;
type CallName = keyof typeof CALLS;

interface Clients {
  conn: Connection;
  content: RemoteContentStore;
  images: RemoteImageStore;
  containers: RemoteContainerStore;
}

type Order = { call: CallName; calls: number } | 'exit';

/** client runs in the child: one connection, the calls it is told, one at a time. */
async function client(address: string, namespace: string): Promise<void> {
  const conn = new Connection(address, { namespace });
  const c: Clients = { conn, content: new RemoteContentStore(conn), images: new RemoteImageStore(conn), containers: new RemoteContainerStore(conn) };
  const target = (await c.images.get(namespace, IMAGE)).target.digest;
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

interface Side {
  label: string;
  daemon: BenchDaemon;
  child: ReturnType<typeof fork>;
  /** the daemon's CPU per call of each block, µs */
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

async function block(side: Side, call: CallName, calls: number): Promise<{ cpu: number; wall: number }> {
  const pid = side.daemon.pid!;
  const before = threadsCpuMs(pid);
  const t0 = performance.now();
  await order(side, { call, calls });
  const wall = performance.now() - t0;
  const after = threadsCpuMs(pid);
  if (before === undefined || after === undefined) throw new Error(`${side.label} is gone`);
  return { cpu: ((after - before) * 1000) / calls, wall: (wall * 1000) / calls };
}

const push = (m: Map<CallName, number[]>, k: CallName, v: number) => m.set(k, [...(m.get(k) ?? []), v]);

function table(sides: Side[], names: CallName[], what: 'cpu' | 'wall'): string {
  const head = sides.map((s) => `${s.label} µs`);
  const two = sides.length === 2;
  const lines = [`| call | ${head.join(' | ')} |${two ? ' ratio |' : ''}`, `|---|${head.map(() => '---|').join('')}${two ? '---|' : ''}`];
  for (const n of names) {
    const cells = sides.map((s) => summarize(s[what].get(n)!));
    const txt = cells.map((c) => `${c.median.toFixed(0)} (${c.min.toFixed(0)}–${c.max.toFixed(0)})`);
    lines.push(`| ${n} | ${txt.join(' | ')} |${two ? ` ${(cells[1]!.median / cells[0]!.median).toFixed(2)} |` : ''}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '5' },
      only: { type: 'string' },
      'ctrd-only': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const names = (values.only ? values.only.split(',') : Object.keys(CALLS)) as CallName[];
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
    for (const { label, kind, entry } of wanted) {
      const profile = label === 'ctrd' && values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
      const daemon = await BenchDaemon.create(kind, dir, { nodeArgs: profile, entry });
      await daemon.start();
      daemon.must(['images', 'import', fx.archive]);
      daemon.must(['containers', 'create', IMAGE, CONTAINER]);
      const child = fork(fileURLToPath(import.meta.url), ['--client', daemon.address, daemon.namespace], { stdio: 'inherit' });
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`client of ${label} exited ${code}`)));
      });
      sides.push({ label, daemon, child, cpu: new Map(), wall: new Map() });
    }
    for (const s of sides) for (const n of names) await block(s, n, Math.min(calls, 500));
    for (let r = 0; r < rounds; r++) {
      for (const n of names) {
        for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
          const { cpu, wall } = await block(s, n, calls);
          push(s.cpu, n, cpu);
          push(s.wall, n, wall);
        }
      }
    }
    process.stdout.write(`${calls} calls per block, ${rounds} rounds, median (min–max) per call\n\nthe daemon's CPU:\n\n${table(sides, names, 'cpu')}\n\nwall time, one call after the other:\n\n${table(sides, names, 'wall')}\n`);
  } finally {
    for (const s of sides) {
      if (s.child.connected) s.child.send('exit');
      await s.daemon.dispose();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--client') {
  await client(process.argv[3]!, process.argv[4]!);
} else {
  await main();
}
