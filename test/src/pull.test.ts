import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, type FixtureImage } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { CountingProxy, publishImage, startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { CTRCTL, TestDaemon, missingTool, notRoot } from './harness.js';

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
  const child = spawn(process.execPath, [CTRCTL, '--address', d.address, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

test('ctr images pull (client-side) works against ctrd', { skip }, async (t) => {
  const d = await TestDaemon.start();
  try {
    const plugins = d.ctr(['plugins', 'ls']).stdout;
    if (!/io\.containerd\.grpc\.v1\s+diff\s+\S+\s+ok/.test(plugins)) {
      t.skip('the daemon carries no Diff service (walking differ not loaded)');
      return;
    }
    const ref = `${reg.addr}/ctrd/multi:v1`;
    // containerd's own client-side pull, through the content, images, snapshots and diff services.
    const ctr = d.ctr(['images', 'pull', '--plain-http', ref]);
    assert.equal(ctr.code, 0, ctr.stdout + ctr.stderr);
    const check = d.ctr(['images', 'check']);
    assert.match(check.stdout, new RegExp(`complete \\(${multi.layers.length + 1}/${multi.layers.length + 1}\\).*true`));
  } finally {
    await d.dispose();
  }
});

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
    const second = await ctrctl(d, ['pull', ref]).done;
    assert.equal(second.code, 0, second.out);
    const again = served() - before;
    assert.ok(again <= layerBytes - before + (1 << 20), `second pull fetched ${again} bytes; ${layerBytes - before} were missing`);
    const check = d.ctr(['images', 'check']);
    assert.match(check.stdout, /complete/);
  } finally {
    await d.dispose();
    await proxy.stop();
  }
});
