import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, waitReady, missingTool, notRoot, rssKiB, shimServerPids, waitFor, busyboxMissing, mustSucceed, writeBusyboxArchive } from './harness.js';

// Many sequential `ctr run --rm` on ctrd's shim must leave nothing behind. CTRD_SOAK_RUNS raises
// the count for stress runs (200 by default, about 2-3 minutes here).
const RUNS = Number(process.env.CTRD_SOAK_RUNS ?? 200);
const IMAGE = 'docker.io/library/busybox:soak-test';
const NS = `soak-${randomBytes(3).toString('hex')}`;
const RUNTIME = 'io.containerd.ctrd.v1';
const RUNC_ROOT = '/run/ctrd/runc';
const FIFO_DIR = '/run/containerd/fifo';


const skip = missingTool('ctr', 'runc') ?? notRoot() ?? busyboxMissing();

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Leaks is what a run may leave behind, each as the list of offending paths or pids. */
interface Leaks {
  mounts: string[];
  extraShims: number[];
  fifos: string[];
  bundles: string[];
  cgroups: string[];
  runcState: string[];
  ingests: string[];
  snapshots: string[];
  containers: string[];
}

describe(`soak: ${RUNS} sequential ctr run --rm on ${RUNTIME}`, { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  const ctr = (args: string[]) => d.ctr(args, { namespace: NS });
  const ok = mustSucceed;
  const lines = (s: string) => s.split('\n').filter(Boolean);

  function leaks(prefix: string): Leaks {
    const mine = (name: string) => name.includes(prefix);
    const cgroups: string[] = [];
    for (const ctl of entries('/sys/fs/cgroup')) {
      const nsDir = join('/sys/fs/cgroup', ctl, NS);
      for (const child of entries(nsDir)) if (existsSync(join(nsDir, child, 'cgroup.procs')) || existsSync(join(nsDir, child, 'tasks'))) cgroups.push(join(nsDir, child));
    }
    const fifos: string[] = [];
    for (const dir of entries(FIFO_DIR)) for (const f of entries(join(FIFO_DIR, dir))) if (mine(f)) fifos.push(join(FIFO_DIR, dir, f));
    return {
      mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(d.dir) || l.includes(`/${NS}/`)),
      extraShims: shimServerPids(d.address).slice(1),
      fifos,
      bundles: [
        ...entries(join(d.state, 'io.containerd.runtime.v2.task', NS)).map((e) => `state/${e}`),
        ...entries(join(d.root, 'io.containerd.runtime.v2.task', NS)).map((e) => `root/${e}`),
      ],
      cgroups,
      runcState: entries(join(RUNC_ROOT, NS)),
      ingests: lines(ok(ctr(['content', 'active']))).slice(1),
      snapshots: lines(ok(ctr(['snapshots', 'ls']))).slice(1).filter((l) => !/\sCommitted$/.test(l)),
      containers: lines(ok(ctr(['containers', 'ls', '-q']))),
    };
  }

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-soak-fixtures-'));
    await writeBusyboxArchive(fixtures, IMAGE);
    d = await TestDaemon.start();
    await waitReady(d);
    ok(ctr(['images', 'import', join(fixtures, 'busybox.tar')]));
  });
  after(async () => {
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  test(`${RUNS} runs leave no mounts, shims, fifos, bundles, cgroups, runc state or ingests`, async (t) => {
    const prefix = `soak${randomBytes(2).toString('hex')}-`;
    // One warm-up run: the first run starts the namespace's shim server, which then stays.
    ok(ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, `${prefix}warm`, '/bin/true']));
    const before = leaks(prefix);
    const rssBefore = rssKiB(d.proc!.pid!);
    const t0 = Date.now();
    for (let i = 0; i < RUNS; i++) {
      const r = ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, `${prefix}${i}`, '/bin/true']);
      assert.equal(r.code, 0, `run ${i} of ${RUNS}: exit ${r.code}: ${r.stderr}`);
    }
    const seconds = (Date.now() - t0) / 1000;
    // A moment for the last run's cleanup (bundle removal after the delete answered).
    await waitFor('the last bundle to go', () => entries(join(d.state, 'io.containerd.runtime.v2.task', NS)).length === 0, 5000).catch(() => {});
    const rssAfter = rssKiB(d.proc!.pid!);
    const afterRuns = leaks(prefix);
    const report = `${RUNS} runs in ${seconds.toFixed(1)} s (${((seconds * 1000) / RUNS).toFixed(0)} ms each); ctrd RSS ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after`;
    t.diagnostic(report);
    assert.deepEqual(afterRuns, before, 'nothing is left behind');
    assert.deepEqual(afterRuns.containers, []);
    assert.deepEqual(afterRuns.bundles, []);
    assert.deepEqual(afterRuns.runcState, []);
    assert.deepEqual(afterRuns.extraShims, []);
  });
});
