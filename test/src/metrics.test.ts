import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBusybox } from '@ctrd/images/fixtures';
import { TestDaemon, missingTool, notRoot, run, writeBusyboxArchive } from './harness.js';

const IMAGE = 'docker.io/library/busybox:metrics-test';
const NS = `metrics-${randomBytes(3).toString('hex')}`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('metrics endpoint serves Prometheus text with gRPC, plugin and process families', { skip: missingTool('ctr') }, async (t) => {
  const port = await freePort();
  const d = await TestDaemon.start({ toml: `[metrics]\naddress = "127.0.0.1:${port}"\ngrpc_histogram = true` });
  try {
    // Version answers before the plugins are up, from a server that counts nothing yet: create
    // the namespace first, which waits for the full start.
    assert.equal(d.ctr(['namespaces', 'create', 'metrics-ns']).code, 0);
    assert.equal(d.ctr(['version']).code, 0);
    // a server-streaming call, served without grpc-js as the unary ones
    assert.equal(d.ctr(['content', 'ls']).code, 0);
    const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /grpc_server_handled_total\{grpc_service="containerd\.services\.version\.v1\.Version",grpc_method="Version",grpc_code="OK"\} [1-9]/);
    assert.match(text, /grpc_server_handled_total\{grpc_service="containerd\.services\.content\.v1\.Content",grpc_method="List",grpc_code="OK"\} 1/);
    assert.match(text, /grpc_server_handling_seconds_bucket\{/);
    assert.match(text, /ctrd_plugin_init_seconds\{type="io\.containerd\.grpc\.v1",id="version",status="ok"\}/);
    assert.match(text, /ctrd_process_resident_memory_bytes \d+/);
    assert.match(text, /ctrd_images\{namespace="metrics-ns"\} 0/);
    assert.match(text, /ctrd_content_blobs\{namespace="metrics-ns"\} 0/);
    assert.match(text, /ctrd_content_size_bytes\{namespace="metrics-ns"\} 0/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    await t.test('promtool accepts the exposition', { skip: missingTool('promtool') }, () => {
      const check = run('promtool', ['check', 'metrics'], { input: text });
      assert.equal(check.code, 0, check.stdout + check.stderr);
    });
  } finally {
    await d.dispose();
  }
});

test('metrics report tasks by status and a running container\'s cgroup usage', { skip: missingTool('ctr', 'runc') ?? notRoot() ?? (findBusybox() ? undefined : 'busybox-static not installed') }, async (t) => {
  const port = await freePort();
  const fixtures = await mkdtemp(join(tmpdir(), 'ctrd-metrics-fixtures-'));
  t.after(() => rm(fixtures, { recursive: true, force: true }));
  await writeBusyboxArchive(fixtures, IMAGE);
  const d = await TestDaemon.start({ toml: `[metrics]\naddress = "127.0.0.1:${port}"` });
  const ctr = (args: string[]) => d.ctr(args, { namespace: NS });
  try {
    assert.equal(ctr(['images', 'import', join(fixtures, 'busybox.tar')]).code, 0);
    const r = ctr(['run', '-d', IMAGE, 'metered', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const text = await (await fetch(`http://127.0.0.1:${port}/v1/metrics`)).text();
    assert.match(text, new RegExp(`ctrd_tasks\\{namespace="${NS}",runtime="[^"]+",status="running"\\} 1`));
    const mem = new RegExp(`ctrd_container_memory_usage_bytes\\{namespace="${NS}",container_id="metered"\\} (\\d+)`).exec(text);
    assert.ok(mem && Number(mem[1]) > 0, 'memory usage of the running container');
    assert.match(text, new RegExp(`ctrd_container_pids_current\\{namespace="${NS}",container_id="metered"\\} 1`));
    assert.match(text, new RegExp(`ctrd_images\\{namespace="${NS}"\\} 1`));
    assert.match(text, new RegExp(`ctrd_snapshots\\{namespace="${NS}",snapshotter="overlayfs",kind="active"\\} 1`));
    await t.test('promtool accepts the exposition', { skip: missingTool('promtool') }, () => {
      const check = run('promtool', ['check', 'metrics'], { input: text });
      assert.equal(check.code, 0, check.stdout + check.stderr);
    });
  } finally {
    ctr(['tasks', 'kill', '-s', 'SIGKILL', 'metered']);
    for (let i = 0; i < 50 && /RUNNING/.test(ctr(['tasks', 'ls']).stdout); i++) await new Promise((r) => setTimeout(r, 100));
    ctr(['tasks', 'delete', 'metered']);
    ctr(['containers', 'rm', 'metered']);
    await d.dispose();
  }
});
