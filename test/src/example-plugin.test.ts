import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RemoteSnapshotter } from '@ctrd/client';
import { snapshotterSuite } from '@ctrd/plugin-sdk/testsuite';
import { NO_AUTO_GC, TestDaemon, TOP, missingTool } from './harness.js';

// The example snapshotter (examples/snapshotter-example) in a real ctrd, both ways a vendor can
// ship one: loaded in-process from its npm package, and served out of process as a proxy plugin.
// Each way the conformance suite runs through the daemon's Snapshots service, one namespace per case.

const SERVE = join(TOP, 'examples', 'snapshotter-example', 'dist', 'bin', 'serve.js');

/** startServer runs the example's proxy server and waits until it says it is listening. */
async function startServer(root: string, address: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [SERVE, '--root', root, '--address', address], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example server did not start:\n${output}`)), 20_000);
    proc.stdout!.on('data', (b) => {
      output += b;
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.stderr!.on('data', (b) => (output += b));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example server exited with ${code}:\n${output}`));
    });
  });
  return proc;
}

async function stopServer(proc: ChildProcess | undefined): Promise<number | null> {
  if (!proc || proc.exitCode !== null) return proc?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  return exited;
}

/** throughDaemon checks ctr against the daemon, then runs the suite through its Snapshots service. */
function throughDaemon(mode: string, snapshotter: string, daemon: () => TestDaemon): void {
  test(`ctr plugins ls shows it and ctr snapshots --snapshotter ${snapshotter} works`, { skip: missingTool('ctr') }, () => {
    const d = daemon();
    const ls = d.ctr(['plugins', 'ls', 'type==io.containerd.snapshotter.v1']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`io\\.containerd\\.snapshotter\\.v1\\s+${snapshotter}\\s+\\S+\\s+ok`));
    const ns = `ctr-${mode}`;
    for (const args of [['prepare', 'work'], ['commit', 'base', 'work'], ['view', 'look', 'base']]) {
      const r = d.ctr(['snapshots', '--snapshotter', snapshotter, ...args], { namespace: ns });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const listed = d.ctr(['snapshots', '--snapshotter', snapshotter, 'ls'], { namespace: ns });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /base\s+Committed/);
    assert.match(listed.stdout, /look\s+base\s+View/);
    const mounts = d.ctr(['snapshots', '--snapshotter', snapshotter, 'mounts', '/mnt', 'look'], { namespace: ns });
    assert.match(mounts.stdout, /^mount -t bind \S+\/trees\/\d+ \/mnt -o rbind,ro$/m);
  });

  let n = 0;
  // The backend passes the full-depth stack in its own run; here the point is the transport, so
  // the deep-stack case stacks 16 layers unless CTRD_STRESS asks for containerd's 128.
  snapshotterSuite(`example through ctrd (${mode})`, async () => {
    const conn = connect(daemon().address, { namespace: `suite-${mode}-${++n}` });
    return { snapshotter: new RemoteSnapshotter(conn, snapshotter), cleanup: async () => conn.close() };
  }, { layerCount: process.env.CTRD_STRESS ? undefined : 16 });
}

// Both daemons run with NO_AUTO_GC: ctr's `snapshots view` makes a snapshot no GC root holds.
describe('example snapshotter as an npm-package plugin', () => {
  let d: TestDaemon | undefined;
  before(async () => {
    d = await TestDaemon.start({ toml: `plugins_packages = ["ctrd-snapshotter-example"]\n${NO_AUTO_GC}` });
  });
  after(() => d?.dispose());
  throughDaemon('package', 'example', () => d!);
});

describe('example snapshotter as a proxy plugin', () => {
  let d: TestDaemon | undefined;
  let dir = '';
  let server: ChildProcess | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctrd-example-proxy-'));
    const address = join(dir, 'example.sock');
    server = await startServer(join(dir, 'root'), address);
    d = await TestDaemon.start({ toml: `${NO_AUTO_GC}[proxy_plugins.example]\ntype = "snapshot"\naddress = ${JSON.stringify(address)}\n` });
  });
  after(async () => {
    await d?.dispose();
    assert.equal(await stopServer(server), 0, 'the example server stops cleanly on SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });
  throughDaemon('proxy', 'example', () => d!);
});
