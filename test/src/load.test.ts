import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RemoteContentStore, RemoteEvents, RemoteImageStore, RemoteSnapshotter, RemoteTransfer, type Connection } from '@ctrd/client';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, findBusybox, type FixtureImage } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { CountingProxy, publishImage, startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { TestDaemon, missingTool, notRoot, type RunResult, writeBusyboxArchive } from './harness.js';

const STRESS = process.env.CTRD_STRESS === '1';
const RUNS = STRESS ? 50 : 10;
const SUBSCRIBERS = STRESS ? 1000 : 200;
const EVENTS = STRESS ? 200 : 100;
const SOAK_CYCLES = Number(process.env.CTRD_SOAK_CYCLES ?? 1000);
const IMAGE = 'docker.io/library/busybox:load';
const SHIM = 'io.containerd.ctrd.v1';
const tag = randomBytes(3).toString('hex');
const NS = `load-${tag}`;
const noBusybox = (): string | undefined => {
  try {
    findBusybox();
    return undefined;
  } catch {
    return 'busybox-static not installed';
  }
};

/** stats summarises latencies in milliseconds. */
function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${s.at(-1)!.toFixed(1)} ms (n=${s.length})`;
}

function ctrAsync(d: TestDaemon, args: string[]): Promise<RunResult & { ms: number }> {
  const started = performance.now();
  const child = spawn('ctr', ['--address', d.address, '--namespace', NS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started })));
}

const mountsUnder = (dir: string): number => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)).length;
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const MiB = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

describe(`${RUNS} concurrent run --rm on our shim`, { skip: missingTool('ctr', 'runc') ?? notRoot() ?? noBusybox() }, () => {
  let d: TestDaemon;
  let fixtures: string;

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-load-fixtures-'));
    await writeBusyboxArchive(fixtures, IMAGE);
    d = await TestDaemon.start();
    const r = await ctrAsync(d, ['images', 'import', join(fixtures, 'busybox.tar')]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const id of d?.ctr(['tasks', 'ls', '-q'], { namespace: NS }).stdout.split('\n').filter(Boolean) ?? []) d.ctr(['tasks', 'delete', '-f', id], { namespace: NS });
    for (const id of d?.ctr(['containers', 'ls', '-q'], { namespace: NS }).stdout.split('\n').filter(Boolean) ?? []) d.ctr(['containers', 'rm', id], { namespace: NS });
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  test('every run prints its own output and exits 0; nothing is left behind', { timeout: 600_000 }, async () => {
    const mountsBefore = mountsUnder(d.dir);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: RUNS }, (_, i) => ctrAsync(d, ['run', '--rm', '--runtime', SHIM, IMAGE, `load-${tag}-${i}`, 'echo', `run ${i}`])),
    );
    const wall = performance.now() - started;
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
      assert.equal(r.stdout, `run ${i}\n`);
    }
    console.log(`# ${RUNS} concurrent ctr run --rm (${SHIM}): wall ${(wall / 1000).toFixed(1)} s; per run ${stats(results.map((r) => r.ms))}`);
    assert.equal(d.ctr(['containers', 'ls', '-q'], { namespace: NS }).stdout.trim(), '');
    assert.equal(d.ctr(['tasks', 'ls', '-q'], { namespace: NS }).stdout.trim(), '');
    assert.doesNotMatch(d.ctr(['snapshots', 'ls'], { namespace: NS }).stdout, new RegExp(`load-${tag}`));
    assert.equal(mountsUnder(d.dir), mountsBefore, 'mounts under the daemon\'s directories');
  });
});

