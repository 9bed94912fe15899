import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBusybox } from '@ctrd/images/fixtures';
import { TestDaemon, missingTool, notRoot, run, type RunResult, writeBusyboxArchive } from './harness.js';

const IMAGE = 'docker.io/library/busybox:runtime-create-test';
const RUNTIME = 'io.containerd.ctrd.v1';
// runc's state and cgroups are per namespace and shared by every daemon on the host.
const NS = `rtc-${randomBytes(3).toString('hex')}`;
const skip = missingTool('ctr', 'runc', 'script') ?? notRoot() ?? (findBusybox() ? undefined : 'busybox-static not installed');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tasks on ctrd\'s own shim: stdin, tty and the shim run directory', { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  let runDir: string;
  const ctr = (args: string[], input?: string) => d.ctr(args, { namespace: NS, ...(input !== undefined ? { input } : {}) });
  const ok = (r: RunResult) => {
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  // The run directory is this daemon's alone, and it uses one namespace: one server's files.
  const serverFiles = () => (existsSync(runDir) ? readdirSync(runDir).sort() : []);

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-rtc-fixtures-'));
    runDir = join(fixtures, 'shim-run');
    await writeBusyboxArchive(fixtures, IMAGE);
    // A run directory of its own, and a server that exits soon after its last task is gone
    // (the runtime's shim_idle_exit, passed to the server by the daemon).
    d = await TestDaemon.start({
      env: { CTRD_SHIM_RUN_DIR: runDir },
      toml: '[plugins."io.containerd.runtime.v2.task"]\nshim_idle_exit = "2500ms"',
    });
    ok(ctr(['images', 'import', join(fixtures, 'busybox.tar')]));
  });
  after(async () => {
    for (const id of ctr(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['tasks', 'kill', '-s', 'KILL', id]);
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  test('a short stdin pipe reaches the task, which sees its end and exits', () => {
    const r = ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'stdin-wc', 'wc', '-l'], 'a\nb\nc\n');
    assert.equal(ok(r).trim(), '3');
  });

  test('a tty task\'s output arrives and its exit status comes back', () => {
    const cmd = `ctr --address ${d.address} --namespace ${NS} run -t --rm --runtime ${RUNTIME} ${IMAGE} tty-echo sh -c 'test -t 0 && test -t 1 && echo tty-ok; exit 5'`;
    // script(1) gives ctr the terminal it needs on stdin; -e returns the command's status.
    const r = run('script', ['-qec', cmd, '/dev/null'], { timeoutMs: 30_000 });
    assert.match(r.stdout, /tty-ok/, `stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.equal(r.code, 5, `stdout: ${r.stdout} stderr: ${r.stderr}`);
  });

  test('tasks run back to back share one server, which removes its files once idle', async () => {
    const serverPid = () => {
      const f = serverFiles().find((n) => n.endsWith('.pid'));
      return f === undefined ? undefined : readFileSync(join(runDir, f), 'utf8');
    };
    assert.equal(ok(ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'seq-1', 'echo', 'one'])), 'one\n');
    const first = serverPid();
    assert.ok(first !== undefined, `a server is lingering: ${serverFiles().join(' ')}`);
    ok(ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'idle-check', 'sleep', '1000']));
    assert.equal(serverPid(), first, 'the lingering server took the next task');
    const files = serverFiles();
    for (const ext of ['.lock', '.log', '.pid', '.sock']) assert.ok(files.some((f) => f.endsWith(ext)), `${ext} while serving: ${files.join(' ')}`);
    ok(ctr(['tasks', 'kill', '-s', 'KILL', 'idle-check']));
    for (let i = 0; i < 50 && ctr(['tasks', 'ls', '-q']).stdout.includes('idle-check') && !/STOPPED/.test(ctr(['tasks', 'ls']).stdout); i++) await sleep(100);
    ok(ctr(['tasks', 'delete', 'idle-check']));
    ok(ctr(['containers', 'delete', 'idle-check']));
    let left = serverFiles();
    for (let i = 0; i < 80 && left.length > 0; i++) {
      await sleep(100);
      left = serverFiles();
    }
    assert.deepEqual(left, [], 'no lock, log, pid, socket or claims left behind');
  });
});
