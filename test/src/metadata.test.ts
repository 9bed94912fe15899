import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ImagesClient } from '@ctrd/api/gen/containerd/services/images/v1/images.js';
import { fromServiceError } from '@ctrd/grpc';
import { isFailedPrecondition } from '@ctrd/errdefs';
import { NO_AUTO_GC, TestDaemon, missingTool, mustSucceed } from './harness.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const noCtr = missingTool('ctr');

describe('namespaces, content, leases and events through containerd\'s ctr', { skip: noCtr }, () => {
  let d: TestDaemon;
  before(async () => {
    // The content tests ingest with ctr, which takes no lease: nothing may collect mid-test.
    d = await TestDaemon.start({ toml: NO_AUTO_GC });
  });
  after(() => d.dispose());

  const ok = mustSucceed;

  test('a namespaced call without the namespace header fails with FailedPrecondition', async () => {
    const client = new ImagesClient(`unix://${d.address}`, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<unknown>((resolve) => client.list({ filters: [] }, new grpc.Metadata(), (e) => resolve(e)));
      assert.equal((err as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
      assert.equal((err as grpc.ServiceError).details, 'namespace is required: failed precondition');
      assert.ok(isFailedPrecondition(fromServiceError(err)));
    } finally {
      client.close();
    }
  });

  test('namespaces create, ls, label and rm', () => {
    ok(d.ctr(['namespaces', 'create', 'team-a', 'owner=alice']));
    assert.match(ok(d.ctr(['namespaces', 'ls'])), /team-a\s+owner=alice/);
    ok(d.ctr(['namespaces', 'label', 'team-a', 'tier=gold']));
    assert.match(ok(d.ctr(['namespaces', 'ls'])), /team-a\s+owner=alice,tier=gold|team-a\s+tier=gold,owner=alice/);
    assert.deepEqual(ok(d.ctr(['namespaces', 'ls', '-q'])).trim().split('\n').includes('team-a'), true);
    assert.equal(ok(d.ctr(['namespaces', 'rm', 'team-a'])).trim(), 'team-a');
    assert.doesNotMatch(ok(d.ctr(['namespaces', 'ls', '-q'])), /team-a/);
    ok(d.ctr(['namespaces', 'create', 'dup']));
    const again = d.ctr(['namespaces', 'create', 'dup']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
  });

  test('content ingest, ls, get, label, rm; get after rm is not found', () => {
    const data = randomBytes(300_000);
    const dg = sha(data);
    ok(d.ctr(['-n', 'c1', 'content', 'ingest', '--expected-size', String(data.length), '--expected-digest', dg, 'ref-1'], { input: data }));
    assert.match(ok(d.ctr(['-n', 'c1', 'content', 'ls'])), new RegExp(`${dg}\\s+300kB`));
    const got = d.ctr(['-n', 'c1', 'content', 'get', dg]);
    assert.equal(got.code, 0, got.stderr);
    assert.ok(Buffer.from(got.stdout, 'latin1').length > 0);
    assert.equal(sha(getBytes(d, 'c1', dg)), dg, 'identical bytes back');
    ok(d.ctr(['-n', 'c1', 'content', 'label', dg, 'color=blue']));
    assert.match(ok(d.ctr(['-n', 'c1', 'content', 'ls'])), /color=blue/);
    ok(d.ctr(['-n', 'c1', 'content', 'rm', dg]));
    const after = d.ctr(['-n', 'c1', 'content', 'get', dg]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /not found/);
  });

  test('an ingest with a wrong expected digest fails and leaves no blob', () => {
    const data = randomBytes(10_000);
    const wrong = sha(Buffer.from('something else'));
    const r = d.ctr(['-n', 'c2', 'content', 'ingest', '--expected-size', String(data.length), '--expected-digest', wrong, 'ref-bad'], { input: data });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed precondition|unexpected commit digest/);
    const ls = ok(d.ctr(['-n', 'c2', 'content', 'ls', '-q']));
    assert.doesNotMatch(ls, new RegExp(wrong.slice(7)));
    assert.doesNotMatch(ls, new RegExp(sha(data).slice(7)));
  });

  test('what namespace A holds is invisible from namespace B', () => {
    const data = randomBytes(5000);
    const dg = sha(data);
    ok(d.ctr(['-n', 'iso-a', 'content', 'ingest', '--expected-digest', dg, 'r'], { input: data }));
    ok(d.ctr(['-n', 'iso-a', 'leases', 'create', '--id', 'lease-a']));
    assert.match(ok(d.ctr(['-n', 'iso-a', 'content', 'ls', '-q'])), new RegExp(dg));
    assert.doesNotMatch(ok(d.ctr(['-n', 'iso-b', 'content', 'ls', '-q'])), new RegExp(dg));
    const get = d.ctr(['-n', 'iso-b', 'content', 'get', dg]);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /not found/);
    assert.doesNotMatch(ok(d.ctr(['-n', 'iso-b', 'leases', 'ls', '-q'])), /lease-a/);
    const rm = d.ctr(['-n', 'iso-b', 'leases', 'rm', 'lease-a']);
    assert.notEqual(rm.code, 0, 'another namespace cannot delete the lease');
    assert.match(ok(d.ctr(['-n', 'iso-a', 'leases', 'ls', '-q'])), /lease-a/);
  });

  test('deleting a non-empty namespace is refused naming what remains', () => {
    const data = randomBytes(1000);
    ok(d.ctr(['-n', 'full', 'content', 'ingest', '--expected-digest', sha(data), 'r'], { input: data }));
    const r = d.ctr(['namespaces', 'rm', 'full']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /namespace "full" must be empty, but it still has blobs/);
    assert.match(r.stderr, /failed precondition/);
  });

  test('leases create, ls, rm', () => {
    assert.equal(ok(d.ctr(['leases', 'create', '--id', 'l1', 'purpose=test'])).trim(), 'l1');
    assert.match(ok(d.ctr(['leases', 'ls'])), /l1\s+.*purpose=test/);
    assert.match(ok(d.ctr(['leases', 'ls'])), /containerd\.io\/gc\.expire=/);
    assert.equal(ok(d.ctr(['leases', 'rm', 'l1'])).trim(), 'l1');
    assert.doesNotMatch(ok(d.ctr(['leases', 'ls', '-q'])), /^l1$/m);
  });

  test('ctr events shows each operation with containerd\'s topic', async () => {
    const ev = spawn('ctr', ['--address', d.address, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ev.stdout.on('data', (b) => (out += b));
    try {
      await new Promise((r) => setTimeout(r, 500));
      ok(d.ctr(['namespaces', 'create', 'evt']));
      ok(d.ctr(['namespaces', 'label', 'evt', 'k=v']));
      const data = randomBytes(100);
      ok(d.ctr(['-n', 'evt', 'content', 'ingest', '--expected-digest', sha(data), 'r'], { input: data }));
      ok(d.ctr(['-n', 'evt', 'content', 'rm', sha(data)]));
      const deadline = Date.now() + 10_000;
      while (!/\/content\/delete/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /evt\s+\/namespaces\/create\s+\{"name":"evt"/);
      assert.match(out, /\/namespaces\/update\s+\{"name":"evt","labels":\{"k":"v"\}/);
      assert.match(out, new RegExp(`evt\\s+/content/delete\\s+\\{"digest":"${sha(data)}"`));
      const lines = out.trim().split('\n');
      assert.ok(lines.findIndex((l) => l.includes('/namespaces/create')) < lines.findIndex((l) => l.includes('/content/delete')));
    } finally {
      ev.kill();
    }
  });
});

/** goSize parses the decimal sizes ctr prints (`300kB`, `48.23MB`). */
function goSize(s: string | undefined): number {
  const m = /^([\d.]+)(B|kB|MB|GB)$/.exec(s ?? '');
  if (!m) return 0;
  return parseFloat(m[1]!) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B'];
}

function getBytes(d: TestDaemon, ns: string, dg: string): Buffer {
  const r = spawnSync('ctr', ['--address', d.address, '-n', ns, 'content', 'get', dg], { maxBuffer: 256 << 20 });
  return r.stdout;
}

test('kill -9 during a large ingest: the ingest survives, resumes and verifies', { skip: noCtr }, async () => {
  // The committed blob has no lease or root: the restarted daemon must not collect it before it is read.
  const d = await TestDaemon.start({ toml: NO_AUTO_GC });
  try {
    const data = randomBytes(96 << 20);
    const dg = sha(data);
    const ing = spawn('ctr', ['--address', d.address, 'content', 'ingest', '--expected-size', String(data.length), '--expected-digest', dg, 'big'], { stdio: ['pipe', 'ignore', 'ignore'] });
    ing.stdin.on('error', () => {});
    // Feed half, then wait until the daemon has stored some of it.
    ing.stdin.write(data.subarray(0, data.length / 2));
    let offset = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      offset = goSize(/big\s+(\S+)/.exec(d.ctr(['content', 'active']).stdout)?.[1]);
      if (offset >= 8 << 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await d.stop('SIGKILL');
    ing.kill('SIGKILL');
    assert.ok(offset >= 8 << 20, `ingest reached ${offset} bytes`);
    await d.boot();
    const active = d.ctr(['content', 'active']);
    assert.equal(active.code, 0, active.stderr);
    assert.ok(goSize(/big\s+(\S+)/.exec(active.stdout)?.[1]) >= offset, `the ingest keeps its offset after restart: ${active.stdout}`);
    // ctr resumes by seeking its input to the daemon's offset, so it reads a file, not a pipe.
    const file = join(d.dir, 'big.bin');
    writeFileSync(file, data);
    const fd = openSync(file, 'r');
    const resumed = spawnSync('ctr', ['--address', d.address, 'content', 'ingest', '--expected-size', String(data.length), '--expected-digest', dg, 'big'], { stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    assert.equal(resumed.status, 0, resumed.stderr.toString());
    assert.match(d.ctr(['content', 'ls', '-q']).stdout, new RegExp(dg));
    assert.equal(sha(getBytes(d, 'default', dg)), dg);
  } finally {
    await d.dispose();
  }
});
