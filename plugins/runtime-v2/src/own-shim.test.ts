import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shimServerPaths } from '@ctrd/shim/address';
import { isOwnShim, ownShimLauncher, runningShimServer } from './own-shim.js';
import { shimServerStandIn } from './testing.js';

test('isOwnShim knows ctrd\'s launcher through a link and nothing else', (t) => {
  const launcher = ownShimLauncher();
  if (launcher === undefined) return t.skip('@ctrd/shim is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'own-shim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const link = join(dir, 'containerd-shim-ctrd-v1');
  symlinkSync(launcher, link);
  assert.equal(isOwnShim(link), true);
  assert.equal(isOwnShim(launcher), true);
  assert.equal(isOwnShim('/bin/sh'), false);
  assert.equal(isOwnShim(join(dir, 'missing')), false);
});

test('runningShimServer answers only for a live server with its socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'own-shim-run-'));
  const saved = process.env.CTRD_SHIM_RUN_DIR;
  process.env.CTRD_SHIM_RUN_DIR = dir;
  const server = net.createServer();
  t.after(() => {
    server.close();
    if (saved === undefined) delete process.env.CTRD_SHIM_RUN_DIR;
    else process.env.CTRD_SHIM_RUN_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(dir, { recursive: true });
  const paths = shimServerPaths('/run/ctrd-test.sock', 'ns1');
  assert.equal(runningShimServer('/run/ctrd-test.sock', 'ns1'), undefined, 'nothing there');
  await new Promise<void>((resolve) => server.listen(paths.socket, resolve));
  assert.equal(runningShimServer('/run/ctrd-test.sock', 'ns1'), undefined, 'a socket without a pid file');
  const serving = shimServerStandIn(paths.socket);
  t.after(() => serving.kill('SIGKILL'));
  writeFileSync(paths.pid, String(serving.pid));
  assert.equal(runningShimServer('/run/ctrd-test.sock', 'ns1'), paths.address);
  assert.equal(runningShimServer('/run/ctrd-test.sock', 'ns2'), undefined, 'another namespace has its own server');
  writeFileSync(paths.pid, String(process.pid));
  assert.equal(runningShimServer('/run/ctrd-test.sock', 'ns1'), undefined, 'a live pid of another process (a killed server\'s pid reused)');
  writeFileSync(paths.pid, '2147483646');
  assert.equal(runningShimServer('/run/ctrd-test.sock', 'ns1'), undefined, 'a dead pid');
});
