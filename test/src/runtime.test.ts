import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, missingTool } from './harness.js';

const noCtr = missingTool('ctr');

describe('runtime v2 and the Tasks service, seen through ctr', { skip: noCtr }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(() => d.dispose());

  test('the runtime and Tasks plugins load', () => {
    const r = d.ctr(['plugins', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const byUri = new Map(rows.map((c) => [`${c[0]}.${c[1]}`, c.at(-1)]));
    assert.equal(byUri.get('io.containerd.runtime.v2.task'), 'ok');
    assert.equal(byUri.get('io.containerd.grpc.v1.tasks'), 'ok');
  });

  test('ctr task ls lists no tasks in a fresh daemon', () => {
    const r = d.ctr(['task', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['TASK', 'PID', 'STATUS']]);
  });

  test('a task for a missing container is refused with not found', () => {
    const r = d.ctr(['task', 'kill', 'ghost']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found/);
  });
});
