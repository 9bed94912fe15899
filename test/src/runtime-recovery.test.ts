import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskExit } from '@ctrd/api/gen/containerd/events/task.js';
import { connect, RemoteEvents, RemoteTasks } from '@ctrd/client';
import { TestDaemon, waitReady, missingTool, notRoot, pidsMatching, shimServerPids, waitFor, busyboxMissing, mustSucceed, writeBusyboxArchive } from './harness.js';

// Checks of runtime recovery beyond run.test.ts (which covers tasks surviving a kill -9 of ctrd
// and being RUNNING after restart): what happens to tasks and shims that end while ctrd is down.
const IMAGE = 'docker.io/library/busybox:recovery-test';
const tag = randomBytes(3).toString('hex');
const NS_EXIT = `recov-exit-${tag}`;
const NS_SHIM = `recov-shim-${tag}`;
const RUNTIME = 'io.containerd.ctrd.v1';
const TASKS_DIR = 'io.containerd.runtime.v2.task';

const skip = missingTool('ctr', 'runc') ?? notRoot() ?? busyboxMissing();

interface SeenExit {
  namespace: string;
  id: string;
  status: number;
}

describe('runtime recovery: tasks and shims that end while ctrd is down', { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  const exits: SeenExit[] = [];
  const events = new AbortController();
  let shimsBefore: number[] = [];
  let victimPid = 0;
  const ctr = (ns: string, args: string[]) => d.ctr(args, { namespace: ns });
  const ok = mustSucceed;
  const taskRow = (ns: string, id: string) => new RegExp(`^${id}\\s+(\\d+)\\s+(\\w+)`, 'm').exec(ctr(ns, ['tasks', 'ls']).stdout);
  const pidAlive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(safeRead(`/proc/${pid}/status`));

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-recovery-fixtures-'));
    await writeBusyboxArchive(fixtures, IMAGE);
    d = await TestDaemon.start();
    await waitReady(d);
    for (const ns of [NS_EXIT, NS_SHIM]) ok(ctr(ns, ['images', 'import', join(fixtures, 'busybox.tar')]));

    ok(ctr(NS_EXIT, ['run', '-d', '--runtime', RUNTIME, IMAGE, 'long', 'sleep', '1000']));
    // `short` exits with 3 on SIGTERM, sent only once ctrd is down (a timer could fire before the
    // kill on a busy machine).
    ok(ctr(NS_EXIT, ['run', '-d', '--runtime', RUNTIME, IMAGE, 'short', 'sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.2; done']));
    ok(ctr(NS_SHIM, ['run', '-d', '--runtime', RUNTIME, IMAGE, 'victim', 'sleep', '1000']));
    const shortPid = Number(taskRow(NS_EXIT, 'short')?.[1]);
    victimPid = Number(taskRow(NS_SHIM, 'victim')?.[1]);
    assert.ok(shortPid > 0 && victimPid > 0);
    shimsBefore = shimServerPids(d.address);

    // Down: kill -9 ctrd; `short` exits while it is down; the shim of NS_SHIM is killed.
    await d.stop('SIGKILL');
    process.kill(shortPid, 'SIGTERM');
    await waitFor('the short task to exit', () => !pidAlive(shortPid), 10_000);
    // Long enough for the shim to give up delivering the exit to a daemon that is not there.
    await new Promise((r) => setTimeout(r, 2000));
    const victimShims = pidsMatching((c) => c.includes('shim-server') && c.includes(` -namespace ${NS_SHIM} `) && c.includes(` -address ${d.address} `));
    assert.equal(victimShims.length, 1, 'one shim serves the victim namespace');
    process.kill(victimShims[0]!, 'SIGKILL');
    await waitFor('the victim shim to die', () => !pidAlive(victimShims[0]!));

    await d.boot();
    await waitReady(d);
    // ctrd's sequenced Subscribe replays everything retained since it booted, so nothing
    // published during recovery is missed however early it happened.
    const conn = connect(d.address);
    const stream = new RemoteEvents(conn).subscribe({ after: 0, filters: ['topic=="/tasks/exit"'], signal: events.signal });
    void (async () => {
      for await (const e of stream) {
        const ev = TaskExit.decode(e.event.value);
        exits.push({ namespace: e.namespace, id: ev.containerId, status: ev.exitStatus });
      }
    })().finally(() => conn.close());
  });
  after(async () => {
    events.abort();
    if (d !== undefined) {
      for (const [ns, id] of [[NS_EXIT, 'long'], [NS_EXIT, 'short'], [NS_SHIM, 'victim']] as const) {
        ctr(ns, ['tasks', 'kill', '-s', 'SIGKILL', id]);
        await waitFor(`${id} to stop`, () => taskRow(ns, id)?.[2] !== 'RUNNING').catch(() => {});
        ctr(ns, ['tasks', 'delete', id]);
        ctr(ns, ['containers', 'rm', id]);
      }
      await d.dispose();
    }
    await rm(fixtures, { recursive: true, force: true });
  });

  test('shim processes never outnumber namespaces', () => {
    assert.equal(shimsBefore.length, 2, `shims for 2 namespaces with 3 tasks: ${shimsBefore.join(', ')}`);
    assert.ok(shimServerPids(d.address).length <= 2);
  });

  test('the task that kept running is RUNNING again', () => {
    assert.equal(taskRow(NS_EXIT, 'long')?.[2], 'RUNNING');
  });

  test('the task that exited while ctrd was down is STOPPED and Wait returns its status', async () => {
    assert.equal(taskRow(NS_EXIT, 'short')?.[2], 'STOPPED');
    const conn = connect(d.address, { namespace: NS_EXIT });
    try {
      const exit = await new RemoteTasks(conn).wait('short');
      assert.equal(exit.status, 3);
    } finally {
      conn.close();
    }
  });

  // The shim holds an event it cannot deliver and retries until ctrd listens again.
  test('its exit is reported exactly once as /tasks/exit', async () => {
    await waitFor('/tasks/exit of short', () => exits.some((e) => e.namespace === NS_EXIT && e.id === 'short'), 10_000).catch(() => {});
    // Let anything that would report it a second time (the Wait above, a re-sync) arrive.
    await new Promise((r) => setTimeout(r, 1500));
    const seen = exits.filter((e) => e.namespace === NS_EXIT && e.id === 'short');
    assert.deepEqual(seen, [{ namespace: NS_EXIT, id: 'short', status: 3 }], `exits seen since restart: ${JSON.stringify(exits)}`);
  });

  test('a shim killed while ctrd was down yields /tasks/exit, a clean bundle and no task', async () => {
    await waitFor('/tasks/exit of victim', () => exits.some((e) => e.namespace === NS_SHIM && e.id === 'victim'), 10_000).catch(() => {});
    assert.equal(exits.filter((e) => e.namespace === NS_SHIM && e.id === 'victim').length, 1, `exits seen: ${JSON.stringify(exits)}`);
    assert.equal(taskRow(NS_SHIM, 'victim'), null, 'the task is gone');
    assert.equal(existsSync(join(d.state, TASKS_DIR, NS_SHIM, 'victim')), false, 'bundle removed');
    assert.equal(existsSync(join(d.root, TASKS_DIR, NS_SHIM, 'victim')), false, 'work directory removed');
    assert.equal(existsSync(join('/run/ctrd/runc', NS_SHIM, 'victim')), false, 'runc state removed');
    await waitFor('the orphaned container process to go', () => !pidAlive(victimPid), 5000).catch(() => {});
    assert.equal(pidAlive(victimPid), false, 'the container process does not outlive its shim');
    assert.doesNotMatch(safeRead('/proc/self/mountinfo'), new RegExp(`${NS_SHIM}/victim`), 'rootfs unmounted');
    ok(ctr(NS_SHIM, ['containers', 'info', 'victim']));
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
