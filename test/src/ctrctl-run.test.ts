import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBusybox } from '@ctrd/images/fixtures';
import { TestDaemon, missingTool, notRoot, mustSucceed, writeBusyboxArchive } from './harness.js';

const IMAGE = 'docker.io/library/busybox:ctrctl-run';
const FIFO_ROOT = '/run/ctrctl/fifo';
const skip = missingTool('ctr', 'runc') ?? notRoot() ?? (findBusybox() ? undefined : 'busybox-static not installed');

/** processesMentioning lists the pids whose command line contains `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) pids.push(Number(p));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

describe('ctrctl runs containers', { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  const ok = mustSucceed;

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrctl-run-fixtures-'));
    await writeBusyboxArchive(fixtures, IMAGE);
    d = await TestDaemon.start();
    ok(d.ctr(['images', 'import', join(fixtures, 'busybox.tar')]));
  });
  after(async () => {
    // Tasks a failed test left behind are removed, so no shim or container outlives the daemon.
    for (const id of d?.ctrctl(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean) ?? []) d.ctrctl(['tasks', 'delete', '--force', id]);
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  test('run --rm prints the output, exit codes propagate, --env is visible', () => {
    assert.equal(ok(d.ctrctl(['run', '--rm', IMAGE, 'cr-t1', 'echo', 'hello'])), 'hello\n');
    assert.equal(d.ctrctl(['run', '--rm', IMAGE, 'cr-t2', 'sh', '-c', 'exit 7']).code, 7);
    assert.equal(ok(d.ctrctl(['run', '--rm', '--env', 'GREETING=hi there', IMAGE, 'cr-t3', 'sh', '-c', 'echo "$GREETING"'])), 'hi there\n');
    // A short pipe ends before Create returns: the client must close stdin once the task exists.
    assert.equal(ok(d.ctrctl(['run', '--rm', IMAGE, 'cr-stdin', 'wc', '-l'], { input: 'a\nb\nc\n' })).trim(), '3');
    const err = d.ctrctl(['run', '--rm', IMAGE, 'cr-t4', 'sh', '-c', 'echo oops >&2']);
    assert.equal(err.stderr, 'oops\n');
    assert.equal(ok(d.ctr(['containers', 'ls', '-q'])).trim(), '', 'run --rm leaves no container');
    assert.equal(ok(d.ctr(['snapshots', 'ls'])).split('\n').filter((l) => /^cr-t\d\s/.test(l)).length, 0, 'nor a snapshot');
  });

  test('the spec: hostname, capabilities, memory limit, masked paths', () => {
    assert.equal(ok(d.ctrctl(['run', '--rm', IMAGE, 'cr-spec1', 'hostname'])), 'cr-spec1\n');
    const capEff = (extra: string[]) => /CapEff:\s+([0-9a-f]+)/.exec(ok(d.ctrctl(['run', '--rm', ...extra, IMAGE, 'cr-caps', 'cat', '/proc/self/status'])))?.[1];
    const plain = BigInt(`0x${capEff([])}`);
    assert.equal(plain, 0xa80425fbn, 'containerd\'s default capability set');
    assert.ok(BigInt(`0x${capEff(['--cap-add', 'CAP_SYS_ADMIN'])}`) & (1n << 21n));
    ok(d.ctrctl(['run', '-d', '--memory-limit', String(64 * 1024 * 1024), '--cpus', '0.5', IMAGE, 'cr-mem', 'sleep', '1000']));
    try {
      const cg = '/sys/fs/cgroup/memory/default/cr-mem/memory.limit_in_bytes';
      if (existsSync('/sys/fs/cgroup/memory/default')) assert.equal(readFileSync(cg, 'utf8').trim(), String(64 * 1024 * 1024));
      const quota = '/sys/fs/cgroup/cpu/default/cr-mem/cpu.cfs_quota_us';
      if (existsSync(quota)) assert.equal(readFileSync(quota, 'utf8').trim(), '50000');
    } finally {
      ok(d.ctrctl(['tasks', 'delete', '--force', 'cr-mem']));
      ok(d.ctrctl(['containers', 'rm', 'cr-mem']));
    }
    assert.equal(ok(d.ctrctl(['run', '--rm', IMAGE, 'cr-mask', 'sh', '-c', 'ls -A /sys/firmware | wc -l'])).trim(), '0');
  });

  test('-d, then tasks ls, ps, exec, pause, resume, metrics, kill, delete', async () => {
    ok(d.ctrctl(['run', '-d', IMAGE, 'cr-bg', 'sleep', '1000']));
    assert.match(ok(d.ctrctl(['tasks', 'ls'])), /^cr-bg\s+\d+\s+RUNNING$/m);
    assert.match(ok(d.ctrctl(['tasks', 'ps', 'cr-bg'])), /^\d+\s+/m);
    assert.equal(ok(d.ctrctl(['tasks', 'exec', '--exec-id', 'e1', 'cr-bg', 'echo', 'from-exec'])), 'from-exec\n');
    assert.equal(d.ctrctl(['tasks', 'exec', 'cr-bg', 'sh', '-c', 'exit 3']).code, 3);
    ok(d.ctrctl(['tasks', 'pause', 'cr-bg']));
    assert.match(ok(d.ctrctl(['tasks', 'ls'])), /^cr-bg\s+\d+\s+PAUSED$/m);
    ok(d.ctrctl(['tasks', 'resume', 'cr-bg']));
    assert.match(ok(d.ctrctl(['tasks', 'metrics', 'cr-bg'])), /^METRIC\s+VALUE$/m);
    assert.notEqual(d.ctrctl(['tasks', 'delete', 'cr-bg']).code, 0, 'a running task is not deleted');
    ok(d.ctrctl(['tasks', 'kill', '-s', 'SIGKILL', 'cr-bg']));
    const deadline = Date.now() + 10_000;
    while (!/^cr-bg\s+\d+\s+STOPPED$/m.test(d.ctrctl(['tasks', 'ls']).stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    ok(d.ctrctl(['tasks', 'delete', 'cr-bg']));
    assert.equal(ok(d.ctrctl(['tasks', 'ls', '-q'])).trim(), '');
    ok(d.ctrctl(['containers', 'rm', 'cr-bg']));
  });

  test('containers create, then tasks start in the foreground', () => {
    ok(d.ctrctl(['containers', 'create', IMAGE, 'cr-created', 'echo', 'started']));
    assert.match(ok(d.ctrctl(['containers', 'ls'])), /^cr-created\s+/m);
    assert.equal(ok(d.ctrctl(['tasks', 'start', 'cr-created'])), 'started\n');
    ok(d.ctrctl(['containers', 'rm', 'cr-created']));
  });

  test('10 sequential run --rm leave no mounts, shims, fifos, bundles or cgroups', () => {
    const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(d.dir)).length;
    const ioDirs = () => (existsSync(FIFO_ROOT) ? readdirSync(FIFO_ROOT).filter((f) => f.startsWith('io-')) : []);
    const ioBefore = new Set(ioDirs());
    const ids = Array.from({ length: 10 }, (_, i) => `cr-leak-${i}`);
    for (const id of ids) assert.equal(ok(d.ctrctl(['run', '--rm', IMAGE, id, 'true'])), '');
    const mountsAfter = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(d.dir)).length;
    assert.equal(mountsAfter, mountsBefore, 'mounts under the daemon\'s root and state');
    const shims = processesMentioning(d.address).filter((pid) => pid !== d.proc?.pid);
    assert.ok(shims.length <= 1, `at most one shim for the namespace, found ${shims.length}`);
    const leftIo = ioDirs().filter((f) => !ioBefore.has(f));
    assert.deepEqual(leftIo, [], 'fifo directories');
    const stateEntries = (dir: string): string[] => {
      if (!existsSync(dir)) return [];
      return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => ids.some((id) => p.split('/').includes(id)));
    };
    assert.deepEqual(stateEntries(d.state), [], 'bundles in the state directory');
    for (const id of ids) assert.ok(!existsSync(`/sys/fs/cgroup/memory/default/${id}`), `cgroup of ${id}`);
  });
});
