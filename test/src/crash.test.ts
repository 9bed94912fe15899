import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { FAULT_SITE_NAMES, readFaultTrace, type FaultSite } from '@ctrd/fault';
import { formatReport, runFsck, type FsckReport } from '@ctrd/fsck';
import { buildBusyboxImage, findBusybox, writeOciArchive } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { publishImage, startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { CTRD, TestDaemon, missingTool, notRoot, run } from './harness.js';
import { Rng } from './crash/rng.js';
import {
  DaemonDied, containerStep, ctr, gcStep, importStep, ingestStep, pullStep, snapshotStep, taskStep, type Env, type Step,
} from './crash/workload.js';

const STRESS = process.env.CTRD_STRESS === '1';
const INJECTIONS = Number(process.env.CTRD_CRASH_INJECTIONS ?? (STRESS ? 200 : 6));
const SEED = Number(process.env.CTRD_CRASH_SEED ?? randomInt(2 ** 31));
const VERBOSE = STRESS || process.env.CTRD_CRASH_VERBOSE === '1';
const IMAGE = 'docker.io/library/busybox:crash';
const skip = missingTool('ctr') ?? notRoot();

// Sites each need a kind of work to be reached; those whose tools are missing are left out.
const needs: Partial<Record<FaultSite, 'image' | 'pull' | 'tasks'>> = {
  'differ.apply': 'image',
  'transfer.fetch': 'pull',
  'transfer.unpack': 'pull',
  'runtime.task.create': 'tasks',
  'runtime.task.delete': 'tasks',
};
// The n-th hit to die at is drawn from 1..MAX_N (hits a targeted round surely makes).
const MAX_N: Partial<Record<FaultSite, number>> = { 'metadata.batch': 6, 'content.write': 2, 'differ.apply': 30, 'snapshot.metastore.persist': 3 };

let dir: string;
let reg: TestRegistry | undefined;
const env: Partial<Env> & { tasks: boolean } = { tasks: false };

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ctrd-crash-'));
  if (findBusybox()) {
    const store = await createLocalStore(join(dir, 'fixture'));
    const img = await buildBusyboxImage(store, { layers: 'multi', name: IMAGE });
    await writeOciArchive(store, img, join(dir, 'busybox.tar'), { name: IMAGE });
    env.image = { ref: IMAGE, tar: join(dir, 'busybox.tar') };
    env.tasks = !missingTool('runc');
    if (!missingTool('docker-registry')) {
      reg = await startRegistry();
      const resolver = createDockerResolver();
      env.pullRef = `${reg.addr}/ctrd/crash:v1`;
      await publishImage(store, img, await resolver.pusher(env.pullRef));
      await resolver.close();
    }
  }
});

