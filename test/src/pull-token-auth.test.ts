import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, type FixtureImage } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';
import { startTokenServer, type TokenServer } from '@ctrd/remotes-docker/testing';
import { publishImage, startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { CTRCTL, TestDaemon, missingTool, notRoot, type RunResult } from './harness.js';

const skip = missingTool('docker-registry', 'openssl', 'ctr') ?? notRoot();
const USER = 'bob:pa55word';

/** runAsync runs a command without blocking the event loop: the token server answers from this process. */
function runAsync(cmd: string, args: string[]): Promise<RunResult> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

const ctrctl = (d: TestDaemon, args: string[]): Promise<RunResult> => runAsync(CTRCTL, ['--address', d.address, ...args]);
const ctr = (d: TestDaemon, args: string[]): Promise<RunResult> => runAsync('ctr', ['--address', d.address, ...args]);

let tokens: TokenServer;
let reg: TestRegistry;
let srcDir: string;
let multi: FixtureImage;

before(async () => {
  if (skip) return;
  tokens = await startTokenServer({ username: 'bob', password: 'pa55word' });
  reg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile } });
  srcDir = mkdtempSync(join(tmpdir(), 'ctrd-token-src-'));
  const src = await createLocalStore(srcDir);
  multi = await buildBusyboxImage(src, { layers: 'multi' });
  const resolver = createDockerResolver({ credentials: () => ({ username: 'bob', password: 'pa55word' }) });
  try {
    await publishImage(src, multi, await resolver.pusher(`${reg.addr}/private/multi:v1`));
  } finally {
    await resolver.close();
  }
});

after(async () => {
  if (skip) return;
  await reg.stop();
  await tokens.stop();
  rmSync(srcDir, { recursive: true, force: true });
});

test('the token-auth registry answers 401 to a client without a token', { skip }, async () => {
  const r = await fetch(`http://${reg.addr}/v2/private/multi/manifests/v1`);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate') ?? '', /Bearer realm=.*scope="repository:private\/multi:pull"/);
});

test('ctrctl pull and push through a token-auth registry need the credentials', { skip }, async () => {
  const d = await TestDaemon.start();
  try {
    const ref = `${reg.addr}/private/multi:v1`;
    const anonymous = await ctrctl(d, ['pull', ref]);
    assert.notEqual(anonymous.code, 0, 'a pull without credentials fails');
    assert.match(anonymous.stderr, /401|unauthori[sz]ed|permission denied/i);
    const wrong = await ctrctl(d, ['pull', '--user', 'bob:wrong', ref]);
    assert.notEqual(wrong.code, 0, 'a pull with a wrong password fails');

    const pulled = await ctrctl(d, ['pull', '--user', USER, ref]);
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    const n = multi.layers.length + 1;
    assert.match(d.ctr(['images', 'check']).stdout, new RegExp(`complete \\(${n}/${n}\\)`));
    assert.ok(tokens.requests.some((r) => r.user === 'bob' && r.scope.includes('repository:private/multi:pull')));

    const copy = `${reg.addr}/private/copy:v1`;
    const denied = await ctrctl(d, ['push', copy, ref]);
    assert.notEqual(denied.code, 0, 'a push without credentials fails');
    const pushed = await ctrctl(d, ['push', '--user', USER, copy, ref]);
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    assert.match(pushed.stdout, /transferred of/);
    const resolver = createDockerResolver({ credentials: () => ({ username: 'bob', password: 'pa55word' }) });
    try {
      assert.equal((await resolver.resolve(copy)).descriptor.digest, multi.target.digest);
    } finally {
      await resolver.close();
    }
  } finally {
    await d.dispose();
  }
});

test('ctr images pull --user (client-side) through a token-auth registry into ctrd', { skip }, async () => {
  const d = await TestDaemon.start();
  try {
    const ref = `${reg.addr}/private/multi:v1`;
    const anonymous = await ctr(d, ['images', 'pull', '--plain-http', ref]);
    assert.notEqual(anonymous.code, 0);
    const pulled = await ctr(d, ['images', 'pull', '--plain-http', '--user', USER, ref]);
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    assert.match(d.ctr(['images', 'ls', '-q']).stdout, new RegExp(ref.replace(/[.]/g, '\\.')));
  } finally {
    await d.dispose();
  }
});
