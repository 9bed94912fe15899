import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, type FixtureImage } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { CountingProxy, publishImage, startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { CTRCTL, TestDaemon, missingTool, notRoot, run } from './harness.js';

const skip = missingTool('docker-registry', 'ctr') ?? notRoot();

let reg: TestRegistry;
let srcDir: string;
let multi: FixtureImage;
let big: FixtureImage;

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  srcDir = mkdtempSync(join(tmpdir(), 'ctrd-pull-src-'));
  const src = await createLocalStore(srcDir);
  const resolver = createDockerResolver();
  multi = await buildBusyboxImage(src, { layers: 'multi' });
  await publishImage(src, multi, await resolver.pusher(`${reg.addr}/ctrd/multi:v1`));
  big = await buildBusyboxImage(src, { layers: 'big', bigSize: 40 << 20, gzipLevel: 1 });
  await publishImage(src, big, await resolver.pusher(`${reg.addr}/ctrd/big:v1`));
  await resolver.close();
});

after(async () => {
  if (skip) return;
  await reg.stop();
  rmSync(srcDir, { recursive: true, force: true });
});

/** ctrctl runs ctrctl without blocking the event loop (the proxy runs in this process). */
function ctrctl(d: TestDaemon, args: string[]): { done: Promise<{ code: number | null; out: string }>; kill(): void } {
  const child = spawn(CTRCTL, ['--address', d.address, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.once('close', (code) => resolve({ code, out })));
  return { done, kill: () => child.kill('SIGKILL') };
}

test('ctrctl pull, push and fetch against a local registry', { skip }, async () => {
  const d = await TestDaemon.start();
  try {
    const ref = `${reg.addr}/ctrd/multi:v1`;
    const started = Date.now();
    const r = await ctrctl(d, ['pull', ref]).done;
    const ms = Date.now() - started;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /done: /);
    assert.match(r.out, /layer-[0-9a-f]{12}: done/);
    console.log(`# ctrctl pull of the multi fixture through ctrd: ${ms} ms`);

    const check = d.ctr(['images', 'check']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, new RegExp(`${ref.replace(/[.]/g, '\\.')}.*complete \\(${multi.layers.length + 1}/${multi.layers.length + 1}\\).*true`));

    const copy = `${reg.addr}/ctrd/copy:v1`;
    const pushed = await ctrctl(d, ['push', copy, ref]).done;
    assert.equal(pushed.code, 0, pushed.out);
    const resolver = createDockerResolver();
    assert.equal((await resolver.resolve(copy)).descriptor.digest, multi.target.digest);
    await resolver.close();
    const again = await ctrctl(d, ['push', copy, ref]).done;
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /layer-[0-9a-f]{12}: exists/);

    const fetched = await ctrctl(d, ['-n', 'fetched', 'fetch', copy]).done;
    assert.equal(fetched.code, 0, fetched.out);
    assert.equal(d.ctr(['images', 'ls', '-q'], { namespace: 'fetched' }).stdout.trim(), copy);
    assert.match(d.ctr(['images', 'check'], { namespace: 'fetched' }).stdout, /complete.*false/);
    assert.match(d.ctr(['content', 'ls', '-q'], { namespace: 'fetched' }).stdout, new RegExp(multi.layers[2]!.digest));
  } finally {
    await d.dispose();
  }
});