after(async () => {
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

const dead = (d: TestDaemon) => !d.proc || d.proc.exitCode !== null || d.proc.signalCode !== null;

/** boot starts ctrd on the test root and resolves once it serves, or once a fault killed it first. */
async function boot(d: TestDaemon, extra: NodeJS.ProcessEnv): Promise<boolean> {
  await d.boot({ wait: false, env: extra });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (dead(d)) {
      if (d.proc!.signalCode === 'SIGKILL') return false;
      throw new Error(`ctrd exited with ${d.proc!.exitCode} during start:\n${d.output.slice(-4000)}`);
    }
    if (await answers(d.address)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`ctrd did not start within 60 s:\n${d.output.slice(-4000)}`);
}

async function killed(d: TestDaemon): Promise<void> {
  if (!dead(d)) d.proc!.kill('SIGKILL');
  await d.exit;
}

/**
 * Three findings of fsck on a stopped root are states the next start cleans up, not damage:
 * - a kill -9 during a layer apply through a bind mount leaves that temporary mount, under the
 *   differ's or the transfer plugin's `tmpmounts`, which the plugin detaches when it starts;
 * - a kill -9 during the overlayfs snapshotter's start leaves its probe mount, in an
 *   `overlay-check-*` directory, which the next probe detaches and removes;
 * - a kill -9 between a task's delete in its shim and the removal of its bundle leaves the
 *   bundle, which the runtime removes when it finds the shim no longer knows the task.
 * They are counted and left in place; the final fsck, after a clean start and stop, must find
 * neither. Every other error fails the test at once.
 */
const leftovers = { applyMounts: 0, probeMounts: 0, taskBundles: 0 };
const isApplyMount = (subject: string) => basename(subject).startsWith('ctrd-mount-') && subject.includes('/tmpmounts/');
const isProbeMount = (subject: string) => basename(subject) === 'merged' && basename(dirname(subject)).startsWith('overlay-check-');
function assertClean(report: FsckReport, what: string): void {
  const left = report.findings.filter((f) => f.code === 'mount-leftover');
  const mounts = left.filter((f) => isApplyMount(f.subject));
  const probes = left.filter((f) => isProbeMount(f.subject));
  const bundles = report.findings.filter((f) => f.code === 'task-bundle-orphan');
  leftovers.applyMounts += mounts.length;
  leftovers.probeMounts += probes.length;
  leftovers.taskBundles += bundles.length;
  const errors = report.errors - mounts.length - probes.length - bundles.length;
  assert.equal(errors, 0, `seed ${SEED}: fsck after ${what}:\n${formatReport(report, 'text', true)}`);
}

test(`crash consistency: seeded fault and kill -9 injections, fsck after each (${STRESS ? 'stress' : 'reduced'})`, { skip, timeout: STRESS ? 4 * 3600_000 : 300_000 }, async () => {
  const rng = new Rng(SEED);
  const started = Date.now();
  const d = await TestDaemon.create();
  const e = env as Env;
  e.d = d;
  e.ns = `crash-${SEED.toString(36)}`;
  e.alive = () => !dead(d);
  const available = FAULT_SITE_NAMES.filter((s) => {
    const need = needs[s];
    return need === undefined || (need === 'image' ? !!e.image : need === 'pull' ? !!e.pullRef : e.tasks);
  });
  const hits = new Map<string, number>();
  const injected = new Map<string, number>();
  const traceOf = (path: string) => {
    const t = readFaultTrace(existsSync(path) ? readFileSync(path, 'utf8') : '');
    for (const [s, n] of t.hits) hits.set(s, (hits.get(s) ?? 0) + n);
    return t.killedAt;
  };
  let serial = 0;
  const tag = () => `${(serial++).toString(36)}`;
  const sn = () => rng.pick(['overlayfs', 'native']);
  const stepsFor = (site: FaultSite | undefined): Step[] => {
    switch (site) {
      case 'content.write': case 'content.commit.before-publish': case 'content.commit.after-publish':
        return [ingestStep(tag(), rng.int(1_500_000, 4_000_000), rng)];
      case 'metadata.gc.after-batch': case 'gc.collect':
        return [snapshotStep(tag(), sn()), gcStep(tag())];
      case 'snapshot.create': case 'snapshot.commit': case 'snapshot.metastore.persist': case 'snapshot.remove':
      case 'metadata.snapshot.prepare': case 'metadata.snapshot.commit':
        return [snapshotStep(tag(), sn()), gcStep(tag())];
      case 'differ.apply':
        return [importStep(tag(), sn())];
      case 'transfer.fetch': case 'transfer.unpack':
        return [pullStep(tag())];
      case 'runtime.task.create': case 'runtime.task.delete':
        return [taskStep(tag())];
      default: {
        const kinds: Array<() => Step> = [
          () => ingestStep(tag(), rng.int(10_000, 2_000_000), rng), () => snapshotStep(tag(), sn()), () => gcStep(tag()),
        ];
        if (e.image) kinds.push(() => importStep(tag(), sn()), () => containerStep(tag(), sn()));
        if (e.tasks) kinds.push(() => taskStep(tag()));
        return Array.from({ length: rng.int(1, 3) }, () => rng.pick(kinds)());
      }
    }
  };
  // Sites reached by the same kind of work share a prefix (gc.collect and metadata.gc.* both run gcStep).
  const stepKind = (site: FaultSite): string => (site.includes('gc') ? 'gc' : site.startsWith('metadata.snapshot') ? 'snapshot' : site.split('.')[0]!);
  const everything = (): Step[] => {
    const all = [ingestStep(tag(), 2_500_000, rng), snapshotStep(tag(), 'overlayfs'), snapshotStep(tag(), 'native'), gcStep(tag())];
    if (e.image) all.push(importStep(tag(), 'overlayfs'), importStep(tag(), 'native'), containerStep(tag(), 'overlayfs'));
    if (e.pullRef) all.push(pullStep(tag()));
    if (e.tasks) all.push(taskStep(tag()));
    return all;
  };
  const runSteps = async (steps: Step[]): Promise<Step[]> => {
    while (steps.length > 0) {
      try {
        await steps[0]!.run(e);
      } catch (err) {
        if (err instanceof DaemonDied || dead(d)) return steps;
        throw new Error(`seed ${SEED}: step "${steps[0]!.name}" failed with ctrd up: ${(err as Error).message}`);
      }
      steps.shift();
    }
    return steps;
  };

  try {
    console.log(`# crash set-up ${Date.now() - started} ms`);
    // Set-up: the image the container and task steps use.
    assert.ok(await boot(d, {}));
    if (e.image) await ctr(e, e.ns, ['images', 'import', e.image.tar]);
    await d.stop();

    console.log(`# crash base import ${Date.now() - started} ms`);
    let pending: Step[] = [];
    let faults = 0;
    let kills = 0;
    for (let round = 0; faults + kills < INJECTIONS; round++) {
      const uncovered = available.filter((s) => !injected.has(s));
      const site: FaultSite | undefined = rng.next() < 0.3 ? undefined : rng.pick(uncovered.length ? uncovered : available);
      const n = site ? rng.int(1, MAX_N[site] ?? 1) : 0;
      const t0 = Date.now();
      const trace = join(d.dir, `trace-${round}`);
      const steps = [...pending, ...stepsFor(site)];
      let how: string;
      if (await boot(d, { CTRD_FAULT_TRACE: trace, ...(site ? { CTRD_FAULT: `${site}:${n}` } : {}) })) {
        let timer: NodeJS.Timeout | undefined;
        if (!site) timer = setTimeout(() => d.proc?.kill('SIGKILL'), rng.int(0, 2500));
        pending = await runSteps(steps);
        clearTimeout(timer);
        await killed(d);
      } else {
        pending = steps;
        await killed(d);
      }
      const at = traceOf(trace);
      if (at) {
        faults++;
        injected.set(at.site, (injected.get(at.site) ?? 0) + 1);
        how = `fault ${at.site}:${at.n}`;
      } else {
        kills++;
        how = site ? `kill -9 after the workload (${site}:${n} not reached)` : 'kill -9 at a random point';
      }
      const report = await runFsck({ root: d.root, state: d.state, address: d.address });
      assertClean(report, `round ${round} (${how})`);
      if (VERBOSE || round % 4 === 0) console.log(`# round ${round}: ${how}; ${pending.length} steps carried over; fsck ${report.warnings} warnings; ${Date.now() - t0} ms`);
    }

    // Recovery to completion: finish what the crashes interrupted, run every kind of work once
    // more, stop cleanly, and the root must check clean, mounts included.
    assert.ok(await boot(d, { CTRD_FAULT_TRACE: join(d.dir, 'trace-final') }));
    // Only the kinds of work whose sites no round reached yet, to keep the reduced run short.
    const unreached = available.filter((s) => !hits.has(s));
    const extra = STRESS ? everything() : [...new Map(unreached.map((s) => [stepKind(s), s])).values()].flatMap((s) => stepsFor(s));
    const left = await runSteps([...pending, ...extra]);
    assert.equal(left.length, 0, 'the final pass ran to completion');
    assert.equal(await d.stop(), 0);
    traceOf(join(d.dir, 'trace-final'));
    const final = await runFsck({ root: d.root, state: d.state, address: d.address });
    // Strict: whatever the crashes left for a start to clean must be gone now.
    assert.equal(final.errors, 0, `seed ${SEED}: fsck after the final clean stop:\n${formatReport(final, 'text', true)}`);

    const cli = run(process.execPath, [CTRD, '--config', d.configPath, 'fsck', '--format', 'json']);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.equal(JSON.parse(cli.stdout).errors, 0);

    const missing = available.filter((s) => !hits.has(s));
    assert.deepEqual(missing, [], `seed ${SEED}: fault sites never reached`);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`# crash seed ${SEED}: ${faults + kills} injections (${faults} at fault sites, ${kills} kill -9) in ${secs} s; ` +
      `sites injected ${injected.size}/${available.length}; final fsck ${final.warnings} warnings` +
      `; left for the next start to clean: ${leftovers.applyMounts} temporary apply mounts, ${leftovers.probeMounts} overlay probe mounts, ${leftovers.taskBundles} task bundles` +
      (available.length < FAULT_SITE_NAMES.length ? `; not available here: ${FAULT_SITE_NAMES.filter((s) => !available.includes(s)).join(', ')}` : ''));
    if (STRESS) assert.deepEqual(available.filter((s) => !injected.has(s)), [], `seed ${SEED}: sites never injected`);
  } finally {
    await d.dispose();
  }
});
