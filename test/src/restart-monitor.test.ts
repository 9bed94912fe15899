import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, waitReady, missingTool, notRoot, busyboxMissing, mustSucceed, writeBusyboxArchive } from './harness.js';

const IMAGE = 'docker.io/library/busybox:restart-test';
const NS = `restart-${randomBytes(3).toString('hex')}`;
const STATUS = 'containerd.io/restart.status';

const skip = missingTool('ctr', 'runc', 'containerd-shim-runc-v2') ?? notRoot() ?? busyboxMissing();

describe('the restart monitor keeps labelled containers running', { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  const ctr = (args: string[]) => d.ctr(args, { namespace: NS });
  const ok = mustSucceed;
  /** taskRow returns [pid, status] of a task as `ctr tasks ls` shows it, or undefined. */
  const taskRow = (id: string): [number, string] | undefined => {
    const m = new RegExp(`^${id}\\s+(\\d+)\\s+(\\w+)`, 'm').exec(ctr(['tasks', 'ls']).stdout);
    return m ? [Number(m[1]), m[2]!] : undefined;
  };
  const until = async (what: string, cond: () => boolean, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${d.output.split('\n').filter((l) => /restart/.test(l)).slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const remove = async (id: string) => {
    ctr(['containers', 'label', id, `${STATUS}=`]);
    ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
    await until(`${id} to stop`, () => taskRow(id)?.[1] !== 'RUNNING');
    ctr(['tasks', 'delete', id]);
    ok(ctr(['containers', 'rm', id]));
  };

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-restart-fixtures-'));
    await writeBusyboxArchive(fixtures, IMAGE);
    d = await TestDaemon.start({ toml: '[plugins."io.containerd.internal.v1.restart"]\ninterval = "300ms"\n' });
    await waitReady(d);
    ok(ctr(['images', 'import', join(fixtures, 'busybox.tar')]));
  });
  after(async () => {
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  test('ctr plugins ls shows io.containerd.internal.v1 restart ok', () => {
    assert.match(ok(ctr(['plugins', 'ls', 'type==io.containerd.internal.v1'])), /io\.containerd\.internal\.v1\s+restart\s+-\s+ok/);
  });

  for (const runtime of ['io.containerd.ctrd.v1', 'io.containerd.runc.v2']) {
    test(`a killed task is running again within the interval (${runtime})`, async () => {
      const id = `keep-${runtime.split('.')[2]}`;
      ok(ctr(['run', '-d', '--runtime', runtime, '--label', `${STATUS}=running`, IMAGE, id, 'sleep', '1000']));
      const [pid, status] = taskRow(id)!;
      assert.equal(status, 'RUNNING');
      const t0 = Date.now();
      ok(ctr(['tasks', 'kill', '-s', 'SIGKILL', id]));
      await until(`${id} to run again`, () => {
        const row = taskRow(id);
        return row !== undefined && row[1] === 'RUNNING' && row[0] !== pid;
      });
      assert.ok(Date.now() - t0 < 10_000, `restarted after ${Date.now() - t0} ms`);
      await remove(id);
    });
  }

  test('the loguri label sends the restarted task\'s output to that file', async () => {
    const log = join(fixtures, 'logs', 'logged.log');
    const id = 'logged';
    ok(ctr(['run', '-d', '--label', `${STATUS}=running`, '--label', `containerd.io/restart.loguri=file://${log}`, IMAGE, id, 'sh', '-c', 'echo started-$$; exec sleep 1000']));
    ok(ctr(['tasks', 'kill', '-s', 'SIGKILL', id]));
    await until('the restarted task to log', () => {
      try {
        return /started-\d+/.test(readFileSync(log, 'utf8'));
      } catch {
        return false;
      }
    });
    await remove(id);
  });

  test('a container labelled stopped has its task killed and deleted; no label, no restart', async () => {
    const id = 'halt';
    ok(ctr(['run', '-d', IMAGE, id, 'sleep', '1000']));
    assert.equal(taskRow(id)?.[1], 'RUNNING');
    ok(ctr(['containers', 'label', id, `${STATUS}=stopped`]));
    await until(`${id}'s task to go`, () => taskRow(id) === undefined);
    ok(ctr(['containers', 'info', id]));
    ok(ctr(['containers', 'label', id, `${STATUS}=`]));
    ok(ctr(['tasks', 'start', '-d', id]));
    ok(ctr(['tasks', 'kill', '-s', 'SIGKILL', id]));
    await until(`${id} to stop`, () => taskRow(id)?.[1] === 'STOPPED');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(taskRow(id)?.[1], 'STOPPED', 'an unlabelled container is left stopped');
    ok(ctr(['tasks', 'delete', id]));
    ok(ctr(['containers', 'rm', id]));
  });
});