/** ctrAsync runs containerd's ctr without blocking the event loop (the counting proxy runs in this process). */
function ctrAsync(d: TestDaemon, args: string[], namespace?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const ns = namespace ? ['--namespace', namespace] : [];
  const child = spawn('ctr', ['--address', d.address, ...ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const blobGets = (proxy: CountingProxy): number => [...proxy.gets.values()].reduce((a, n) => a + n, 0);

for (const snapshotter of ['overlayfs', 'native']) {
  test(`ctr images pull --plain-http (client-side) unpacks into ${snapshotter}`, { skip }, async (t) => {
    const proxy = new CountingProxy(reg.addr);
    await proxy.start();
    const d = await TestDaemon.start();
    try {
      const plugins = d.ctr(['plugins', 'ls']).stdout;
      // Client-side pull applies layers through the Diff service; a daemon without one cannot serve it.
      if (!/io\.containerd\.grpc\.v1\s+diff\s+\S+\s+ok/.test(plugins)) {
        t.skip('the daemon carries no Diff service');
        return;
      }
      const ref = `${proxy.addr}/ctrd/multi:v1`;
      const pull = await ctrAsync(d, ['images', 'pull', '--plain-http', '--snapshotter', snapshotter, ref]);
      assert.equal(pull.code, 0, pull.stdout + pull.stderr);
      for (const l of multi.layers) assert.equal(proxy.getCount(l.digest), 1, `layer ${l.digest} fetched once`);

      const check = d.ctr(['images', 'check', '--snapshotter', snapshotter]);
      assert.equal(check.code, 0, check.stderr);
      const n = multi.layers.length + 1;
      assert.match(check.stdout, new RegExp(`complete \\(${n}/${n}\\).*true`));
      assert.match(d.ctr(['snapshots', '--snapshotter', snapshotter, 'ls']).stdout, new RegExp(multi.chainIds[multi.chainIds.length - 1]!));

      // The unpacked tree, read through a mount of the image's snapshot. (Read through a
      // container's stdout it depended on containerd's runc shim delivering the output of a
      // process that exits at once, which it now and then does not: concourse/concourse#6775.)
      const target = join(d.dir, `mnt-${snapshotter}`);
      mkdirSync(target);
      const mounted = d.ctr(['images', 'mount', '--snapshotter', snapshotter, ref, target]);
      assert.equal(mounted.code, 0, mounted.stderr);
      try {
        assert.equal(readFileSync(join(target, 'etc/fixture/added'), 'utf8'), 'replaced in layer 3\n');
        assert.equal(readFileSync(join(target, 'etc/fixture/layer3'), 'utf8'), 'layer 3\n');
        assert.equal(existsSync(join(target, 'etc/fixture/deleted')), false);
        assert.deepEqual(readdirSync(join(target, 'etc/fixture')).sort(), ['added', 'kept', 'layer3', 'opaque']);
      } finally {
        d.ctr(['images', 'unmount', '--rm', target]);
      }
      if (!missingTool('runc', 'containerd-shim-runc-v2')) {
        // And a container runs from it.
        const run = d.ctr(['run', '--rm', '--snapshotter', snapshotter, ref, 'pulled', 'test', '-s', '/etc/fixture/layer3']);
        assert.equal(run.code, 0, run.stderr);
      }

      const before = blobGets(proxy);
      const again = await ctrAsync(d, ['images', 'pull', '--plain-http', '--snapshotter', snapshotter, ref]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal(blobGets(proxy) - before, 0, 'a second pull downloads no blob');
    } finally {
      await d.dispose();
      await proxy.stop();
    }
  });
}

test('ctr content fetch stores the content without unpacking', { skip }, async () => {
  const d = await TestDaemon.start();
  try {
    const ref = `${reg.addr}/ctrd/multi:v1`;
    const fetched = d.ctr(['content', 'fetch', '--plain-http', ref], { namespace: 'fetched' });
    assert.equal(fetched.code, 0, fetched.stdout + fetched.stderr);
    const content = d.ctr(['content', 'ls', '-q'], { namespace: 'fetched' }).stdout;
    for (const l of multi.layers) assert.match(content, new RegExp(l.digest));
    assert.match(content, new RegExp(multi.manifests[0]!.configDesc.digest));
    assert.equal(d.ctr(['snapshots', 'ls'], { namespace: 'fetched' }).stdout.split('\n').filter(Boolean).length, 1, 'no snapshot besides the header');
    assert.match(d.ctr(['images', 'check'], { namespace: 'fetched' }).stdout, /complete.*false/);
  } finally {
    await d.dispose();
  }
});

test('ctr images push --plain-http uploads an image the registry then resolves', { skip }, async () => {
  const d = await TestDaemon.start();
  try {
    const ref = `${reg.addr}/ctrd/multi:v1`;
    const pulled = d.ctr(['images', 'pull', '--plain-http', ref]);
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    const remote = `${reg.addr}/ctrd/ctr-pushed:v2`;
    const pushed = d.ctr(['images', 'push', '--plain-http', remote, ref]);
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    const resolver = createDockerResolver();
    try {
      assert.equal((await resolver.resolve(remote)).descriptor.digest, multi.target.digest);
    } finally {
      await resolver.close();
    }
    const again = d.ctr(['images', 'push', '--plain-http', remote, ref]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  } finally {
    await d.dispose();
  }
});

test('fetch-object prints one object of a remote image and stores nothing', { skip }, async () => {
  const proxy = new CountingProxy(reg.addr);
  await proxy.start();
  const d = await TestDaemon.start();
  try {
    const ref = `${proxy.addr}/ctrd/multi:v1`;
    const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const layer = multi.layers[1]!;
    const blob = await ctrctlBytes(d, ['fetch-object', ref, layer.digest]);
    assert.equal(blob.code, 0, blob.err);
    assert.equal(blob.out.length, layer.size);
    assert.equal(sha(blob.out), layer.digest);
    assert.equal(proxy.getCount(layer.digest), 1);
    const root = await ctrctlBytes(d, ['fetch-object', ref]);
    assert.equal(root.code, 0, root.err);
    assert.equal(sha(root.out), multi.target.digest);
    const missing = await ctrctlBytes(d, ['fetch-object', ref, `sha256:${'0'.repeat(64)}`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /could not fetch content descriptor sha256:0{64}/);
    assert.equal(d.ctr(['content', 'ls', '-q']).stdout.trim(), '', 'nothing reaches the content store');
    // containerd's own fetch-object prints the resolved root.
    const ctr = run('ctr', ['--address', d.address, 'content', 'fetch-object', '--plain-http', `${reg.addr}/ctrd/multi:v1`]);
    assert.equal(ctr.code, 0, ctr.stderr);
    assert.equal(sha(Buffer.from(ctr.stdout, 'latin1')), multi.target.digest);
  } finally {
    await d.dispose();
    await proxy.stop();
  }
});

/** ctrctlBytes runs ctrctl asynchronously and keeps its stdout as bytes. */
function ctrctlBytes(d: TestDaemon, args: string[]): Promise<{ code: number | null; out: Buffer; err: string }> {
  const child = spawn(CTRCTL, ['--address', d.address, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out: Buffer.concat(out), err })));
}

test('a pull killed with the daemon resumes after a restart', { skip }, async () => {
  const proxy = new CountingProxy(reg.addr);
  await proxy.start();
  const d = await TestDaemon.start();
  try {
    const ref = `${proxy.addr}/ctrd/big:v1`;
    const layerBytes = big.layers.reduce((a, l) => a + l.size, 0);
    for (const l of big.layers) proxy.slow.set(l.digest, 3);
    const served = () => big.layers.reduce((a, l) => a + (proxy.served.get(l.digest) ?? 0), 0);
    const first = ctrctl(d, ['pull', '--max-concurrent-downloads', '2', ref]);
    while (served() < layerBytes / 2) await new Promise((r) => setTimeout(r, 20));
    await d.stop('SIGKILL');
    first.kill();
    await first.done;
    const before = served();
    proxy.slow.clear();
    await d.boot();
    // What the daemon kept, not what the proxy sent: bytes still in socket buffers at the kill never arrived.
    const active = JSON.parse(d.ctrctl(['--format', 'json', 'content', 'active']).stdout || '[]') as Array<{ offset: number | string }>;
    const committed = new Set(d.ctr(['content', 'ls', '-q']).stdout.split('\n'));
    const stored = active.reduce((a, s) => a + Number(s.offset), 0) + big.layers.filter((l) => committed.has(l.digest)).reduce((a, l) => a + l.size, 0);
    assert.ok(stored > 0, 'the killed pull left partial content to resume from');
    const second = await ctrctl(d, ['pull', ref]).done;
    assert.equal(second.code, 0, second.out);
    const again = served() - before;
    assert.ok(again <= layerBytes - stored + (1 << 20), `second pull fetched ${again} bytes; ${layerBytes - stored} were missing (${layerBytes - before} not yet sent)`);
    const check = d.ctr(['images', 'check']);
    assert.match(check.stdout, /complete/);
  } finally {
    await d.dispose();
    await proxy.stop();
  }
});
