import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveContentStore, serveSnapshotter, type PluginServer } from '@ctrd/plugin-sdk';
import { createMemoryContent } from '@ctrd/plugin-sdk/testsuite';
import { createCopySnapshotter, type CopySnapshotter } from 'ctrd-snapshotter-example';
import { NO_AUTO_GC, TestDaemon, missingTool, type RunResult } from './harness.js';

// The daemons here run with NO_AUTO_GC: ctr's snapshots prepare and content ingest take no lease,
// so what the tests hold is referenced by no GC root.

// The proxy servers here run in this process, so ctr must not block it: run it asynchronously.
function ctr(d: TestDaemon, args: string[], opts: { namespace?: string; input?: string } = {}): Promise<RunResult> {
  const ns = opts.namespace ? ['--namespace', opts.namespace] : [];
  return new Promise((resolve) => {
    const p = spawn('ctr', ['--address', d.address, ...ns, ...args], { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (b) => (stdout += b));
    p.stderr!.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // ctr may exit before reading all of its input; that is its answer, not a test failure.
    p.stdin?.on('error', () => {});
    p.stdin?.end(opts.input);
  });
}

interface Served {
  server: PluginServer;
  calls: Array<[string, string | undefined]>;
  close(): Promise<void>;
}

async function serveExample(dir: string, socket = join(dir, 'proxy', 'snapshots.sock')): Promise<Served & { sn: CopySnapshotter }> {
  const sn = await createCopySnapshotter(join(dir, 'backend'));
  const calls: Array<[string, string | undefined]> = [];
  const server = await serveSnapshotter(sn, socket, { onCall: (m, ns) => calls.push([m.split('/').pop()!, ns]) });
  return { sn, server, calls, close: async () => (await server.close(), await sn.close()) };
}

test('a snapshot proxy plugin lists in ctr plugins ls and serves ctr snapshots, forwarding the namespace', { skip: missingTool('ctr') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-proxy-test-'));
  const served = await serveExample(dir);
  const d = await TestDaemon.create({ toml: `${NO_AUTO_GC}[proxy_plugins.remote]\ntype = "snapshot"\naddress = ${JSON.stringify(served.server.address)}\n` });
  try {
    await d.boot();
    const ls = await ctr(d, ['plugins', 'ls', 'type==io.containerd.snapshotter.v1']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /io\.containerd\.snapshotter\.v1\s+remote\s+linux\/\w+\s+ok/);
    const detailed = await ctr(d, ['plugins', 'ls', '--detailed', 'id==remote']);
    assert.match(detailed.stdout, new RegExp(`address\\s+${served.server.address.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

    const prep = await ctr(d, ['snapshots', '--snapshotter', 'remote', 'prepare', 'work-1'], { namespace: 'team-a' });
    assert.equal(prep.code, 0, prep.stderr);
    const commit = await ctr(d, ['snapshots', '--snapshotter', 'remote', 'commit', 'layer-1', 'work-1'], { namespace: 'team-a' });
    assert.equal(commit.code, 0, commit.stderr);
    const listed = await ctr(d, ['snapshots', '--snapshotter', 'remote', 'ls'], { namespace: 'team-a' });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /layer-1\s+Committed/);
    const other = await ctr(d, ['snapshots', '--snapshotter', 'remote', 'ls'], { namespace: 'team-b' });
    assert.doesNotMatch(other.stdout, /layer-1/, 'namespaces stay apart');

    const prepares = served.calls.filter(([m]) => m === 'Prepare' || m === 'Commit');
    assert.deepEqual(prepares.map(([, ns]) => ns), ['team-a', 'team-a'], 'the caller\'s namespace is forwarded');
    let backendKeys = 0;
    await served.sn.walk(() => void backendKeys++);
    assert.equal(backendKeys, 1, 'the snapshot lives in the out-of-process backend');

    const removed = await ctr(d, ['snapshots', '--snapshotter', 'remote', 'rm', 'layer-1'], { namespace: 'team-a' });
    assert.equal(removed.code, 0, removed.stderr);
  } finally {
    await d.dispose();
    await served.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a proxy plugin whose server is down still loads; its calls fail Unavailable until the server is up', { skip: missingTool('ctr') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-proxy-test-'));
  const socket = join(dir, 'later.sock');
  let served: Awaited<ReturnType<typeof serveExample>> | undefined;
  const d = await TestDaemon.create({ toml: `${NO_AUTO_GC}[proxy_plugins.later]\ntype = "snapshot"\naddress = ${JSON.stringify(socket)}\n` });
  try {
    await d.boot();
    const ls = await ctr(d, ['plugins', 'ls', 'id==later']);
    assert.match(ls.stdout, /later\s+\S+\s+ok/);
    const prep = await ctr(d, ['snapshots', '--snapshotter', 'later', 'prepare', 'k']);
    assert.notEqual(prep.code, 0);
    assert.match(prep.stderr, /unavailable|connect/i);

    served = await serveExample(dir, socket);
    let again: RunResult | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      again = await ctr(d, ['snapshots', '--snapshotter', 'later', 'prepare', 'k']);
      if (again.code === 0) break;
    }
    assert.equal(again?.code, 0, again?.stderr);
    assert.equal(served.calls.filter(([m]) => m === 'Prepare').length, 1);
  } finally {
    await d.dispose();
    await served?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a content proxy plugin replaces the local store when that is disabled', { skip: missingTool('ctr') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-proxy-test-'));
  const calls: Array<string | undefined> = [];
  const server = await serveContentStore(createMemoryContent().namespace('remote'), join(dir, 'content.sock'), { onCall: (_m, ns) => calls.push(ns) });
  const d = await TestDaemon.create({
    toml: `disabled_plugins = ["io.containerd.content.v1.content"]\n${NO_AUTO_GC}[proxy_plugins.blobs]\ntype = "content"\naddress = ${JSON.stringify(server.address)}\n`,
  });
  try {
    await d.boot();
    const ls = await ctr(d, ['plugins', 'ls', 'type==io.containerd.content.v1']);
    assert.match(ls.stdout, /io\.containerd\.content\.v1\s+blobs\s+\S+\s+ok/);
    assert.doesNotMatch(ls.stdout, /\scontent\s+\S+\s+ok/);
    const ingest = await ctr(d, ['content', 'ingest', 'upload-1'], { input: 'hello proxy', namespace: 'team-c' });
    assert.equal(ingest.code, 0, ingest.stderr);
    const digest = 'sha256:' + createHash('sha256').update('hello proxy').digest('hex');
    const listed = await ctr(d, ['content', 'ls'], { namespace: 'team-c' });
    assert.match(listed.stdout, new RegExp(digest.slice(7)));
    const got = await ctr(d, ['content', 'get', digest], { namespace: 'team-c' });
    assert.equal(got.stdout, 'hello proxy');
    assert.ok(calls.includes('team-c'), 'the ingest forwarded its namespace');
  } finally {
    await d.dispose();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('ctrd refuses a proxy plugin of an unknown type and a timeout that is not a duration, naming them', async () => {
  for (const [toml, want] of [
    ['[proxy_plugins.odd]\ntype = "diff"\naddress = "/run/odd.sock"\n', /proxy_plugins\.odd/],
    ['[timeouts]\n"io.containerd.timeout.shim.load" = "soon"\n', /io\.containerd\.timeout\.shim\.load/],
  ] as const) {
    const d = await TestDaemon.create({ toml });
    try {
      await d.boot({ wait: false });
      assert.notEqual(await d.exit, 0);
      assert.match(d.output, want);
    } finally {
      await d.dispose();
    }
  }
});
