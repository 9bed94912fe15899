import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CTRD, TOP, TestDaemon, missingTool, run } from './harness.js';

const noCtr = missingTool('ctr');

describe('daemon boot, seen through containerd\'s ctr', { skip: noCtr }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ toml: 'disabled_plugins = ["io.containerd.grpc.v1.healthcheck"]' });
  });
  after(() => d.dispose());

  test('ctr version shows our server version and the UUID kept under root', async () => {
    const r = d.ctr(['version']);
    assert.equal(r.code, 0, r.stderr);
    const uuid = (await readFile(join(d.root, 'io.containerd.grpc.v1.introspection', 'uuid'), 'utf8')).trim();
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.match(r.stdout, /Server:\n\s+Version:\s+v\d+\.\d+\.\d+/);
    assert.match(r.stdout, new RegExp(`UUID: ${uuid}`));
  });

  test('ctr plugins ls lists every loaded plugin with its status; a disabled one is absent', () => {
    const r = d.ctr(['plugins', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const byUri = new Map(rows.map((c) => [`${c[0]}.${c[1]}`, c[3]]));
    assert.equal(byUri.get('io.containerd.grpc.v1.introspection'), 'ok');
    assert.equal(byUri.get('io.containerd.grpc.v1.version'), 'ok');
    assert.equal(byUri.has('io.containerd.grpc.v1.healthcheck'), false, 'disabled plugin must not be listed');
    for (const [uri, status] of byUri) assert.match(status!, /^(ok|skip|error)$/, uri);
  });

  test('ctr plugins ls accepts filters', () => {
    const r = d.ctr(['plugins', 'ls', 'id==version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 2);
  });

  test('the socket is 0660 and a second daemon on it is refused', async () => {
    assert.equal((await stat(d.address)).mode & 0o777, 0o660);
    const second = await TestDaemon.create();
    try {
      const r = run(process.execPath, [CTRD, '--config', second.configPath, '--address', d.address, '--root', second.root, '--state', second.state]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /already serving/);
      assert.equal(d.ctr(['version']).code, 0, 'the first daemon still answers');
    } finally {
      await second.dispose();
    }
  });

  test('ctrctl version and plugins ls', () => {
    const v = d.ctrctl(['version', '--format', 'json']);
    assert.equal(v.code, 0, v.stderr);
    const parsed = JSON.parse(v.stdout) as { server: { uuid: string } };
    assert.match(parsed.server.uuid, /^[0-9a-f-]{36}$/);
    const p = d.ctrctl(['plugins', 'ls', '--detailed']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Init time:/);
  });
});

describe('start-up failures', { skip: noCtr }, () => {
  test('a required plugin that is not registered stops start-up naming it', async () => {
    const d = await TestDaemon.create({ toml: 'required_plugins = ["io.containerd.grpc.v1.nonexistent"]' });
    try {
      await d.boot({ wait: false });
      const code = await d.exit;
      assert.notEqual(code, 0);
      assert.match(d.output, /io\.containerd\.grpc\.v1\.nonexistent/);
    } finally {
      await d.dispose();
    }
  });

  test('an unknown config key stops start-up naming the key', async () => {
    const d = await TestDaemon.create({ toml: 'bogus_key = 1' });
    try {
      await d.boot({ wait: false });
      assert.notEqual(await d.exit, 0);
      assert.match(d.output, /unknown key "bogus_key"/);
    } finally {
      await d.dispose();
    }
  });

  test('a stale socket file is replaced', async () => {
    const d = await TestDaemon.create();
    try {
      await d.boot();
      await d.stop('SIGKILL');
      assert.ok((await stat(d.address)).isSocket(), 'a killed daemon leaves its socket');
      await d.boot();
      assert.equal(d.ctr(['version']).code, 0);
    } finally {
      await d.dispose();
    }
  });
});

test('config/default.toml equals `ctrd config default`', async () => {
  const r = run(process.execPath, [CTRD, 'config', 'default']);
  assert.equal(r.code, 0, r.stderr);
  const file = await readFile(join(TOP, 'config', 'default.toml'), 'utf8');
  assert.equal(file, r.stdout, 'run `node packages/daemon/dist/bin/ctrd.js config default > config/default.toml`');
});

test('npx ctrd and npx ctrctl resolve to the built binaries', () => {
  for (const [bin, args, want] of [['ctrd', ['config', 'default'], /^# Config format version/], ['ctrctl', ['--help'], /ctrctl <command>/]] as const) {
    const r = run(join(TOP, 'node_modules', '.bin', bin), [...args]);
    assert.equal(r.code, 0, `${bin}: ${r.stderr}`);
    assert.match(r.stdout, want);
  }
});