test(`${SUBSCRIBERS} event subscribers each receive all ${EVENTS} events, in order`, { skip: missingTool('ctr'), timeout: 1_800_000 }, async () => {
  const d = await TestDaemon.start();
  const conns: Connection[] = [];
  const ac = new AbortController();
  // Every stream listens on the same signal.
  setMaxListeners(0, ac.signal);
  try {
    const topic = `/load/${tag}`;
    // One HTTP/2 connection per hundred streams, as separate clients would have.
    for (let i = 0; i < Math.ceil(SUBSCRIBERS / 100); i++) conns.push(connect(d.address));
    const received: number[][] = Array.from({ length: SUBSCRIBERS }, () => []);
    const warm = new Set<number>();
    const latencies: number[] = [];
    const pumps = received.map(async (got, s) => {
      const stream = new RemoteEvents(conns[s % conns.length]!).subscribe({ filters: [`topic==${JSON.stringify(topic)}`], signal: ac.signal });
      for await (const e of stream) {
        const text = Buffer.from(e.event.value).toString();
        if (text === 'warmup') {
          warm.add(s);
          continue;
        }
        const [seq, sent] = text.split(' ');
        got.push(Number(seq));
        latencies.push(performance.timeOrigin + performance.now() - Number(sent));
      }
    });
    const publisher = new RemoteEvents(connect(d.address));
    const payload = (s: string) => ({ typeUrl: 'ctrd.test/load', value: Buffer.from(s) });
    // Every stream is registered once it has seen a warm-up event; only then does the series start.
    const deadline = Date.now() + 60_000;
    while (warm.size < SUBSCRIBERS && Date.now() < deadline) {
      await publisher.publish('default', topic, payload('warmup'));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(warm.size, SUBSCRIBERS, 'every subscriber is registered');
    const started = performance.now();
    for (let i = 0; i < EVENTS; i++) await publisher.publish('default', topic, payload(`${i} ${performance.timeOrigin + performance.now()}`));
    const publishMs = performance.now() - started;
    const want = SUBSCRIBERS * EVENTS;
    const until = Date.now() + 120_000;
    while (latencies.length < want && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const allMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    await Promise.all(pumps);
    const expected = Array.from({ length: EVENTS }, (_, i) => i);
    const wrong = received.findIndex((got) => got.length !== EVENTS || got.some((v, i) => v !== i));
    assert.equal(wrong, -1, `subscriber ${wrong} got ${received[wrong]?.length} events`);
    assert.deepEqual(received[0], expected);
    console.log(
      `# events: ${SUBSCRIBERS} subscribers x ${EVENTS} events = ${want} deliveries, none lost or reordered; ` +
        `published in ${publishMs.toFixed(0)} ms, all delivered in ${allMs.toFixed(0)} ms; latency ${stats(latencies)}`,
    );
  } finally {
    ac.abort();
    for (const c of conns) c.close();
    await d.dispose();
  }
});

const PULLERS = 8;

describe('pulls through the daemon', { skip: missingTool('ctr', 'docker-registry') ?? notRoot() ?? noBusybox() }, () => {
  let reg: TestRegistry;
  let srcDir: string;
  let img: FixtureImage;

  before(async () => {
    reg = await startRegistry();
    srcDir = await mkdtemp(join(tmpdir(), 'ctrd-load-src-'));
    const src = await createLocalStore(srcDir);
    const resolver = createDockerResolver();
    img = await buildBusyboxImage(src, { layers: 'multi' });
    await publishImage(src, img, await resolver.pusher(`${reg.addr}/ctrd/load:v1`));
    await resolver.close();
  });
  after(async () => {
    await reg?.stop();
    if (srcDir) await rm(srcDir, { recursive: true, force: true });
  });

  // ctr's client-side pull is the path where separate clients meet in the content store; the
  // daemon's own pull shares downloads in-process (also covered by the transfer plugin's tests).
  const ways = STRESS ? (['ctr images pull (client-side)', 'Transfer API (server-side)'] as const) : (['ctr images pull (client-side)'] as const);
  for (const how of ways) {
    test(`${PULLERS} concurrent pulls of one image, ${how}: one GET per blob`, { timeout: 300_000 }, async () => {
      const proxy = new CountingProxy(reg.addr);
      await proxy.start();
      const d = await TestDaemon.start();
      const conn = connect(d.address, { namespace: NS });
      try {
        const ref = `${proxy.addr}/ctrd/load:v1`;
        const started = performance.now();
        const times = await Promise.all(
          Array.from({ length: PULLERS }, async () => {
            const t0 = performance.now();
            if (how.startsWith('Transfer')) {
              for await (const _ of new RemoteTransfer(conn).pull({ ref, registry: { plainHttp: true } })) {
                // progress is not needed here
              }
            } else {
              const r = await ctrAsync(d, ['images', 'pull', '--plain-http', ref]);
              assert.equal(r.code, 0, r.stderr);
            }
            return performance.now() - t0;
          }),
        );
        console.log(`# ${PULLERS} concurrent pulls, ${how}: wall ${(performance.now() - started).toFixed(0)} ms; per pull ${stats(times)}`);
        for (const desc of [...img.layers, img.manifests[0]!.configDesc]) assert.equal(proxy.getCount(desc.digest), 1, `GETs of ${desc.digest}`);
        const check = d.ctr(['images', 'check'], { namespace: NS });
        const n = img.layers.length + 1;
        assert.match(check.stdout, new RegExp(`complete \\(${n}/${n}\\).*true`));
      } finally {
        conn.close();
        await d.dispose();
        await proxy.stop();
      }
    });
  }
});

describe(`soak: ${SOAK_CYCLES} pull/rm cycles`, { skip: STRESS ? (missingTool('ctr', 'docker-registry') ?? notRoot() ?? noBusybox()) : 'stress mode only (CTRD_STRESS=1, npm run stress)' }, () => {
  let reg: TestRegistry;
  let srcDir: string;
  let d: TestDaemon;

  before(async () => {
    reg = await startRegistry();
    srcDir = await mkdtemp(join(tmpdir(), 'ctrd-soak-src-'));
    const src = await createLocalStore(srcDir);
    const resolver = createDockerResolver();
    const img = await buildBusyboxImage(src, { layers: 'multi' });
    await publishImage(src, img, await resolver.pusher(`${reg.addr}/ctrd/soak:v1`));
    await resolver.close();
    d = await TestDaemon.create();
    // A temp directory of the daemon's own, so that what it leaves there is told apart from other tests'.
    mkdirSync(join(d.dir, 'tmp'));
    await d.boot({ env: { TMPDIR: join(d.dir, 'tmp') } });
  });
  after(async () => {
    await d?.dispose();
    await reg?.stop();
    await rm(srcDir, { recursive: true, force: true });
  });

  test('no leaked mounts, fds, ingests or temp dirs; RSS flat', { timeout: 6 * 3600_000 }, async () => {
    const ref = `${reg.addr}/ctrd/soak:v1`;
    const conn = connect(d.address, { namespace: NS });
    const transfer = new RemoteTransfer(conn);
    const images = new RemoteImageStore(conn);
    const content = new RemoteContentStore(conn);
    const pid = d.proc!.pid!;
    const daemonTmp = join(d.dir, 'tmp');
    const mountsBefore = mountsUnder(d.dir);
    const cycle = async () => {
      for await (const _ of transfer.pull({ ref, registry: { plainHttp: true } })) {
        // progress is not needed here
      }
      await images.delete(NS, ref, { sync: true });
    };
    const warmup = Math.min(20, Math.max(1, Math.floor(SOAK_CYCLES / 10)));
    for (let i = 0; i < warmup; i++) await cycle();
    const fdWarm = fdCount(pid);
    const rssWarm = rssOf(pid);
    const every = Math.max(1, Math.floor(SOAK_CYCLES / 10));
    const half = Math.floor(SOAK_CYCLES / 2);
    let rssMid = rssWarm;
    const samples: string[] = [];
    const started = performance.now();
    for (let i = warmup; i < SOAK_CYCLES; i++) {
      await cycle();
      if (i + 1 === half) rssMid = rssOf(pid);
      if ((i + 1) % every === 0) samples.push(`${i + 1}: rss ${MiB(rssOf(pid))}, fds ${fdCount(pid)}`);
    }
    const perCycle = (performance.now() - started) / Math.max(1, SOAK_CYCLES - warmup);
    await new Promise((r) => setTimeout(r, 1000));
    const fdEnd = fdCount(pid);
    const rssEnd = rssOf(pid);
    const ingests = await content.listStatuses();
    const blobs: string[] = [];
    await content.walk((info) => void blobs.push(info.digest));
    const snapshots: string[] = [];
    await new RemoteSnapshotter(conn, 'overlayfs', { namespace: NS }).walk((info) => void snapshots.push(info.name));
    const ingestDir = readdirSync(d.root, { recursive: true, encoding: 'utf8' }).filter((p) => /ingest\/[^/]+$/.test(p));
    const tmpNew = readdirSync(daemonTmp);
    console.log(
      `# soak ${SOAK_CYCLES} pull/rm cycles: ${perCycle.toFixed(0)} ms per cycle; mounts ${mountsBefore} -> ${mountsUnder(d.dir)}; ` +
        `fds ${fdWarm} -> ${fdEnd}; blobs ${blobs.length}, snapshots ${snapshots.length}, ingests ${ingests.length} (${ingestDir.length} on disk); new temp entries ${tmpNew.length}; RSS ${MiB(rssWarm)} after warm-up, ${MiB(rssMid)} at half, ${MiB(rssEnd)} at the end`,
    );
    for (const s of samples) console.log(`#   ${s}`);
    conn.close();
    assert.equal(mountsUnder(d.dir), mountsBefore, 'mounts');
    assert.ok(fdEnd <= fdWarm + 4, `fds ${fdWarm} -> ${fdEnd}`);
    assert.equal(ingests.length, 0, 'active ingests');
    assert.deepEqual(blobs, [], 'blobs left in the namespace');
    assert.deepEqual(snapshots, [], 'snapshots left in the namespace');
    assert.deepEqual(ingestDir, [], 'ingest directories');
    assert.deepEqual(tmpNew, [], 'temp entries');
    // Flat: the second half of the run adds no more than noise (V8 grows its heap early on).
    assert.ok(rssEnd < rssMid * 1.1 + 16 * 2 ** 20, `RSS ${MiB(rssMid)} at half -> ${MiB(rssEnd)} at the end`);
  });
});
