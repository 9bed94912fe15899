import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Options as RuncOptions } from '@ctrd/api/gen/containerd/runtime/v2/runc/options/oci.js';
import { resolveShimBinary, shimBinaryName } from './shim-binary-path.js';
import { runcOptionsFromConfig } from './runtime-options.js';

test('shimBinaryName maps runtime names as containerd does', () => {
  assert.equal(shimBinaryName('io.containerd.runc.v2'), 'containerd-shim-runc-v2');
  assert.equal(shimBinaryName('io.containerd.ctrd.v1'), 'containerd-shim-ctrd-v1');
  assert.equal(shimBinaryName('runc'), undefined);
});

test('resolveShimBinary searches PATH, then extra dirs, and honours the runtimes table', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtv2-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const shim = join(dir, 'containerd-shim-foo-v1');
  writeFileSync(shim, '#!/bin/sh\n');
  chmodSync(shim, 0o755);
  assert.equal(resolveShimBinary('io.containerd.foo.v1', { path: dir }), shim);
  assert.equal(resolveShimBinary('io.containerd.foo.v1', { path: '', extraDirs: [dir] }), shim);
  assert.equal(resolveShimBinary('custom', { path: dir, runtimes: { custom: { binary: 'containerd-shim-foo-v1' } } }), shim);
  assert.equal(resolveShimBinary(shim), shim);
  assert.throws(() => resolveShimBinary('io.containerd.bar.v1', { path: dir }), (e: Error) => e.name === 'NotFoundError' && /containerd-shim-bar-v1/.test(e.message));
  assert.throws(() => resolveShimBinary('runc', { path: dir }), (e: Error) => e.name === 'InvalidArgumentError');
  assert.throws(() => resolveShimBinary(''), (e: Error) => e.name === 'InvalidArgumentError');
});

test('runcOptionsFromConfig encodes containerd.runc.v1.Options', () => {
  assert.equal(runcOptionsFromConfig({}), undefined);
  const any = runcOptionsFromConfig({ binary_name: '/usr/sbin/runc', systemd_cgroup: 'true', io_uid: '7' })!;
  assert.equal(any.typeUrl, 'containerd.runc.v1.Options');
  const o = RuncOptions.decode(any.value);
  assert.equal(o.binaryName, '/usr/sbin/runc');
  assert.equal(o.systemdCgroup, true);
  assert.equal(o.ioUid, 7);
  assert.throws(() => runcOptionsFromConfig({ nope: 'x' }), /unknown runtime option/);
  assert.throws(() => runcOptionsFromConfig({ systemd_cgroup: 'yes' }), /must be "true" or "false"/);
});
