import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RemoteContainerStore } from '@ctrd/client';
import { isFailedPrecondition } from '@ctrd/errdefs';
import { findBusybox } from '@ctrd/images/fixtures';
import { TestDaemon, missingTool, notRoot, mustSucceed, writeBusyboxArchive } from './harness.js';

const IMAGE = 'docker.io/library/busybox:run-test';
// runc's state and the cgroup paths are per namespace and shared by every daemon on the host:
// a namespace of its own keeps this file's task IDs from meeting another test's.
const NS = `run-${randomBytes(3).toString('hex')}`;
const skip = missingTool('ctr', 'runc', 'containerd-shim-runc-v2') ?? notRoot() ?? (findBusybox() ? undefined : 'busybox-static not installed');

describe('containers really run, driven by containerd\'s ctr', { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  const ctr = (args: string[]) => d.ctr(args, { namespace: NS });
  const ok = mustSucceed;

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-run-fixtures-'));
    await writeBusyboxArchive(fixtures, IMAGE);
    d = await TestDaemon.start();
    ok(ctr(['images', 'import', join(fixtures, 'busybox.tar')]));
  });
  after(async () => {
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  for (const runtime of ['io.containerd.ctrd.v1', 'io.containerd.runc.v2']) {
    test(`run --rm prints hello and exit codes propagate (${runtime})`, () => {
      assert.equal(ok(ctr(['run', '--rm', '--runtime', runtime, IMAGE, `hello-${runtime.split('.')[2]}`, 'echo', 'hello'])), 'hello\n');
      const r = ctr(['run', '--rm', '--runtime', runtime, IMAGE, `exit-${runtime.split('.')[2]}`, 'sh', '-c', 'exit 7']);
      assert.equal(r.code, 7);
      assert.equal(ok(ctr(['containers', 'ls', '-q'])).trim(), '', 'run --rm leaves no container');
    });
  }

  test('run -d, tasks ls/ps/exec/pause/resume/metrics/kill/delete, and a running task keeps its container', async () => {
    ok(ctr(['run', '-d', '--runtime', 'io.containerd.ctrd.v1', IMAGE, 'bg', 'sleep', '1000']));
    assert.match(ok(ctr(['tasks', 'ls'])), /bg\s+\d+\s+RUNNING/);
    assert.match(ok(ctr(['tasks', 'ps', 'bg'])), /^\d+\s+-$/m);
    assert.equal(ok(ctr(['tasks', 'exec', '--exec-id', 'e1', 'bg', 'echo', 'from-exec'])), 'from-exec\n');
    // The shim freezes the task's cgroup itself; runc, which reads its freezer back, must agree.
    const runcStatus = () => (JSON.parse(execFileSync('runc', ['--root', join('/run/ctrd/runc', NS), 'state', 'bg'], { encoding: 'utf8' })) as { status: string }).status;
    ok(ctr(['tasks', 'pause', 'bg']));
    assert.match(ok(ctr(['tasks', 'ls'])), /bg\s+\d+\s+PAUSED/);
    assert.equal(runcStatus(), 'paused');
    ok(ctr(['tasks', 'resume', 'bg']));
    assert.match(ok(ctr(['tasks', 'ls'])), /bg\s+\d+\s+RUNNING/);
    assert.equal(runcStatus(), 'running');
    assert.match(ok(ctr(['tasks', 'metrics', 'bg'])), /memory\.usage_in_bytes\s+\d+/);
    const conn = connect(d.address, { namespace: NS });
    try {
      await assert.rejects(new RemoteContainerStore(conn).delete(NS, 'bg'), (e: Error) => isFailedPrecondition(e) && /task is running/.test(e.message));
    } finally {
      conn.close();
    }
    ok(ctr(['tasks', 'kill', '-s', 'SIGKILL', 'bg']));
    const deadline = Date.now() + 10_000;
    while (!/bg\s+\d+\s+STOPPED/.test(ctr(['tasks', 'ls']).stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(ok(ctr(['tasks', 'ls'])), /bg\s+\d+\s+STOPPED/);
    ok(ctr(['tasks', 'delete', 'bg']));
    ok(ctr(['containers', 'rm', 'bg']));
  });

  test('the events of a run arrive in containerd\'s order', async () => {
    const ev = spawn('ctr', ['--address', d.address, 'events', `namespace==${NS}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    ev.stdout.on('data', (b) => (out += b));
    try {
      await new Promise((r) => setTimeout(r, 400));
      ok(ctr(['run', '--rm', '--runtime', 'io.containerd.ctrd.v1', IMAGE, 'evrun', 'true']));
      const deadline = Date.now() + 10_000;
      while (!/\/tasks\/delete/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const topics = out.trim().split('\n').map((l) => /\s(\/tasks\/[a-z-]+)\s/.exec(l)?.[1]).filter(Boolean);
      assert.deepEqual(topics, ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
    } finally {
      ev.kill();
    }
  });

  test('kill -9 of ctrd with running tasks: they survive and are RUNNING after restart', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `survivor-${i}`);
    for (const id of ids) ok(ctr(['run', '-d', '--runtime', 'io.containerd.ctrd.v1', IMAGE, id, 'sleep', '1000']));
    await d.stop('SIGKILL');
    await d.boot();
    const ls = ok(ctr(['tasks', 'ls']));
    for (const id of ids) assert.match(ls, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    for (const id of ids) {
      ok(ctr(['tasks', 'kill', '-s', 'SIGKILL', id]));
    }
    for (const id of ids) {
      const deadline = Date.now() + 10_000;
      while (!new RegExp(`${id}\\s+\\d+\\s+STOPPED`).test(ctr(['tasks', 'ls']).stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      ok(ctr(['tasks', 'delete', id]));
      ok(ctr(['containers', 'rm', id]));
    }
  });
});
