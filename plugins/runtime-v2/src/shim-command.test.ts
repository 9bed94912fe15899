import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { is, isDeadlineExceeded } from '@ctrd/errdefs';

const isUnknown = (e: unknown): boolean => is(e, 'UNKNOWN');
import { shimDelete, shimStart, type ShimCommand } from './shim-command.js';

function setup(t: { after(fn: () => void): void }, script: string): ShimCommand {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-shim-command-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, 'fake-shim');
  writeFileSync(binary, `#!/bin/sh\n${script}\n`);
  chmodSync(binary, 0o755);
  return {
    binary, namespace: 'ns', id: 'task', bundle: dir, address: '/run/ctrd.sock', ttrpcAddress: '/run/ctrd.sock.ttrpc',
    publishBinary: '/bin/true', timeoutMs: 5000,
  };
}

test('shimStart passes options on stdin, runs in the bundle with TTRPC_ADDRESS, and returns the printed address', async (t) => {
  const cmd = setup(t, 'opts=$(cat); echo "unix://$(pwd)/$opts/$TTRPC_ADDRESS/$*"');
  const address = await shimStart(cmd, Buffer.from('OPTS'));
  assert.equal(address, `unix://${cmd.bundle}/OPTS//run/ctrd.sock.ttrpc/-namespace ns -address /run/ctrd.sock -publish-binary /bin/true -id task start`);
});

test('shimStart gives the shim the idle time before a ctrd shim server exits, when one is set', async (t) => {
  const cmd = setup(t, 'echo "unix://${CTRD_SHIM_IDLE_EXIT_MS-unset}"');
  assert.equal(await shimStart({ ...cmd, idleExitMs: 2500 }, undefined), 'unix://2500');
  const saved = process.env.CTRD_SHIM_IDLE_EXIT_MS;
  delete process.env.CTRD_SHIM_IDLE_EXIT_MS;
  t.after(() => {
    if (saved !== undefined) process.env.CTRD_SHIM_IDLE_EXIT_MS = saved;
  });
  assert.equal(await shimStart(cmd, undefined), 'unix://unset');
});

test('a shim started by the daemon inherits none of its descriptors beyond stdio', async (t) => {
  const cmd = setup(t, 'ls /proc/$$/fd | sort -n | tr "\\n" " "');
  // dup() leaves close-on-exec off, as native libraries (LevelDB) leave their files.
  const dup = koffi.load('libc.so.6').func('int dup(int)') as (fd: number) => number;
  const file = openSync(join(cmd.bundle, 'held'), 'w');
  const leaked = dup(file);
  t.after(() => {
    closeSync(leaked);
    closeSync(file);
  });
  const listed = (await shimStart(cmd, undefined)).split(' ').map(Number);
  assert.deepEqual(listed.slice(0, 3), [0, 1, 2]);
  assert.ok(!listed.includes(leaked), `the shim inherited fd ${leaked}: ${listed.join(' ')}`);
});

test('a failing shim command reports its output and exit status', async (t) => {
  const cmd = setup(t, 'echo "no such task" >&2; exit 3');
  await assert.rejects(shimDelete(cmd), (e: Error) => isUnknown(e) && /no such task.*delete: exit 3/.test(e.message));
});

test('a shim command that does not finish in time is killed', async (t) => {
  const cmd = { ...setup(t, 'exec sleep 30'), timeoutMs: 200 };
  const started = Date.now();
  await assert.rejects(shimStart(cmd, undefined), isDeadlineExceeded);
  assert.ok(Date.now() - started < 5000);
});

test('a shim binary that cannot be run is an error', async (t) => {
  const cmd = { ...setup(t, ''), binary: join(tmpdir(), 'ctrd-no-such-shim') };
  await assert.rejects(shimStart(cmd, undefined), (e: Error) => isUnknown(e) && /ctrd-no-such-shim/.test(e.message));
});
