import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBusybox } from '@ctrd/images/fixtures';
import { fieldString, leanCall, leanSession, leanUnary } from '@ctrd/cli/lean-grpc';
import { IMAGES_LIST, decodeListImagesResponse, encodeListImagesRequest } from '@ctrd/cli/images-ls-wire';
import { missingTool, notRoot, run, shimServerPids, waitFor, which, writeBusyboxArchive, type RunResult } from './harness.js';

// containerd itself (Debian's 1.6) running tasks on ctrd's shim: the shim speaks runtime v2 to
// the real thing, not only to ctrd.
const RUNTIME = 'io.containerd.ctrd.v1';
const SHIM = 'containerd-shim-ctrd-v1';
const NS = 'ctrd-shim-test';

function busybox(): string | undefined {
  try {
    return findBusybox();
  } catch {
    return undefined;
  }
}

function skipReason(): string | undefined {
  const reason = missingTool('ctr', 'containerd', 'runc') ?? notRoot() ?? (busybox() ? undefined : 'busybox-static not installed');
  if (reason) return reason;
  if (!which(SHIM)) return `${SHIM} is not on PATH (node scripts/setup.mjs links it into /usr/local/bin)`;
  return undefined;
}

const skip = skipReason();
if (skip) process.stdout.write(`# containerd-shim: skipped: ${skip}\n`);

describe('containerd runs tasks on io.containerd.ctrd.v1', { skip }, () => {
  let dir: string;
  let rootfs: string;
  let address: string;
  let proc: ChildProcess | undefined;
  const ctr = (args: string[]): RunResult => run('ctr', ['--address', address, '--namespace', NS, ...args]);
  const ok = (r: RunResult) => {
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  // ctr gives a --rootfs container no PATH (there is no image config): commands are absolute.
  const log = () => readFileSync(join(dir, 'containerd.log'), 'utf8').split('\n').slice(-20).join('\n');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctrd-containerd-'));
    address = join(dir, 'containerd.sock');
    rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d));
    copyFileSync(busybox()!, join(rootfs, 'bin', 'busybox'));
    for (const applet of ['sh', 'echo', 'sleep', 'true', 'cat']) symlinkSync('busybox', join(rootfs, 'bin', applet));
    const toml = [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `address = ${JSON.stringify(address)}`,
      '[debug]',
      'level = "debug"',
      '',
    ].join('\n');
    await writeFile(join(dir, 'config.toml'), toml);
    // The log goes to a file: a pipe nobody drains would stall containerd.
    const out = openSync(join(dir, 'containerd.log'), 'a');
    proc = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
    closeSync(out);
    await waitFor('containerd to answer', () => proc!.exitCode === null && run('ctr', ['--address', address, 'version']).code === 0, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${log()}`);
    });
  });

  after(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    // Our shim server lingers after its last task; nothing else will talk to it now.
    if (address) for (const pid of shimServerPids(address)) process.kill(pid, 'SIGKILL');
    if (dir) {
      spawnSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('run --rm --rootfs prints hello and the exit code comes back', () => {
    assert.equal(ok(ctr(['run', '--rm', '--runtime', RUNTIME, '--rootfs', rootfs, 'hello', '/bin/echo', 'hello'])), 'hello\n', log());
    const r = ctr(['run', '--rm', '--runtime', RUNTIME, '--rootfs', rootfs, 'exits', '/bin/sh', '-c', 'exit 5']);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(ok(ctr(['containers', 'ls', '-q'])).trim(), '');
  });

  test('run -d, tasks ls/exec/kill/delete through containerd', async () => {
    ok(ctr(['run', '-d', '--runtime', RUNTIME, '--rootfs', rootfs, 'bg', '/bin/sleep', '1000']));
    assert.match(ok(ctr(['tasks', 'ls'])), /bg\s+\d+\s+RUNNING/);
    assert.equal(ok(ctr(['tasks', 'exec', '--exec-id', 'e1', 'bg', '/bin/echo', 'from-exec'])), 'from-exec\n');
    assert.equal(shimServerPids(address).length, 1, 'one shim server for the namespace');
    ok(ctr(['tasks', 'kill', '-s', 'SIGKILL', 'bg']));
    await waitFor('bg to stop', () => /bg\s+\d+\s+STOPPED/.test(ctr(['tasks', 'ls']).stdout), 10_000);
    ok(ctr(['tasks', 'delete', 'bg']));
    ok(ctr(['containers', 'rm', 'bg']));
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(` ${dir}/state/\\S*/bg/rootfs `), 'rootfs unmounted');
  });

  // ctrctl's own HTTP/2 client (version, images ls) against Go's HTTP/2 server and HPACK encoder,
  // not only Node's: no fallback to the full client is involved here.
  test("ctrctl's lean HTTP/2 calls read containerd's answers", async () => {
    const name = 'docker.io/library/busybox:lean';
    ok(ctr(['images', 'import', await writeBusyboxArchive(dir, name)]));
    const session = await leanSession(address);
    try {
      const [version, images] = await Promise.all([
        leanUnary(session, '/containerd.services.version.v1.Version/Version', new Uint8Array(0)),
        leanCall(session, IMAGES_LIST, encodeListImagesRequest([]), { namespace: NS }),
      ]);
      const server = ok(ctr(['version'])).split('Server:')[1] ?? '';
      assert.ok(fieldString(version, 1) !== '' && server.includes(`Version:  ${fieldString(version, 1)}\n`), server);
      assert.deepEqual(decodeListImagesResponse(images[0]!).map((i) => i.name), [name]);
      // Many calls on one connection: the server's dynamic header table in use throughout.
      const again = await Promise.all(Array.from({ length: 50 }, () => leanUnary(session, '/containerd.services.version.v1.Version/Version', new Uint8Array(0))));
      assert.ok(again.every((f) => fieldString(f, 1) === fieldString(version, 1)));
    } finally {
      session.close();
    }
  });
});
