import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { TestDaemon, missingTool, run } from './harness.js';

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
    assert.equal(d.ctr(['version']).code, 0);
    assert.equal(d.ctr(['namespaces', 'create', 'metrics-ns']).code, 0);
    const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /grpc_server_handled_total\{grpc_service="containerd\.services\.version\.v1\.Version",grpc_method="Version",grpc_code="OK"\} [1-9]/);
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
